"""When does extraction pay for itself?

After ``k`` epochs, decoding on the fly has cost ``k * T_decode`` and extracting once has cost
``X + k * T_frames``. The two are equal at ``k* = X / (T_decode - T_frames)``; extraction pays
after that many epochs when reading frames is faster than decoding, and never otherwise.

Epoch times vary from one epoch to the next, so ``k*`` comes with a range: from the quartiles of
both sides' epoch times (decoding at its slow quartile against frames at their fast one gives
the low end, and the other way round the high end). The two sides' epochs are interleaved
(:meth:`benchmarks.core.Workspace.epochs`), so the spread is noise, not drift between them.

A pair sets decoding against a store made once: decoding the original videos against reading a
frame store, or against decoding a transcoded store (``format="mp4"``); and decoding a transcoded
store against reading a frame store, where both sides were made once: then ``X`` is what the frame
store costs beyond the transcode (at least 0) and the decode side's totals include its transcode.
Both sides of a pair were measured with the same page cache (both cold or both warm).
"""

from __future__ import annotations

import dataclasses
import math
import statistics
from collections.abc import Callable, Iterable, Sequence

from benchmarks.records import Record, valid_seconds
from loaders.vocabulary import BASELINE, DECODE, FRAMES, TRANSCODED


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
               epochs: int, decode_extract_seconds: float = 0.0) -> tuple[list[float], list[float]]:
    """Total seconds after 1..epochs epochs: (decoding on the fly, extracting first); a decode side
    that reads a transcoded store starts from its transcode's ``decode_extract_seconds``."""
    decode = [decode_extract_seconds + k * epoch_decode for k in range(1, epochs + 1)]
    frames = [extract_seconds + k * epoch_frames for k in range(1, epochs + 1)]
    return decode, frames


@dataclasses.dataclass(frozen=True)
class Pair:
    """One decode loader against one frame loader on stores of one (extractor, format, quality)."""

    profile: str  # the video set the epochs and the extraction ran on
    pattern: str
    workers: int
    batch_size: int | None
    decode: str  # loader name
    decode_stack: str
    frames: str  # loader name
    frames_stack: str
    extractor: str
    format: str  # noqa: A003 - the records' word
    quality: int | None
    extract_seconds: float | None  # X: extracting the whole video set once; None if not measured
    epoch_decode: float  # T_decode: median epoch seconds
    epoch_frames: float  # T_frames
    epochs: float | None  # k*, None when extraction never pays (or X is unknown)
    epochs_low: float | None  # k* from the epoch times' quartiles most favourable to extraction
    epochs_high: float | None  # ... and least favourable; None when then it never pays
    decode_total: list[float]  # cumulative seconds after 1..N epochs, decoding on the fly
    frames_total: list[float]  # the same, extracting first (empty when X is unknown)
    cache: str | None = None  # both sides' page cache: "cold", "warm", None (not controlled)
    store_size: int | None = None  # the store side's short side; None: as decoded
    gop: int | None = None  # the store side's keyframe interval when it is a transcoded store
    decode_format: str | None = None  # None: the decode side reads the originals; "mp4": a transcoded store
    decode_store_size: int | None = None
    decode_gop: int | None = None
    decode_extract_seconds: float | None = None  # the decode side's transcode, when it reads one


def quartiles(seconds: Sequence[float]) -> tuple[float, float]:
    """25th and 75th percentile of epoch seconds (both the value itself for a single epoch)."""
    if len(seconds) == 1:
        return seconds[0], seconds[0]
    q = statistics.quantiles(seconds, n=4, method="inclusive")
    return q[0], q[2]


def span(pair: Pair) -> str:
    """``1.5-2.3``: the range of k*; ``1.5-never`` when the high end never pays."""
    low = "never" if pair.epochs_low is None else f"{pair.epochs_low:.1f}"
    high = "never" if pair.epochs_high is None else f"{pair.epochs_high:.1f}"
    return f"{low}-{high}"


def gop_of(record: Record) -> int | None:
    """The keyframe interval of the transcoded store a record read or made (None for others)."""
    gop = record.options.get("gop") if isinstance(record.options, dict) else None
    return gop if isinstance(gop, int) else None


def store_of(record: Record) -> tuple[object, ...]:
    """What identifies the store a record read or made: extractor, format, quality, size, gop."""
    return record.extractor, record.format, record.quality, record.store_size, gop_of(record)


def extraction_for(frame: Record, extractions: Sequence[Record]) -> Record | None:
    """The extraction that made the store a loader read: the same store (:func:`store_of`), on
    the same profile; a run that extracted one video set only uses that one."""
    store = store_of(frame)
    same = [e for e in extractions if store_of(e) == store]
    on_profile = [e for e in same if e.profile == frame.profile]
    if on_profile:
        return on_profile[-1]
    return same[-1] if len({e.profile for e in same}) == 1 else None


