"""When does extraction pay for itself?

After ``k`` epochs, decoding on the fly has cost ``k * T_decode`` and extracting once has cost
``X + k * T_frames``. The two are equal at ``k* = X / (T_decode - T_frames)``; extraction pays
after that many epochs when reading frames is faster than decoding, and never otherwise.
"""

from __future__ import annotations

import dataclasses
import math
import statistics
from collections.abc import Iterable

from benchmarks.records import Record


def crossover_epochs(extract_seconds: float, epoch_decode: float, epoch_frames: float) -> float | None:
    """Epochs after which extraction has paid for itself; ``None`` when it never does.

    Equal epoch times never pay back a positive extraction cost; a free extraction pays at once
    (0) when frames are faster, and never otherwise.
    """
    for name, value in (("extract_seconds", extract_seconds), ("epoch_decode", epoch_decode),
                        ("epoch_frames", epoch_frames)):
        if not math.isfinite(value) or value < 0:
            raise ValueError(f"{name} must be a finite, non-negative number of seconds, got {value!r}")
    saving = epoch_decode - epoch_frames
    if saving <= 0:
        return None
    return extract_seconds / saving


def cumulative(extract_seconds: float, epoch_decode: float, epoch_frames: float,
               epochs: int) -> tuple[list[float], list[float]]:
    """Total seconds after 1..epochs epochs: (decoding on the fly, extracting first)."""
    decode = [k * epoch_decode for k in range(1, epochs + 1)]
    frames = [extract_seconds + k * epoch_frames for k in range(1, epochs + 1)]
    return decode, frames


@dataclasses.dataclass(frozen=True)
class Pair:
    """One decode loader against one frame loader on stores of one (extractor, format, quality)."""

    profile: str  # the video set the epochs and the extraction ran on
    pattern: str
    workers: int
    decode: str  # loader name
    decode_stack: str
    frames: str  # loader name
    frames_stack: str
    extractor: str
    format: str  # noqa: A003 - the records' word
    quality: int | None
    extract_seconds: float  # X: extracting the whole video set once
    epoch_decode: float  # T_decode: median epoch seconds
    epoch_frames: float  # T_frames
    epochs: float | None  # k*, None when extraction never pays
    decode_total: list[float]  # cumulative seconds after 1..N epochs, decoding on the fly
    frames_total: list[float]  # the same, extracting first


def pairs(recs: Iterable[Record], epochs: int = 10) -> list[Pair]:
    """Every (decode loader, frame loader + store, pattern, workers) pair an epoch was timed for.

    Epoch times are medians over the epochs timed; only "ok" records count, and the null
    baseline is not a decode loader. Pairs need the same video set, pattern, workers and batch
    size, and an extraction record for the frame loader's stores.
    """
    ok = [r for r in recs if r.status == "ok" and r.seconds]
    extraction = {(r.profile, r.extractor, r.format, r.quality): statistics.median(r.seconds)
                  for r in ok if r.measure == "extraction"}
    epoch = [r for r in ok if r.measure == "epoch" and r.loader != "null"]
    out = []
    for d in (r for r in epoch if r.kind == "decode"):
        for f in (r for r in epoch if r.kind == "frames"):
            if (d.profile, d.pattern, d.workers, d.batch_size) != (f.profile, f.pattern, f.workers, f.batch_size):
                continue
            x = extraction.get((f.profile, f.extractor, f.format, f.quality))
            if x is None:
                continue
            t_d, t_f = statistics.median(d.seconds), statistics.median(f.seconds)
            decode_total, frames_total = cumulative(x, t_d, t_f, epochs)
            out.append(Pair(d.profile, d.pattern or "", d.workers or 0, d.loader or "", d.stack, f.loader or "",
                            f.stack, f.extractor or "", f.format or "", f.quality, x, t_d, t_f,
                            crossover_epochs(x, t_d, t_f), decode_total, frames_total))
    return out
