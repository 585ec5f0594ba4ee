"""The ranges of the extraction's options, and the argparse types that hold the command lines to them.

One place for what a value may be, so ``python -m loaders extract``, ``python -m benchmarks`` and
:func:`loaders.extract` refuse the same values: a bad one is a usage error before any work (exit 2,
in argparse's words), never a failure per video.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable

QUALITY = (1, 100)  # JPEG quality
CRF = (0, 51)  # H.264 constant rate factor
MAX_THREADS = 256  # decoder threads per video: more is a typo, and would stall the extractors
THREADS = (0, MAX_THREADS)  # 0: the library's own choice
GOP_MIN = 1  # a keyframe every GOP frames


def integer(low: int, high: int | None = None, what: str = "") -> Callable[[str], int]:
    """An argparse ``type``: an integer in ``low..high`` (no upper bound when ``high`` is None)."""
    span = f"at least {low}" if high is None else f"from {low} to {high}"

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not an integer ({what or 'an integer'} {span})") from None
        if value < low or (high is not None and value > high):
            raise argparse.ArgumentTypeError(f"{text!r} is out of range ({what or 'an integer'} {span})")
        return value

    parse.__name__ = "integer"  # argparse names the type in its messages
    return parse


def integers(low: int, high: int | None = None, what: str = "") -> Callable[[str], list[int]]:
    """An argparse ``type``: a comma-separated list of integers, each in ``low..high`` ('' for none)."""
    one = integer(low, high, what)

    def parse(text: str) -> list[int]:
        return [one(x.strip()) for x in text.split(",") if x.strip()]

    parse.__name__ = "integers"
    return parse


def in_range(value: object, bounds: tuple[int, int | None]) -> bool:
    """Whether ``value`` is an int (not a bool) within ``bounds`` (an upper bound of None: none)."""
    low, high = bounds
    return isinstance(value, int) and not isinstance(value, bool) and value >= low and (high is None or value <= high)


def positive(value: float, text: str) -> float:
    """``value`` if it is finite and more than 0, else a ValueError quoting ``text``."""
    if not math.isfinite(value):
        raise ValueError(f"{text!r} is not a finite number")
    if value <= 0:
        raise ValueError(f"{text!r} must be more than 0")
    return value
