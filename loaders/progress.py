"""Progress you can follow anywhere: a tqdm bar on a terminal, log lines elsewhere.

tqdm with ``disable=None`` prints nothing when its stream is not a terminal (a pipe, a CI log, a
``nohup`` file), so a long run looks hung. :class:`Progress` keeps the bar on a terminal and
otherwise prints a line every ``every`` seconds (also while one long step runs), at once for a
message, and at the end.
Both the extraction command (:mod:`loaders.batch`) and ``python -m benchmarks`` use it.

The ETA converges on the truth as work is done: what is left of each phase's plan is scaled by how
long that phase's finished work took against its plan (a phase not begun yet: by the whole run's
ratio so far), and the step in hand counts down from what it should take rather than waiting,
flat or rising, for its end.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Mapping
from typing import IO

PRIOR = 0.1  # the share of its own work the plan weighs as, done on time, in the rate of a phase not begun


class Progress:
    """``total`` things of ``unit`` done one by one, with the current step (``status``) and an ETA.

    ``work``: the planned cost of the whole in estimated seconds when the things differ in cost,
    one figure or one per phase (``{"extraction": 40.0, "epoch": 300.0}``); :meth:`update` then
    takes each thing's share (and phase), and the ETA follows the work rather than the count (an
    extraction and a per-frame case are not alike). Without it the unit of work is one thing.
    :meth:`plan` replaces what is left of a phase's plan by a better estimate, :meth:`begin` says
    what the step starting now should cost. ``clock``: seconds, monotonic (tests give their own).
    """

    def __init__(
        self,
        total: int,
        desc: str,
        unit: str = "item",
        stream: IO[str] | None = None,
        every: float = 5.0,
        work: float | Mapping[str, float] | None = None,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        from tqdm import tqdm

        self.stream = stream if stream is not None else sys.stderr
        self.total, self.desc, self.unit, self.every = total, desc, unit, every
        self.clock = clock
        self.done = 0
        self.seconds = work is not None  # the plan is in seconds: an ETA before anything is done
        planned = {"": float(work)} if isinstance(work, (int, float)) else dict(work or {})
        self.planned = planned or {"": float(total)}  # per phase: the work planned, what is done included
        self.worked: dict[str, float] = dict.fromkeys(self.planned, 0.0)  # per phase: the planned work done
        self.spent: dict[str, float] = dict.fromkeys(self.planned, 0.0)  # per phase: the seconds it took
        self.replanned: set[str] = set()  # phases whose plan :meth:`plan` re-estimated from measurements
        self.step: tuple[str, float] | None = None  # the step in hand: its phase and planned work
        self.status = ""
        self.start = self.last = self.mark = clock()  # mark: when the last work was done
        self.bar = tqdm(total=total, desc=desc, unit=unit, file=self.stream, disable=None, dynamic_ncols=True)
        self.lock = threading.Lock()
        self.stopped = threading.Event()
        if self.bar.disable:  # a step may last minutes: a line every `every` seconds all the same
            threading.Thread(target=self._beat, name=f"progress {desc}", daemon=True).start()

    def _beat(self) -> None:
        while not self.stopped.wait(self.every / 4):
            if self.clock() - self.last >= self.every:
                self.log()

    @property
    def elapsed(self) -> float:
        return self.clock() - self.start

    @property
    def work(self) -> float:
        """The work planned, all phases together (what is done included)."""
        return sum(self.planned.values())

    @property
    def work_done(self) -> float:
        return sum(self.worked.values())

    def rate(
        self, phase: str, spent: Mapping[str, float] | None = None, worked: Mapping[str, float] | None = None
    ) -> float:
        """Seconds per unit of planned work that ``phase``'s finished work took; for a phase with
        nothing finished, the whole run's so far, with the plan counted as :data:`PRIOR` of itself
        done on time (one short phase that ran long, or fast, does not swing the rest), and 1
        where the phase's plan was re-estimated from measurements. ``spent``, ``worked``: other
        tallies than the progress's own (:meth:`eta`'s, with the step in hand counted in)."""
        spent = self.spent if spent is None else spent
        worked = self.worked if worked is None else worked
        if worked.get(phase, 0.0) > 0:
            return spent[phase] / worked[phase]
        if phase in self.replanned:
            return 1.0
        prior = PRIOR * self.work if self.seconds else 0.0
        done = sum(worked.values()) + prior
        return (sum(spent.values()) + prior) / done if done > 0 else 1.0

    def eta(self) -> float:
        """Seconds left: each phase's planned work still to do at its :meth:`rate`, less the part of
        the step in hand already behind. A step that runs past what it should take is counted as
        if it ended now (the least it can take), and so slows its phase, and the phases not begun,
        as much: the ETA then grows with the evidence rather than holding a figure already wrong.
        NaN while nothing is done and the plan is not in seconds."""
        if not self.seconds and self.work_done <= 0:
            return float("nan")
        left = {p: max(0.0, w - self.worked[p]) for p, w in self.planned.items()}
        seconds = sum(w * self.rate(p) for p, w in left.items())
        things = self.total - self.done
        step = self.step
        if step is None and things > 0 and set(self.planned) == {""}:  # one phase: a step of a thing's average
            step = ("", left[""] / things)
        if step is None:
            return seconds
        phase = step[0]
        work = min(step[1], left.get(phase, 0.0))
        behind = self.clock() - self.mark
        if behind <= work * self.rate(phase):  # the step counts down
            return max(0.0, seconds - behind)
        spent, worked = dict(self.spent), dict(self.worked)
        spent[phase], worked[phase] = spent.get(phase, 0.0) + behind, worked.get(phase, 0.0) + work
        left[phase] -= work
        return sum(w * self.rate(p, spent, worked) for p, w in left.items())

    def plan(self, phase: str, work: float) -> None:
        """What is left of ``phase`` is now ``work`` estimated seconds, estimated again from what was
        measured (so that phase's own ratio starts afresh at 1 until it has finished work)."""
        with self.lock:
            self.planned[phase] = self.worked.get(phase, 0.0) + work
            self.worked.setdefault(phase, 0.0)
            self.spent.setdefault(phase, 0.0)
            self.replanned.add(phase)

    def begin(self, status: str, work: float, phase: str = "") -> None:
        """A step of ``work`` planned (in ``phase``) starts now: the ETA counts it down meanwhile."""
        self.step = (phase, work)
        self.update(0, status)

    def update(
        self, n: int = 1, status: str | None = None, work: float = 0.0, phase: str = "", skipped: bool = False
    ) -> None:
        """``n`` more things done (0: only a new status); ``work``: their share of the planned work
        (without a plan, ``n`` is), which took the time since the last work done: things timed
        together (interleaved) give their work at once when the last is done, and 0 before;
        ``skipped``: done without being measured (a resumed run's cells, cells past a deadline), so
        their work leaves the plan and says nothing of its speed."""
        now = self.clock()
        work = work if self.seconds else float(n)
        with self.lock:
            self.done += n
            if skipped:
                self.planned[phase] = max(0.0, self.planned.get(phase, 0.0) - work)
            elif work:  # the time since the last work done went to this work
                self.planned.setdefault(phase, 0.0)
                self.worked[phase] = self.worked.get(phase, 0.0) + work
                self.spent[phase] = self.spent.get(phase, 0.0) + now - self.mark
            if work:
                self.mark, self.step = now, None
        if status is not None:
            self.status = status
        if not self.bar.disable:
            self.bar.set_postfix_str(self.status, refresh=False)
            self.bar.update(n)
            return
        if now - self.last >= self.every or (n and self.done >= self.total):
            self.log()

    def log(self) -> None:
        with self.lock:
            self.last = self.clock()
            eta = self.eta()
            left = "ETA ?" if eta != eta else f"ETA {eta:.0f} s"  # nan before anything is done
            status = f"{self.status}, " if self.status else ""
            print(
                f"{self.desc}: {self.done}/{self.total} {self.unit}s, {status}{self.elapsed:.0f} s elapsed, {left}",
                file=self.stream,
                flush=True,
            )

    def message(self, line: str) -> None:
        """A line that must be seen now (a failure, a phase starting), above the bar or in the log."""
        if not self.bar.disable:
            self.bar.write(line, file=self.stream)
        else:
            print(f"{self.desc}: {line}", file=self.stream, flush=True)

    def close(self) -> None:
        self.stopped.set()
        self.bar.close()
