"""Calibrated per-frame rounds: a warm-up first, then rounds until a minimum time and a minimum count."""

from __future__ import annotations

import pytest

from benchmarks import calibration as calibration_module
from benchmarks.calibration import Calibration


class Clock:
    """A fake perf_counter: only the work advances it, by ``step`` seconds per call."""

    def __init__(self, step: float) -> None:
        self.now, self.step, self.calls, self.setups = 0.0, step, 0, 0

    def __call__(self) -> float:
        return self.now

    def work(self) -> None:
        self.now += self.step
        self.calls += 1

    def setup(self) -> None:
        self.setups += 1


@pytest.mark.parametrize(("step", "rounds"), [(0.125, 8), (0.5, 5), (3.0, 5), (0.0001, 50)])
def test_rounds_continue_until_both_the_time_and_the_count(monkeypatch: pytest.MonkeyPatch, step: float,
                                                           rounds: int) -> None:
    clock = Clock(step)
    monkeypatch.setattr(calibration_module.time, "perf_counter", clock)
    calibration = Calibration(min_time=1.0, min_rounds=5, warmup=2, max_rounds=50)
    seconds = calibration.time(clock.work, clock.setup)
    assert seconds == pytest.approx([step] * rounds)
    assert clock.calls == clock.setups == rounds + 2  # the warm-ups ran, untimed, each after its setup
    # The fixed count pytest-benchmark is given follows the same rule from one warm-up round.
    assert calibration.plan(step) == rounds


def test_plan_without_an_estimate_and_bad_settings() -> None:
    assert Calibration(min_time=0, min_rounds=3).plan(None) == 3
    assert Calibration(min_time=1, min_rounds=4).plan(None) == 4  # no estimate: the count alone
    for bad in ({"min_rounds": 0}, {"min_time": -1}, {"warmup": -1}, {"min_rounds": 9, "max_rounds": 8}):
        with pytest.raises(ValueError, match="calibration"):
            Calibration(**bad)
