"""How numbers read in the report: a few significant digits, thousands separated, units named."""

from __future__ import annotations

import math
from typing import Any


def _missing(value: Any) -> bool:
    try:
        return value is None or math.isnan(float(value))
    except (TypeError, ValueError):
        return True


def number(value: Any) -> str:
    """``1,234`` for large values, three significant digits for small ones; empty when missing."""
    if _missing(value):
        return ""
    value = float(value)
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def seconds(value: Any) -> str:
    if _missing(value):
        return ""
    value = float(value)
    if value < 1:
        return f"{value * 1000:.3g} ms"
    if value >= 3600:
        return f"{value / 3600:.1f} h"
    if value >= 120:
        return f"{value / 60:.1f} min"
    return f"{value:.3g} s"


def bytes_(value: Any) -> str:
    if _missing(value):
        return ""
    value = float(value)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(value) < 1024:
            return f"{value:.3g} {unit}" if unit != "B" else f"{value:.0f} B"
        value /= 1024
    return f"{value:.3g} TiB"


def percent(value: Any) -> str:
    """A signed change, ``+12.5%``."""
    return "" if _missing(value) else f"{float(value):+.1f}%"
