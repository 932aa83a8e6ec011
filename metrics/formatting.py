"""Numbers for people: thousands separators, currency symbols, percentages, by locale.

Formats follow the metric's `kind` (see metrics.definitions); Babel supplies the locale rules.
The two unit words (days, percentage points) are English here, for the command line; the screens
pass their own words (ui.formatting, from ui/i18n.py).
"""

import math

from babel.numbers import format_compact_decimal, format_decimal, get_currency_precision, get_currency_symbol

LOCALES = {"en": "en_US", "zh": "zh_CN"}
# The symbol people of the currency's home market write (¥ for yuan, not CN¥), in any language.
HOME_LOCALES = {"CNY": "zh_CN", "JPY": "ja_JP", "HKD": "zh_HK", "TWD": "zh_TW", "USD": "en_US", "GBP": "en_GB"}
# a number with its unit: days (44 days) and percentage points of a rate's change (+2.1 pt)
ENGLISH_UNITS = {"days": "{number} days", "points": "{number} pt"}


def currency_symbol(currency: str | None, language: str = "en") -> str:
    """The symbol for an ISO code; none when the currency is not stated (amounts show bare)."""
    if not currency:
        return ""
    return get_currency_symbol(currency, HOME_LOCALES.get(currency, LOCALES.get(language, "en_US")))


def _missing(value) -> bool:
    """None, NaN, and infinities (a model that blew up): never "-$∞" on a tile."""
    return value is None or (isinstance(value, float) and not math.isfinite(value))


def format_value(value, kind: str, language: str = "en", currency: str = "CNY", compact: bool = False,
                 units: dict[str, str] = ENGLISH_UNITS) -> str:
    """A KPI value as text: 12,104 / ¥313.29 / 80.4% / 1.47 / 44 days; '–' when missing. `language`
    chooses the digits' locale, `units` the words for days."""
    if _missing(value):
        return "–"
    locale = LOCALES.get(language, "en_US")
    if kind == "rate":
        return format_decimal(_no_negative_zero(value * 100, 1), format="#,##0.0", locale=locale) + "%"
    if kind == "money":
        symbol = currency_symbol(currency, language)
        digits = None
        # short from 10,000, or from 1,000 behind a symbol of two letters or more (PKR, R$: a tile holds about ten
        # characters) where the language's short form has a unit there (2.15K; Chinese has none below 万)
        if compact and abs(value) >= (10_000 if len(symbol) <= 1 else 1_000):
            digits = _compact(abs(value), locale)
            if abs(value) < 10_000 and not any(ch.isalpha() for ch in digits):
                digits = None
        if digits is None:  # the currency's own decimals: ₫250,000 and ¥1,200 for yen, $12.50
            decimals = get_currency_precision(currency) if currency else 2
            digits = format_decimal(abs(value), format="#,##0" + ("." + "0" * decimals if decimals else ""),
                                    locale=locale)
        return ("-" if value < 0 and _shows_non_zero(digits) else "") + symbol + digits  # -0.004: ¥0.00
    if kind == "count":
        if compact and abs(value) >= 10_000:
            return ("-" if value < 0 else "") + _compact(abs(value), locale)
        return _unsigned_zero(format_decimal(round(value), format="#,##0", locale=locale))
    if kind == "days":
        return units["days"].format(number=_unsigned_zero(format_decimal(value, format="#,##0.#", locale=locale)))
    return _unsigned_zero(format_decimal(value, format="#,##0.00", locale=locale))


def _compact(value: float, locale: str) -> str:
    """A large positive number in the locale's short form with three significant digits: 7.96M, 427K, 1.04万
    (one decimal everywhere gave 8M for 7.96M, and 1万 for 10,400 in Chinese, whose unit is 10,000)."""
    # rounded to three significant digits first (999,600 is 1M, not 1000K); then two decimals at most show
    # them all (9.96M, 99.6K), and the locale's form drops trailing zeros (427K, not 427.00K)
    return format_compact_decimal(float(f"{value:.3g}"), locale=locale, fraction_digits=2)


def format_change(change, kind: str, language: str = "en", units: dict[str, str] = ENGLISH_UNITS) -> str:
    """A change: rates in percentage points (+2.1 pt), the rest relative (+5.3%)."""
    if _missing(change):
        return "–"
    locale = LOCALES.get(language, "en_US")
    change = _no_negative_zero(change * 100, 1)
    signed = "+#,##0.0;-#,##0.0" if change else "#,##0.0"  # no change is 0.0, neither +0.0 nor -0.0
    number = format_decimal(change, format=signed, locale=locale)
    if kind == "rate":
        return units["points"].format(number=number)
    return number + "%"


def format_difference(difference, kind: str, language: str = "en", currency: str = "CNY",
                      units: dict[str, str] = ENGLISH_UNITS) -> str:
    """A difference in the metric's own unit, signed: +2.1 pt (rates), +¥4.00 / -¥4.00 (money),
    +0.35 (the rest); one that shows as zero has no sign: 0.0 pt, ¥0.00, 0.00."""
    if _missing(difference):
        return "–"
    if kind == "rate":
        return format_change(difference, "rate", language, units)
    shown = (format_value(difference, "money", language, currency) if kind == "money"
             else _unsigned_zero(format_decimal(difference, format="#,##0.00", locale=LOCALES.get(language, "en_US"))))
    return shown if shown.startswith("-") or not _shows_non_zero(shown) else "+" + shown


def _shows_non_zero(text: str) -> bool:
    """Whether a formatted number has a digit other than 0 (0.00, ¥0.00 and -0.0 do not)."""
    return any(character in "123456789" for character in text)


def _unsigned_zero(text: str) -> str:
    """A formatted number without the minus of a value that rounded to zero: "-0.00" -> "0.00"."""
    return text[1:] if text.startswith("-") and not _shows_non_zero(text) else text


def _no_negative_zero(value: float, digits: int) -> float:
    """`value` rounded to `digits` decimals, with -0.0 made 0.0 (a '-0.0%' reads as a fall)."""
    rounded = round(value, digits)
    return 0.0 if rounded == 0 else rounded


def format_p(p) -> str:
    """A p-value for people: '< 0.001' when tiny (never 0.000000000000001), else three decimals."""
    if _missing(p):
        return "–"
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def format_chance(chance, language: str = "en") -> str:
    """A probability for people, never a certainty it is not: '> 99.9%' and '< 0.1%' at the ends, else 97.3%."""
    if _missing(chance):
        return "–"
    if chance > 0.999:
        return "> 99.9%"
    if chance < 0.001:
        return "< 0.1%"
    return format_decimal(round(chance * 100, 1), format="#,##0.0", locale=LOCALES.get(language, "en_US")) + "%"


def format_decimal_text(value: float, language: str = "en", digits: int = 1) -> str:
    """A plain number with a fixed number of decimals, e.g. 2.1."""
    return _unsigned_zero(format_decimal(value, format="#,##0." + "0" * digits, locale=LOCALES.get(language, "en_US")))