def covered(epoch: Record, made: Record) -> float:
    """The share of the extracted frames an epoch covers: 1, or less where the epochs read only the
    first frames of each video (``--quick``, ``--budget``); the extraction is then counted for that
    share, as if the videos were that long, so both sides of the crossover cover the same frames."""
    video_frames = epoch.options.get("video_frames")
    if epoch.options.get("frames_per_video") is None or not video_frames or not made.frames:
        return 1.0
    return min(1.0, video_frames / made.frames)


def _transcoded(record: Record) -> bool:
    return record.kind == DECODE and record.format == TRANSCODED


def _sides(epoch: Sequence[Record]) -> Iterable[tuple[Record, Record]]:
    """(decode side, store side): originals vs frames, originals vs transcoded, transcoded vs frames."""
    originals = [r for r in epoch if r.kind == DECODE and r.format is None]
    transcoded = [r for r in epoch if _transcoded(r)]
    frames = [r for r in epoch if r.kind == FRAMES]
    for d in originals:
        yield from ((d, f) for f in frames + transcoded)
    for d in transcoded:
        yield from ((d, f) for f in frames)


# An epoch record -> its epoch over the whole measured videos by the epoch model (seconds, low, high),
# or None where the model has nothing to go on (:func:`benchmarks.analysis.plan.sample_model`).
EpochModel = Callable[[Record], "tuple[float, float, float] | None"]


def pairs(recs: Iterable[Record], epochs: int = 10, unextracted: bool = False,
          model: EpochModel | None = None) -> list[Pair]:
    """Every (decode side, store side, pattern, workers, cache) pair an epoch was timed for.

    Epoch times are medians over the epochs timed; only "ok" records count, and the
    baseline is not a decode loader. Pairs need the same video set, pattern, workers, page cache
    and batch size (an unknown batch size matches any). A pair whose store has no extraction record
    (or whose decode side's transcode has none) is left out, or kept with ``extract_seconds`` None
    when ``unextracted``.

    With ``model``, both sides' epochs are the epoch model's, over the whole measured videos (its
    range in place of the quartiles), and the extraction is the whole one: an epoch capped at the
    first frames of each video then counts start-up and opens once, not scaled with the cap.
    """
    ok = [r for r in recs if r.status == "ok" and valid_seconds(r)]
    extractions = [r for r in ok if r.measure == "extraction"]
    epoch = [r for r in ok if r.measure == "epoch" and r.loader != BASELINE]
    out = []
    for d, f in _sides(epoch):
        if (d.profile, d.pattern, d.workers, d.cache) != (f.profile, f.pattern, f.workers, f.cache):
            continue
        if d.batch_size is not None and f.batch_size is not None and d.batch_size != f.batch_size:
            continue
        made = extraction_for(f, extractions)
        transcode = extraction_for(d, extractions) if _transcoded(d) else None
        known = made is not None and (transcode is not None or not _transcoded(d))
        if not known and not unextracted:
            continue
        modelled = (model(d), model(f)) if model is not None else (None, None)
        whole = modelled[0] is not None and modelled[1] is not None
        x_d = statistics.median(valid_seconds(transcode)) * (1.0 if whole else covered(d, transcode)) \
            if transcode else None
        x_f = statistics.median(valid_seconds(made)) * (1.0 if whole else covered(f, made)) \
            if known and made else None
        # What the store costs beyond the decode side's transcode; a cheaper one pays at once.
        x = None if x_f is None else max(0.0, x_f - (x_d or 0.0))
        if modelled[0] is not None and modelled[1] is not None:
            (t_d, d25, d75), (t_f, f25, f75) = modelled[0], modelled[1]
        else:
            t_d, t_f = statistics.median(valid_seconds(d)), statistics.median(valid_seconds(f))
            (d25, d75), (f25, f75) = quartiles(valid_seconds(d)), quartiles(valid_seconds(f))
        k = low = high = None
        decode_total, frames_total = [(x_d or 0.0) + n * t_d for n in range(1, epochs + 1)], list[float]()
        if x is not None:
            k = crossover_epochs(x, t_d, t_f)
            decode_total, frames_total = cumulative(x_f or 0.0, t_d, t_f, epochs, x_d or 0.0)
            low, high = crossover_epochs(x, d75, f25), crossover_epochs(x, d25, f75)
        out.append(Pair(d.profile, d.pattern or "", d.workers or 0, d.batch_size if d.batch_size is not None
                        else f.batch_size, d.loader or "", d.stack, f.loader or "", f.stack, f.extractor or "",
                        f.format or "", f.quality, x, t_d, t_f, k, low, high, decode_total, frames_total,
                        cache=d.cache, store_size=f.store_size, gop=gop_of(f), decode_format=d.format,
                        decode_store_size=d.store_size, decode_gop=gop_of(d), decode_extract_seconds=x_d))
    return out
