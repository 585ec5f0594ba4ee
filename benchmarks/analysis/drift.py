"""The machine's drift over a run, from its anchor records: pure functions.

The dependency stacks of a run measure one after another, minutes apart, so the machine's load can
change between them. Every stack times one anchor case (:data:`ANCHOR_LOADER`, sequential, the
run's first video) at its start and at its end (records of measure ``"anchor"``, ``options["anchor"]``
``"start"`` or ``"end"``). The same measurement at two moments differs by the machine alone: within a
stack, end against start; between stacks, each stack's anchor against the main stack's."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable
from typing import Final

from benchmarks.analysis.summary import fps, latest
from benchmarks.records import Record

ANCHOR: Final = "anchor"  # the records' measure
ANCHOR_LOADER = "pyav"  # in every stack (the pillow-simd and torchvision stacks install PyAV too)
ANCHOR_PATTERN = "sequential"
REFERENCE = "main"  # the stack the others' anchors are compared with
WHEN = ("start", "end")


@dataclasses.dataclass(frozen=True)
class StackDrift:
    """One stack's anchor: frames/s (median of the rounds) at its start and end."""

    stack: str
    start: float | None
    end: float | None
    within: float | None  # end / start: below 1, the machine was slower at the end
    against_reference: float | None  # this stack's anchor / the reference stack's (both: mean of start and end)

    @property
    def level(self) -> float | None:
        """The stack's anchor frames/s: the geometric mean of its start and end (either alone if one is missing)."""
        values = [v for v in (self.start, self.end) if v]
        return math.exp(sum(math.log(v) for v in values) / len(values)) if values else None


def anchors(records: Iterable[Record]) -> dict[str, dict[str, float]]:
    """stack -> "start"/"end" -> the anchor's median frames/s, from the timed anchor records."""
    out: dict[str, dict[str, float]] = {}
    for r in latest(records):
        when = r.options.get(ANCHOR) if isinstance(r.options, dict) else None
        median = fps(r)[0]
        if r.measure == ANCHOR and r.status == "ok" and when in WHEN and median:
            out.setdefault(r.stack, {})[str(when)] = float(median)
    return out


def drift(records: Iterable[Record], reference: str = REFERENCE) -> list[StackDrift]:
    """Per stack with an anchor (the reference stack first): its drift within and against ``reference``."""
    found = anchors(records)
    partial = {s: StackDrift(s, a.get("start"), a.get("end"), None, None) for s, a in found.items()}
    ref = partial[reference].level if reference in partial else None
    out = []
    for stack in sorted(partial, key=lambda s: (s != reference, s)):
        d = partial[stack]
        within = d.end / d.start if d.start and d.end else None
        level = d.level
        against = level / ref if level and ref and stack != reference else None
        out.append(dataclasses.replace(d, within=within, against_reference=against))
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
