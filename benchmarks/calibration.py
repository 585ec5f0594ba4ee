"""How long a case is timed: warm-up rounds, then rounds until a minimum time and count.

One rule for both front doors: the command line times with :meth:`Calibration.time`, the
pytest-benchmark modules fix their rounds in advance with :meth:`Calibration.plan`.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable, Sequence
from typing import Any


@dataclasses.dataclass(frozen=True)
class Calibration:
    """How long a case is timed: ``warmup`` untimed rounds, then rounds until they add up to
    ``min_time`` seconds and number ``min_rounds`` at least (``max_rounds`` at most), as
    pytest-benchmark's calibration and ``torch.utils.benchmark``'s ``blocked_autorange`` do.

    The warm-up round pays for what belongs to no round: a decoder's first seek, a buffer
    allocated on first use, a cold page cache.
    """

    min_time: float = 1.0
    min_rounds: int = 5
    warmup: int = 1
    max_rounds: int = 1000  # bounds a record's size for loaders that do next to nothing

    def __post_init__(self) -> None:
        if self.min_time < 0 or self.min_rounds < 1 or self.warmup < 0 or self.max_rounds < self.min_rounds:
            raise ValueError(f"calibration needs min_time >= 0, 1 <= min_rounds <= max_rounds and warmup >= 0: "
                             f"{self}")

    def done(self, seconds: Sequence[float]) -> bool:
        return len(seconds) >= self.max_rounds or (len(seconds) >= self.min_rounds and sum(seconds) >= self.min_time)

    def plan(self, round_seconds: float | None) -> int:
        """Rounds to time when they must be fixed in advance (``benchmark.pedantic``), from the
        seconds of one warm-up round: the same rule as :meth:`time`, applied to an estimate.
        Without one (no warm-up, or a round too quick to measure) only the count can be planned."""
        if not round_seconds or round_seconds <= 0:
            return self.min_rounds
        return max(self.min_rounds, min(self.max_rounds, math.ceil(self.min_time / round_seconds)))

    def time(self, fn: Callable[[], object], setup: Callable[[], object] | None = None) -> list[float]:
        """Wall seconds of every timed round of ``fn``; ``setup`` runs untimed before each round."""
        for _ in range(self.warmup):
            time_round(fn, setup)
        seconds: list[float] = []
        while not self.done(seconds):
            seconds.append(time_round(fn, setup))
        return seconds

    def options(self) -> dict[str, Any]:
        """What a record carries about its timing, beside every round's seconds."""
        return {"warmup_rounds": self.warmup, "min_time": self.min_time, "min_rounds": self.min_rounds}


def time_round(fn: Callable[[], object], setup: Callable[[], object] | None) -> float:
    """Wall seconds of one call of ``fn``, after an untimed ``setup``."""
    if setup is not None:
        setup()
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start
