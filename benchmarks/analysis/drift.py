"""The machine's drift over a run, from its anchor records: pure functions.

The dependency stacks of a run measure one after another, minutes apart, so the machine's load can
change between them, and within a stack between its first case and its last. Every stack times one
anchor case (:data:`ANCHOR_LOADER`, sequential, on one fixed video, :data:`ANCHOR_VIDEO`, whatever
the dataset) at its start, after its extraction, before its epochs, between the epochs of one access
pattern and the next, and at its end (records of measure ``"anchor"``, ``options["anchor"]``
``"start"``, ``"after extraction"``, ``"epochs"``, ``"after <pattern>"`` or ``"end"``). The same
measurement at two moments differs by the machine alone: within a stack, its slowest against its
fastest; between stacks, each stack's anchor against the main stack's; between runs
(``plan_accuracy``), the anchors either side of an epoch in each."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Sequence
from typing import Final

from benchmarks.analysis.summary import fps, latest
from benchmarks.records import Record

ANCHOR: Final = "anchor"  # the records' measure
ANCHOR_LOADER = "pyav"  # in every stack (the pillow-simd and torchvision stacks install PyAV too)
ANCHOR_PATTERN = "sequential"
# The anchor's video: a built-in corpus profile (made once, cached), the same in every run whatever
# its videos, so that two runs' anchors (a sample's and its whole dataset's) time the same work.
ANCHOR_VIDEO = "h264-360p-gop1s-bf"
# Its rounds add up to at least this many seconds (the default per-frame case's), unless the run asks
# for no minimum (``--min-time 0``): the pace beside each epoch rests on it.
ANCHOR_SECONDS = 0.5
REFERENCE = "main"  # the stack the others' anchors are compared with
START, EXTRACTED, EPOCHS, END = "start", "after extraction", "epochs", "end"


def after(pattern: str) -> str:
    """The anchor timed after the epochs of ``pattern`` (and before the next pattern's)."""
    return f"after {pattern}"


def before(patterns: Sequence[str], i: int) -> str:
    """The anchor timed before the epochs of ``patterns[i]``: before the first, after the one before."""
    return EPOCHS if i == 0 else after(patterns[i - 1])


@dataclasses.dataclass(frozen=True)
class StackDrift:
    """One stack's anchor: frames/s (median of the rounds) at its start and end, and ``between``
    them (before its epochs, between one pattern's epochs and the next), in the order timed."""

    stack: str
    start: float | None
    end: float | None
    # The machine's widest move over the stack: its slowest anchor against its fastest, below 1
    # where the slowest came later (the machine slowed), above 1 where it came first.
    within: float | None
    against_reference: float | None  # this stack's anchor level / the reference stack's
    between: tuple[float, ...] = ()

    @property
    def timed(self) -> list[float]:
        """Every anchor of the stack, in the order timed."""
        return [v for v in (self.start, *self.between, self.end) if v]

    @property
    def level(self) -> float | None:
        """The stack's anchor frames/s: the geometric mean of all it timed."""
        values = self.timed
        return math.exp(sum(math.log(v) for v in values) / len(values)) if values else None


def anchors(records: Iterable[Record]) -> dict[str, dict[str, float]]:
    """stack -> when (``"start"``, ``"epochs"``, ``"after <pattern>"``, ``"end"``) -> the anchor's
    median frames/s, from the timed anchor records, in the order they were written."""
    out: dict[str, dict[str, float]] = {}
    for r in latest(records):
        when = r.options.get(ANCHOR) if isinstance(r.options, dict) else None
        median = fps(r)[0]
        if r.measure == ANCHOR and r.status == "ok" and isinstance(when, str) and median:
            out.setdefault(r.stack, {})[when] = float(median)
    return out


def spread(timed: list[float]) -> float | None:
    """The slowest of ``timed`` against the fastest (frames/s, in time order), signed by which came
    first: below 1, the machine slowed; None for fewer than two."""
    if len(timed) < 2:
        return None
    slow, fast = timed.index(min(timed)), timed.index(max(timed))
    return timed[slow] / timed[fast] if slow > fast else timed[fast] / timed[slow]


def drift(records: Iterable[Record], reference: str = REFERENCE) -> list[StackDrift]:
    """Per stack with an anchor (the reference stack first): its drift within and against ``reference``."""
    found = anchors(records)
    partial = {s: StackDrift(s, a.get(START), a.get(END), None, None,
                             tuple(v for w, v in a.items() if w not in (START, END))) for s, a in found.items()}
    ref = partial[reference].level if reference in partial else None
    out = []
    for stack in sorted(partial, key=lambda s: (s != reference, s)):
        d = partial[stack]
        within = spread(d.timed)
        level = d.level
        against = level / ref if level and ref and stack != reference else None
        out.append(dataclasses.replace(d, within=within, against_reference=against))
    return out


def paces(records: Iterable[Record], stack: str = REFERENCE) -> list[tuple[Record, float]]:
    """Each record of ``stack`` that is not an anchor, with the machine's pace when it was measured:
    the geometric mean of the anchors timed just before and just after it (in the order written),
    either alone at an end. Records with no anchor in their stack are left out."""
    timed: list[Record | float] = []
    for r in records:
        if r.stack != stack:
            continue
        if r.measure == ANCHOR:
            median = fps(r)[0]
            if r.status == "ok" and median:
                timed.append(float(median))
        else:
            timed.append(r)
    out = []
    for i, item in enumerate(timed):
        if isinstance(item, float):
            continue
        before = next((x for x in reversed(timed[:i]) if isinstance(x, float)), None)
        after_ = next((x for x in timed[i + 1:] if isinstance(x, float)), None)
        near = [x for x in (before, after_) if x is not None]
        if near:
            out.append((item, math.exp(sum(math.log(x) for x in near) / len(near))))
    return out


def factor(ratio: float | None) -> float:
    """A ratio as a factor of at least 1 (0.8 and 1.25 are both 1.25); 1 for none."""
    return 1.0 if not ratio or ratio <= 0 else max(ratio, 1 / ratio)


def between(drifts: Iterable[StackDrift], a: str, b: str) -> float | None:
    """The machine's drift that a comparison of stacks ``a`` and ``b`` carries, as a factor of at
    least 1: the larger of each stack's drift within itself and of the two stacks' anchors against
    each other. None when either stack measured no anchor (no drift measured: not "no drift")."""
    by_stack = {d.stack: d for d in drifts}
    if a not in by_stack or b not in by_stack:
        return None
    da, db = by_stack[a], by_stack[b]
    if not da.level or not db.level:
        return None
    return max(factor(da.within), factor(db.within), factor(da.level / db.level))


def within_drift(fps_a: float, fps_b: float, drift_factor: float | None) -> bool:
    """Whether two frames/s (or two durations) from different stacks differ by less than the machine's
    drift between them."""
    if drift_factor is None or fps_a <= 0 or fps_b <= 0:
        return False
    return factor(fps_a / fps_b) < drift_factor
