"""Fit the run estimate's guesses (:class:`benchmarks.budget.Guess`) to the records of past runs.

``python -m benchmarks.estimate_fit RUN [RUN ...]`` reads each run's ``records.jsonl`` and
``dataset.json`` (the videos it measured, probed again for their keyframes), predicts every
per-frame round and every epoch that measured with the estimate's own arithmetic, and prints the
guesses that make those predictions closest to what was measured (least squares on the relative
error, every guess at least 0), with how far the fitted estimate then is from each kind of record.

The estimate is linear in its per-unit guesses (seconds per megapixel decoded, per call, ...), so
each record's coefficient for a guess is the estimate with that guess at 1 and the others at 0.
Each decoder gets a factor of its own on the decode and output guesses (pyav's is 1), and
decoders in epochs one more (each DataLoader worker decodes on one thread). Everything is fitted
together by least squares on the log of predicted over measured seconds.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import statistics
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
from scipy.optimize import least_squares

from benchmarks import budget, patterns
from benchmarks.calibration import Calibration
from benchmarks.dataset import probe_video
from benchmarks.records import Record, read, valid_seconds
from benchmarks.spec import RunSpec, Target, Video
from loaders.vocabulary import BASELINE, FRAMES

# Guesses fitted, by name: a field of Guess, or "read.<format>".
PARAMS = ("decode", "output", "decode_frame", "decode_byte", "seek", "call", "frame", "resize", "open", "epoch_start",
          "read.jpeg", "read.png", "read.npy", "read.tar")


@dataclasses.dataclass(frozen=True)
class Observed:
    """One measured record, as the estimate sees it."""

    plan: RunSpec
    target: str
    pattern: patterns.Pattern
    epoch: bool  # an epoch (else a per-frame round)
    workers: int
    seconds: float  # the median measured
    kind: str  # for the summary: per-frame or epoch, decoder or reader

    def predict(self, guess: budget.Guess) -> float:
        if not self.epoch:
            return budget._round_seconds(self.plan, next(iter(self.plan.videos)), self.pattern, guess, self.target)
        return budget._epoch_seconds(self.plan, self.pattern, self.target, self.workers, guess, None)


def _unit(name: str, base: budget.Guess) -> budget.Guess:
    """``base`` with the guess ``name`` at 1 and the other fitted ones at 0 (its factors kept)."""
    values = dict.fromkeys(PARAMS, 0.0)
    values[name] = 1.0
    return guess_of(values, base)


def guess_of(values: dict[str, float], base: budget.Guess | None = None, **changes: object) -> budget.Guess:
    """``base`` with the fitted guesses ``values`` (by :data:`PARAMS` name) and ``changes``."""
    read = {k.split(".", 1)[1]: v for k, v in values.items() if k.startswith("read.")}
    plain = {k: v for k, v in values.items() if not k.startswith("read.")}
    return dataclasses.replace(base or budget.Guess(), read=read, **plain, **changes)  # type: ignore[arg-type]


def observations(run: Path) -> list[Observed]:
    """Every per-frame and epoch record of ``run`` that measured, with the plan that predicts it."""
    for name in ("records.jsonl", "dataset.json"):
        if not (run / name).is_file():
            raise SystemExit(f"{run}: no {name} (a run of python -m benchmarks has both)")
    measured = json.loads((run / "dataset.json").read_text())["measured"]
    shapes = {name: probe_video(v["path"]) for name, v in measured.items() if not v.get("error")}
    out = []
    for r in read(run / "records.jsonl"):
        seconds = valid_seconds(r)
        if r.status != "ok" or not seconds or r.loader in (None, BASELINE) or r.measure not in ("per_frame", "epoch"):
            continue
        if r.measure == "per_frame" and r.profile not in shapes:
            continue
        out.append(_observed(r, shapes, statistics.median(seconds)))
    return out


def _observed(r: Record, shapes: dict[str, Video], seconds: float) -> Observed:
    options = r.options if isinstance(r.options, dict) else {}
    assert r.loader is not None and r.pattern is not None
    store = r.store
    target = Target(r.loader, r.kind or "", store).key
    asked = options.get("pattern") or {}
    pattern = patterns.parse([r.pattern], clip_len=asked.get("clip_len", 16), k=asked.get("k", 8),
                             seed=asked.get("seed", 0), batch=asked.get("batch", 8))[0]
    epoch = r.measure == "epoch"
    videos = shapes if epoch else {r.profile: shapes[r.profile]}
    formats = {} if store is None else {target: store.format}
    plan = RunSpec(videos=videos, patterns=[pattern], decoders=[] if r.kind == FRAMES else [target],
                       readers=[target] if r.kind == FRAMES else [], stores=[], frames=r.frames or 1,
                       calibration=Calibration(), epochs=1, workers=[r.workers or 0],
                       cores=int((r.env or {}).get("cores", 1)),
                       frames_per_video=options.get("frames_per_video"),
                       sizes={target: store.store_size} if store is not None else {},
                       gops={target: store.gop} if store is not None and store.gop else {}, formats=formats)
    kind = ("epoch" if epoch else "per-frame") + (" reader" if r.kind == FRAMES else " decoder") + \
        (" cold" if r.cache == "cold" else "")
    return Observed(plan, target, pattern, epoch, r.workers or 0, seconds, kind)


WORK = ("decode", "output", "decode_frame", "decode_byte", "seek")  # the guesses a decoder's factors scale
REFERENCE = "pyav"  # the decoder whose factor is 1 (the others are relative to it)


def fit(observed: Sequence[Observed]) -> budget.Guess:
    """The guesses closest to ``observed`` in log space (every guess at least 0): the per-unit
    ones, each decoder's factor (pyav's at 1) and the epochs' decode factor.

    Each record's prediction is linear in the per-unit guesses, so their coefficients are
    computed once (:func:`_unit`); the factors then multiply the decoders' work terms."""
    plain = budget.Guess(slower={}, epoch_decode=1.0)
    coefficients = np.array([[o.predict(_unit(p, plain)) for p in PARAMS] for o in observed])
    measured = np.log([o.seconds for o in observed])
    work = np.array([p in WORK for p in PARAMS])
    loaders = sorted({budget._loader(o.target) for o in observed if o.plan.decoders} - {REFERENCE})
    which = np.array([loaders.index(budget._loader(o.target)) + 1 if o.plan.decoders and
                      budget._loader(o.target) != REFERENCE else 0 for o in observed])
    epoch = np.array([o.epoch and bool(o.plan.decoders) for o in observed])
    decoder = np.array([bool(o.plan.decoders) for o in observed])

    def predict(x: np.ndarray) -> np.ndarray:
        values, factors, epoch_decode = x[:len(PARAMS)], np.concatenate([[1.0], x[len(PARAMS):-1]]), x[-1]
        scale = np.where(decoder, factors[which] * np.where(epoch, epoch_decode, 1.0), 1.0)
        return coefficients[:, ~work] @ values[~work] + scale * (coefficients[:, work] @ values[work])

    start = np.concatenate([[0.001] * len(PARAMS), np.ones(len(loaders) + 1)])
    result = least_squares(lambda x: np.log(np.maximum(predict(x), 1e-9)) - measured, start,
                           bounds=(0, np.inf), x_scale="jac")
    x = result.x
    return dataclasses.replace(guess_of(dict(zip(PARAMS, x[:len(PARAMS)].tolist(), strict=True)), plain),
                               slower={REFERENCE: 1.0, **dict(zip(loaders, x[len(PARAMS):-1].tolist(), strict=True))},
                               epoch_decode=float(x[-1]))


