"""Per-frame timing: a fixed set of samples read from an already-open source, after verifying it.

Shared by both front doors through :mod:`benchmarks.core`: the command line times with
:meth:`Calibration.time`, the pytest-benchmark modules with ``benchmark.pedantic`` over the
rounds :meth:`Calibration.plan` gives. The protocol is the same: an untimed setup before each
round, a warm-up round first, then rounds until both a minimum time and a minimum count.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import loaders
from benchmarks import env, verify
from benchmarks.patterns import Sample
from benchmarks.records import Measure, Record
from benchmarks.spec import Store, Target
from loaders.vocabulary import BASELINE, FRAMES


def record(target: Target, measure: Measure, profile: str, **fields: Any) -> Record:
    """A record for ``target`` with its identity filled in."""
    return Record(measure=measure, loader=target.loader, kind=target.kind, stack=loaders.current_stack(),
                  profile=profile, store=target.store, library=env.library(target.loader), **fields)


def targets(names: Sequence[str], specs: Sequence[Store],
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
    lossy = target.store is not None and target.store.lossy
    luma = lossy and target.store is not None and target.store.store_size is not None
    for s in samples:
        verdict = verdict.merge(verify.check(src.get_frames(s.indices), s.indices, ref, luma=luma, lossy=lossy))
        if verdict.wrong is not None:
            return verdict
    return verdict


def frames_in(samples: Sequence[Sample]) -> int:
    return sum(len(s) for s in samples)
