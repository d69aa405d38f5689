"""The one formatter of the numbers a WBM page shows: Babel in the page's language (German 230,0 V, English
230.0 V). Only what a page displays goes through here; a form field keeps the machine format its validator
reads (a dot, no grouping), and the page scripts format their live updates alike (wbm.js, Intl.NumberFormat).

Thousands are grouped as each language groups them (CLDR: German 1.234,5, English 1,234.5), which is also
what Intl.NumberFormat does by default, so a live update prints what the first render printed; rounded as
Intl rounds too (half away from zero, of the float's shortest decimal: 12.345 -> 12.35, 2.675 -> 2.68)."""

from __future__ import annotations

import decimal

from babel.numbers import format_decimal

UNIT_SIGNS = {"degC": "°C", "Ohm": "Ω"}  # the schemas' ASCII unit names as a page prints them


def unit_sign(unit: str) -> str:
    return UNIT_SIGNS.get(unit, unit)


def number(lang: str, value: float, digits: int | None = None) -> str:
    """`value` with `digits` fraction digits; None: an int as it is, a float with one to three (what "%s"
    showed before: 230.0, 0.95; the data hub rounds its measurements to three places)."""
    if digits is None:
        pattern = "#,##0" if isinstance(value, int) else "#,##0.0##"
    else:
        pattern = "#,##0." + "0" * digits if digits else "#,##0"
    with decimal.localcontext(rounding=decimal.ROUND_HALF_UP):  # Babel rounds in the current context
        return str(format_decimal(value, format=pattern, locale=lang))


def quantity(lang: str, value: float, unit: str, digits: int | None = None) -> str:
    """The number, then its unit as a page prints it ("230,0 V"; a power factor has none)."""
    sign = unit_sign(unit)
    return "%s %s" % (number(lang, value, digits), sign) if sign else number(lang, value, digits)