def summary(observed: Iterable[Observed], guess: budget.Guess) -> list[str]:
    by: dict[str, list[tuple[float, float]]] = {}
    for o in observed:
        by.setdefault(o.kind, []).append((o.predict(guess), o.seconds))
    out = []
    for kind, pairs in sorted(by.items()):
        logs = sorted(math.log(max(p, 1e-9) / m) for p, m in pairs)
        q = statistics.quantiles(logs, n=10) if len(logs) > 1 else [logs[0]] * 9
        median = math.exp(statistics.median(logs))
        out.append(f"{kind:22s} {len(pairs):4d} records: predicted/measured median {median:.2f}"
                   f" (10-90%: {math.exp(q[0]):.2f}-{math.exp(q[-1]):.2f}); in all {sum(p for p, _ in pairs):.0f} s "
                   f"predicted, {sum(m for _, m in pairs):.0f} s measured")
    return out


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.estimate_fit", description=__doc__.split("\n\n")[0])
    p.add_argument("runs", nargs="+", type=Path, help="run directories (records.jsonl and dataset.json)")
    args = p.parse_args(argv)
    observed = [o for run in args.runs for o in observations(run)]
    if not observed:
        raise SystemExit("no per-frame or epoch record that measured in " + ", ".join(map(str, args.runs)))
    print("with the current guesses:")
    for line in summary(observed, budget.Guess()):
        print(f"  {line}")
    guess = fit(observed)
    print("fitted:")
    for line in summary(observed, guess):
        print(f"  {line}")
    fitted = {p: guess.read[p.split(".", 1)[1]] if p.startswith("read.") else getattr(guess, p) for p in PARAMS}
    print("  " + ", ".join(f"{k}={v:.2g}" for k, v in fitted.items()))
    print("  slower=" + ", ".join(f"{k}={v:.2f}" for k, v in guess.slower.items())
          + f"; epoch_decode={guess.epoch_decode:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
