"""The ETA's arithmetic (loaders.progress.Progress), on a clock the test moves: it converges on the
time really left as work is done, learns per phase how far off the plan was, and counts a long step
down instead of standing still or rising while it runs."""

from __future__ import annotations

import io
import math

import pytest

from loaders.progress import PRIOR, Progress


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _progress(total: int, work: float | dict[str, float] | None, clock: Clock) -> Progress:
    return Progress(total, "bench", unit="cell", stream=io.StringIO(), every=3600, work=work, clock=clock)


def test_the_eta_converges_on_the_time_really_left() -> None:
    clock = Clock()
    progress = _progress(10, 10.0, clock)  # ten cells planned at 1 s each; each really takes 2 s
    assert progress.eta() == pytest.approx(10.0)  # before anything is done: the plan itself
    errors = []
    for done in range(1, 11):
        clock.now += 2.0
        progress.update(1, work=1.0)
        errors.append(abs(progress.eta() - 2.0 * (10 - done)))
    assert errors == pytest.approx([0.0] * 10)  # from the first cell on, the rate it took
    progress.close()


def test_the_eta_follows_a_run_that_slows_down_and_the_error_shrinks() -> None:
    clock = Clock()
    progress = _progress(4, 4.0, clock)
    took = [1.0, 3.0, 3.0, 3.0]  # the machine gets busy after the first cell
    errors = []
    for done, seconds in enumerate(took, 1):
        clock.now += seconds
        progress.update(1, work=1.0)
        errors.append(abs(progress.eta() - sum(took[done:])))
    assert errors[-1] == 0 and errors[1] < errors[0] and errors[2] < errors[1]
    progress.close()


def test_a_long_step_counts_down_then_slows_the_rest_as_it_overruns() -> None:
    clock = Clock()
    progress = _progress(2, {"per_frame": 10.0, "epoch": 30.0}, clock)
    progress.begin("per_frame a", 10.0, "per_frame")
    clock.now += 4.0
    assert progress.eta() == pytest.approx(36.0)  # 4 s of the step's 10 behind
    clock.now += 6.0
    assert progress.eta() == pytest.approx(30.0)  # the step's time is up: the epochs are left
    # Past what it should take, the step counts as if it ended now (20 s for 10 planned, at least),
    # and the epochs go as slowly: the ETA grows with the evidence, never stands on a figure it knows wrong.
    prior = PRIOR * 40.0  # the plan counts as a tenth of itself done on time, for the phases not begun
    clock.now += 10.0
    assert progress.eta() == pytest.approx(30.0 * (20.0 + prior) / (10.0 + prior))
    clock.now += 60.0
    assert progress.eta() == pytest.approx(30.0 * (80.0 + prior) / (10.0 + prior))
    progress.update(1, work=10.0, phase="per_frame")  # it took 80 s, 8x its plan: the epochs nearly so
    assert progress.eta() == pytest.approx(30.0 * (80.0 + prior) / (10.0 + prior))
    assert progress.eta() > 5 * 30.0
    progress.close()


def test_each_phase_learns_from_its_own_work_and_a_phase_not_begun_from_the_run_so_far() -> None:
    clock = Clock()
    progress = _progress(3, {"extraction": 10.0, "per_frame": 20.0, "epoch": 40.0}, clock)
    prior = PRIOR * 70.0
    clock.now += 20.0
    progress.update(1, work=10.0, phase="extraction")  # 2x slower than planned
    # the rest at the run's ratio so far, the plan weighing as a tenth of itself done on time
    assert progress.eta() == pytest.approx((20.0 + 40.0) * (20.0 + prior) / (10.0 + prior))
    assert 1.5 * 60.0 < progress.eta() < 2 * 60.0
    clock.now += 20.0
    progress.update(1, work=20.0, phase="per_frame")  # as planned
    # per-frame at its own ratio (done), the epochs at the run's: 40 s taken for 30 planned
    assert progress.eta() == pytest.approx(40.0 * (40.0 + prior) / (30.0 + prior))
    progress.close()


def test_a_phase_planned_again_from_measurements_after_a_slow_phase() -> None:
    clock = Clock()
    progress = _progress(3, {"per_frame": 10.0, "epoch": 10.0}, clock)
    clock.now += 20.0
    progress.update(1, work=10.0, phase="per_frame")  # ran 2x slower than planned
    prior = PRIOR * 20.0
    assert progress.eta() == pytest.approx(10.0 * (20.0 + prior) / (10.0 + prior))  # the epochs' guess raised
    assert progress.eta() > 1.8 * 10.0
    # re-estimated from the per-frame timings (which already ran at the machine's real speed): as is
    progress.plan("epoch", 15.0)
    assert progress.eta() == pytest.approx(15.0)
    assert progress.work == pytest.approx(25.0) and progress.work_done == pytest.approx(10.0)
    clock.now += 30.0
    progress.update(1, work=7.5, phase="epoch")  # half of them took 30 s: the other half will too
    assert progress.eta() == pytest.approx(30.0)
    progress.close()


def test_things_timed_together_give_their_work_at_the_end() -> None:
    clock = Clock()
    progress = _progress(3, 6.0, clock)
    progress.begin("three cases in turns", 6.0)
    clock.now += 9.0
    progress.update(1)  # the first of three interleaved cases: no work yet, so no rate from it
    assert progress.done == 1 and progress.eta() == pytest.approx(0.0)  # past the step's 6 s, nothing after it
    progress.update(1)
    progress.update(1)
    progress.update(0, work=6.0)
    assert progress.rate("") == pytest.approx(1.5) and progress.eta() == 0
    progress.close()


def test_skipped_work_leaves_the_plan_and_says_nothing_of_the_speed() -> None:
    clock = Clock()
    progress = _progress(4, {"epoch": 40.0}, clock)
    progress.update(2, work=20.0, phase="epoch", skipped=True)  # measured before a resume, or past a deadline
    assert progress.done == 2 and progress.eta() == pytest.approx(20.0)
    clock.now += 30.0
    progress.update(1, work=10.0, phase="epoch")
    assert progress.eta() == pytest.approx(30.0)  # 3 s per planned second, on what was measured only
    progress.close()


def test_without_a_plan_the_eta_follows_the_count() -> None:
    clock = Clock()
    progress = _progress(4, None, clock)
    assert math.isnan(progress.eta())  # nothing done, nothing planned in seconds: no guess
    clock.now += 5.0
    progress.update(1)
    assert progress.eta() == pytest.approx(15.0)
    clock.now += 2.0  # the next thing counts down from the 5 s the last one took
    assert progress.eta() == pytest.approx(13.0)
    progress.close()
