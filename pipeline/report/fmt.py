"""French number formatting: 1 234 ; 12,5 % ; +3 (+8 %)."""
from __future__ import annotations

import math

NNBSP = "\u202f"   # narrow no-break space: thousands separator
NBSP = "\u00a0"    # no-break space before %


def _missing(x) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def fmt_int(n) -> str:
    if _missing(n):
        return "—"
    return f"{int(round(float(n))):,}".replace(",", NNBSP)


def fmt_float(x, digits: int = 1) -> str:
    if _missing(x):
        return "—"
    text = f"{float(x):,.{digits}f}".replace(",", "X").replace(".", ",").replace("X", NNBSP)
    return text


def fmt_pct(x, digits: int = 0) -> str:
    """A share (0.125) as « 12,5 % » (``digits`` decimals)."""
    if _missing(x):
        return "—"
    return fmt_float(float(x) * 100, digits) + NBSP + "%"


def fmt_signed_int(n) -> str:
    if _missing(n):
        return "—"
    n = int(n)
    return ("+" if n > 0 else "−" if n < 0 else "") + fmt_int(abs(n))


def fmt_change(change, change_pct, previous=None) -> str:
    """« +12 (+8 %) », « nouveau » when the previous count is zero, « = » when unchanged."""
    if previous is not None and not _missing(previous) and int(previous) == 0:
        return "nouveau" if change and int(change) > 0 else "="
    if _missing(change):
        return "—"
    if int(change) == 0:
        return "="
    text = fmt_signed_int(change)
    if not _missing(change_pct):
        sign = "+" if change_pct > 0 else "−"
        text += f" ({sign}{fmt_pct(abs(change_pct))})"
    return text


def plural(n, singular: str, plural_form: str | None = None) -> str:
    return singular if abs(int(n)) <= 1 else (plural_form or singular + "s")
