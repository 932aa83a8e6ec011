"""Words of the app that are too many for ui/i18n.py, by subject: import refusals and row problems
(`refusals`), metric names and definitions (`metrics`). ui/i18n.py stays the one door: `t`,
`refusal_text`, `issue_reason`, `kpi_label`..."""
