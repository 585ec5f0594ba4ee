"""How a byte count and a duration read, in the terminal, the logs and the report alike.

Bytes are binary (KiB, MiB, GiB: what ``du -h`` and the plan's ``--disk-budget 2G`` mean), with
three significant digits. Durations go from milliseconds to hours as the figure needs.
"""

from __future__ import annotations

import math
from typing import Any

BYTE_UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB")
MINUTES_FROM = 120.0  # seconds: below, a duration reads in seconds
HOURS_FROM = 90 * 60.0  # seconds: from here, in hours ("1.5 h"); "60 min" reads better than "1.0 h"


def missing(value: Any) -> bool:
    """None, NaN, or not a number at all: a figure that was not measured."""
    try:
        return value is None or math.isnan(float(value))
    except (TypeError, ValueError):
        return True


def size(value: Any) -> str:
    """``512 B``, ``300 MiB``, ``2.9 GiB``; empty when missing."""
    if missing(value):
        return ""
    value = float(value)
    for unit in BYTE_UNITS[:-1]:
        if abs(value) < 1024:
            return f"{value:.0f} B" if unit == "B" else f"{value:.3g} {unit}"
        value /= 1024
    return f"{value:.3g} {BYTE_UNITS[-1]}"


def duration(value: Any, whole: bool = False) -> str:
    """``850 ms``, ``9.61 s``, ``3.2 min``, ``1.5 h``; empty when missing.

    ``whole``: seconds and minutes rounded to whole ones (``42 s``, ``12 min``), for estimates
    and log lines, where more digits would be noise.
    """
    if missing(value):
        return ""
    value = float(value)
    if abs(value) >= HOURS_FROM:
        return f"{value / 3600:.1f} h"
    if abs(value) >= MINUTES_FROM:
        return f"{value / 60:.0f} min" if whole else f"{value / 60:.1f} min"
    if whole:
        return f"{value:.0f} s"
    if abs(value) < 1 and value != 0:
        return f"{value * 1000:.3g} ms"
    return f"{value:.3g} s"
