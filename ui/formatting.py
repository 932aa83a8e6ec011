"""Numbers for people in the page's language: metrics.formatting's numbers with this app's unit
words (ui/i18n.py), so "44 天" and "+2.1 个百分点" are worded where every other word is."""

from functools import cache

from babel import Locale
from babel.numbers import get_currency_name, get_territory_currencies

from metrics import formatting as numbers
from metrics.formatting import currency_symbol, format_chance, format_decimal_text, format_p
from ui.i18n import t

__all__ = ["COMMON_CURRENCIES", "currencies_in_use", "currency_name", "currency_symbol", "format_chance", "format_change",
           "format_decimal_text", "format_difference", "format_p", "format_value"]


# the currencies a box lists first; every other currency in use follows (currencies_in_use)
COMMON_CURRENCIES = ("CNY", "USD", "EUR", "GBP", "JPY", "HKD")


@cache
def currencies_in_use() -> tuple[str, ...]:
    """Every currency legal tender in some country today (Babel's CLDR data), COMMON_CURRENCIES first, then by
    code: the command line takes any code, so the boxes offer a shop in đồng or rupees its own too."""
    territories = (code for code in Locale("en").territories if len(code) == 2 and code.isalpha())
    in_use = {currency for territory in territories for currency in get_territory_currencies(territory, tender=True)}
    return (*COMMON_CURRENCIES, *sorted(in_use - set(COMMON_CURRENCIES)))


def currency_name(code: str, language: str = "en") -> str:
    """An ISO code with the currency's name: "VND · Vietnamese Dong" / "VND · 越南盾"."""
    return f"{code} · {get_currency_name(code, locale=numbers.LOCALES.get(language, 'en_US'))}"


def units(language: str) -> dict[str, str]:
    """The unit words metrics.formatting fills in: days and percentage points."""
    return {"days": t("unit_days", language), "points": t("unit_points", language)}


def format_value(value, kind: str, language: str = "en", currency: str = "CNY", compact: bool = False) -> str:
    """A KPI value as text: 12,104 / ¥313.29 / 80.4% / 1.47 / 44 days (44 天); '–' when missing."""
    return numbers.format_value(value, kind, language, currency, compact, units=units(language))


def format_change(change, kind: str, language: str = "en") -> str:
    """A change: rates in percentage points (+2.1 pt / +2.1 个百分点), the rest relative (+5.3%)."""
    return numbers.format_change(change, kind, language, units=units(language))


def format_difference(difference, kind: str, language: str = "en", currency: str = "CNY") -> str:
    """A difference in the metric's unit: +2.1 pt / +¥4.00 / -0.35; no sign on one that shows as zero (0.00)."""
    return numbers.format_difference(difference, kind, language, currency, units=units(language))
