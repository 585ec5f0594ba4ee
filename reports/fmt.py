"""How numbers read in the report: a few significant digits, thousands separated, units named.

Bytes and durations read as in the terminal: :mod:`loaders.units` formats both."""

from __future__ import annotations

from typing import Any

from loaders.units import duration, missing, size

seconds = duration  # the report's name for it: ``seconds(row["epoch_seconds"])``
bytes_ = size


def number(value: Any) -> str:
    """``1,234`` for large values, three significant digits for small ones; empty when missing."""
    if missing(value):
        return ""
    value = float(value)
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def percent(value: Any) -> str:
    """A signed change, ``+12.5%``."""
    return "" if missing(value) else f"{float(value):+.1f}%"
