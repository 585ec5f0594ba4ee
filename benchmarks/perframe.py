"""Per-frame timing: a fixed set of samples read from an already-open source, after verifying it.

Shared by both front doors through :mod:`benchmarks.core`: the command line times with
:meth:`Calibration.time`, the pytest-benchmark modules with ``benchmark.pedantic`` over the
rounds :meth:`Calibration.plan` gives. The protocol is the same: an untimed setup before each
round, a warm-up round first, then rounds until both a minimum time and a minimum count.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable, Sequence
from typing import Any

import loaders
from benchmarks import env, verify
from benchmarks.patterns import Sample
from benchmarks.records import Measure, Record
from benchmarks.stores import StoreSpec
from loaders.vocabulary import BASELINE, FRAMES


@dataclasses.dataclass(frozen=True)
class Target:
    """One thing to time: a decode loader on the videos or on transcoded stores of one spec, or a
    frame loader on stores of one spec."""

    loader: str
    kind: str
    spec: StoreSpec | None = None

    @property
    def key(self) -> str:
        return self.loader if self.spec is None else f"{self.loader}@{self.spec.label}"

    def record(self, measure: Measure, profile: str, **fields: Any) -> Record:
        """A record for this target with its identity filled in."""
        spec = self.spec
        if spec is not None and spec.options():  # a transcoded store's gop and crf
            fields["options"] = {**fields.get("options", {}), **spec.options()}
        return Record(measure=measure, loader=self.loader, kind=self.kind, stack=loaders.current_stack(),
                      profile=profile, extractor=spec.extractor if spec else None,
                      format=spec.format if spec else None, quality=spec.quality if spec else None,
                      store_size=spec.size if spec else None, library=env.library(self.loader), **fields)


def targets(names: Sequence[str], specs: Sequence[StoreSpec],
            transcode_loaders: Sequence[str] | None = None) -> list[Target]:
    """Decode loaders on the videos and once per transcoded spec (those of ``transcode_loaders``
    only, when given); a frame loader once per spec whose format it reads.

    An unavailable loader gets one target with no spec, to carry its "unavailable" record.
    """
    out = []
    for name in names:
        kind = loaders.REGISTRY[name].kind
        if loaders.available()[name] is not None:
            out.append(Target(name, kind))
        elif kind != FRAMES:
            out.append(Target(name, kind))
            if name != BASELINE and (transcode_loaders is None or name in transcode_loaders):
                out += [Target(name, kind, s) for s in specs if s.transcoded]
        else:
            readable = loaders.registry.loader_class(name).formats  # type: ignore[attr-defined]
            out += [Target(name, kind, s) for s in specs if s.format in readable]
    return out


def rewind(src: loaders.Source) -> None:
    """Put a stateful decoder back at the start, so every round begins in the same state."""
    src.get_frames([0])


def read_samples(src: loaders.Source, samples: Sequence[Sample]) -> None:
    for s in samples:
        src.get_frames(s.indices)


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


def open_close(target: Target, path: str) -> None:
    with loaders.open(target.loader, path):
        pass


def check(target: Target, src: loaders.Source, samples: Sequence[Sample],
          ref: dict[int, Any]) -> verify.Verdict:
    """The loader's answer for every sample against the reference (at the store's size); the
    baseline is not checked."""
    if target.loader == BASELINE:
        return verify.Verdict(False, None)
    verdict = verify.Verdict(True, None)
    lossy = target.spec is not None and target.spec.lossy
    luma = lossy and target.spec is not None and target.spec.size is not None
    for s in samples:
        verdict = verdict.merge(verify.check(src.get_frames(s.indices), s.indices, ref, luma=luma, lossy=lossy))
        if verdict.wrong is not None:
            return verdict
    return verdict


def frames_in(samples: Sequence[Sample]) -> int:
    return sum(len(s) for s in samples)
