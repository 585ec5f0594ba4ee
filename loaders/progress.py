"""Progress you can follow anywhere: a tqdm bar on a terminal, log lines elsewhere.

tqdm with ``disable=None`` prints nothing when its stream is not a terminal (a pipe, a CI log, a
``nohup`` file), so a long run looks hung. :class:`Progress` keeps the bar on a terminal and
otherwise prints a line every ``every`` seconds (also while one long step runs), at once for a
message, and at the end.
Both the extraction command (:mod:`loaders.batch`) and ``python -m benchmarks`` use it.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import IO


class Progress:
    """``total`` things of ``unit`` done one by one, with the current step (``status``) and an ETA.

    ``work``: the planned cost of the whole (any unit, e.g. estimated seconds) when the things
    differ in cost; :meth:`update` then takes each one's share, and the ETA follows the work done
    rather than the count (an extraction and a per-frame case are not alike).
    """

    def __init__(
        self,
        total: int,
        desc: str,
        unit: str = "item",
        stream: IO[str] | None = None,
        every: float = 5.0,
        work: float | None = None,
    ) -> None:
        from tqdm import tqdm

        self.stream = stream if stream is not None else sys.stderr
        self.total, self.desc, self.unit, self.every = total, desc, unit, every
        self.done = 0
        self.work, self.work_done = work, 0.0
        self.status = ""
        self.start = self.last = time.perf_counter()
        self.bar = tqdm(total=total, desc=desc, unit=unit, file=self.stream, disable=None, dynamic_ncols=True)
        self.lock = threading.Lock()
        self.stopped = threading.Event()
        if self.bar.disable:  # a step may last minutes: a line every `every` seconds all the same
            threading.Thread(target=self._beat, name=f"progress {desc}", daemon=True).start()

    def _beat(self) -> None:
        while not self.stopped.wait(self.every / 4):
            if time.perf_counter() - self.last >= self.every:
                self.log()

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def eta(self) -> float:
        """Seconds left, from the rate so far (of work when planned, else of things)."""
        share = self.work_done / self.work if self.work else self.done / self.total if self.total else 1.0
        share = min(1.0, share)  # the work done may pass a plan that was an estimate
        return self.elapsed * (1 - share) / share if share > 0 else float("nan")

    def update(self, n: int = 1, status: str | None = None, work: float = 0.0) -> None:
        """``n`` more things done (0: only a new status); ``work``: their share of the planned work."""
        self.done += n
        self.work_done += work
        if status is not None:
            self.status = status
        if not self.bar.disable:
            self.bar.set_postfix_str(self.status, refresh=False)
            self.bar.update(n)
            return
        if time.perf_counter() - self.last >= self.every or (n and self.done >= self.total):
            self.log()

    def log(self) -> None:
        with self.lock:
            self.last = time.perf_counter()
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
