"""The run model, in one place: what a store, a video, a target and a run are.

Everything else (the command line, the pytest-benchmark front door, the budget, the records, the
analysis and the reports) reads these; nothing re-derives a store's label or a target's key.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from typing import Any

from benchmarks.calibration import Calibration
from benchmarks.patterns import Pattern
from loaders.extraction import CRF
from loaders.resize import scaled_size
from loaders.vocabulary import LOSSY, TRANSCODED, store_label

__all__ = ["CLASSES", "CRF", "MORE_EPOCHS", "RunSpec", "Store", "Target", "Video"]

# An epoch cell's epochs shorter than its minimum time are taken again, at most this many times its
# ``epochs`` in all (:meth:`RunSpec.epoch_count`).
MORE_EPOCHS = 5
# Short-side upper bounds of the resolution classes: a 1080x1920 portrait video is "1080p".
CLASSES = ((360, "360p"), (480, "480p"), (720, "720p"), (1080, "1080p"), (1440, "1440p"))


@dataclasses.dataclass(frozen=True)
class Store:
    """A store of a video: its frames extracted once (``jpeg``, ``png``, ``npy``, ``tar``) or the
    video transcoded once (``mp4``: H.264 with a short keyframe interval, read by decode loaders).

    A lossless format carries no JPEG quality, a frame store no gop or crf: they are dropped here,
    so two spellings of one store are one ``Store``."""

    extractor: str = "ffmpeg"
    format: str = "jpeg"  # noqa: A003 - the store's word for it
    quality: int | None = 90
    store_size: int | None = None  # short side of the stored frames (loaders.resize); None: as decoded
    gop: int | None = None  # keyframe interval of a transcoded store
    crf: int | None = None  # H.264 constant rate factor of a transcoded store

    def __post_init__(self) -> None:
        if self.format not in LOSSY:  # written without loss, or a video: no JPEG quality
            object.__setattr__(self, "quality", None)
        if self.format != TRANSCODED:
            object.__setattr__(self, "gop", None)
            object.__setattr__(self, "crf", None)

    @property
    def label(self) -> str:
        """``ffmpeg-jpeg-q90-s256``, ``ffmpeg-mp4-s256-g8``: how cells, targets, store folders and
        reports name the store."""
        return store_label(self.extractor, self.format, self.quality, self.store_size, self.gop)

    @property
    def key(self) -> str:
        """What tells stores apart in a run (its folder's name): the label."""
        return self.label

    @property
    def title(self) -> str:
        """The plan's words for it: ``ffmpeg-mp4-s256 (gop 8 crf 18)``."""
        extra = " ".join(f"{k} {v}" for k, v in (("gop", self.gop), ("crf", self.crf)) if v is not None)
        plain = store_label(self.extractor, self.format, self.quality, self.store_size)
        return f"{plain} ({extra})" if extra else plain

    @property
    def brief(self) -> str:
        """Format and short side, as the run's announcement lists stores: ``jpeg at 256``."""
        return self.format if self.store_size is None else f"{self.format} at {self.store_size}"

    @property
    def transcoded(self) -> bool:
        return self.format == TRANSCODED

    @property
    def lossy(self) -> bool:
        """Written with loss: a JPEG store or a transcoded video."""
        return self.format in LOSSY or self.transcoded

    def coding(self) -> dict[str, int]:
        """A transcoded store's gop and crf, as :func:`loaders.extract` takes them; empty for others."""
        return {"gop": self.gop, "crf": self.crf} if self.gop is not None and self.crf is not None else {}

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Store:
        """A store from a record's ``store`` object; keys it does not know are ignored."""
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


def mean_gop(frames: int, keyframes: int, key_span: int = 0, gaps: int = 0) -> float:
    """Mean frames between keyframes. Between the first and the last keyframe (``key_span`` frames,
    ``gaps`` intervals) every interval is whole; after the last, the video may end part-way through
    one, so frames over keyframes (the fallback, where the span was not kept) reads a 120-frame
    interval in a 150-frame video with two keyframes as 75. One keyframe: the whole video. None
    counted: every frame."""
    if key_span > 0 and gaps > 0:
        return key_span / gaps
    return frames / keyframes if keyframes else float(frames)


@dataclasses.dataclass(frozen=True)
class Video:
    """One video, as its probe found it (:func:`benchmarks.dataset.probe_one`); ``error`` says why
    it could not be read (then frames is 0).

    ``keyframes`` counts the frames a decoder can start from (0: not counted, a probe cached before
    they were), ``key_span`` is the index of the last of them (the first is frame 0; 0 for one
    keyframe, or not counted); :attr:`gop` is their mean interval."""

    path: str = ""
    bytes: int = 0  # noqa: A003 - the file's size
    frames: int = 0
    fps: float = 0.0
    width: int = 0
    height: int = 0
    codec: str = ""
    error: str | None = None
    keyframes: int = 0
    key_span: int = 0
    stream_bytes: int = 0  # the video stream's packets (0: not counted, in a dataset.json written before they were)

    @property
    def video_bytes(self) -> int:
        """Bytes of the video stream, what a decoder reads: the file's where the probe did not count
        them (the file also holds audio, subtitles and the container's own)."""
        return self.stream_bytes or self.bytes

    @property
    def gop(self) -> float:
        """Mean frames between keyframes: what a random seek decodes, half of it on average (all
        the frames where keyframes were not counted). :func:`mean_gop` says how it is reckoned."""
        return mean_gop(self.frames, self.keyframes, self.key_span, self.keyframes - 1)

    def first(self, frames: int) -> Video:
        """The video cut to its first ``frames`` frames (a stream copy: the same keyframe interval,
        and as many bytes a frame)."""
        share = min(1.0, frames / self.frames) if self.frames else 1.0
        cut = dataclasses.replace(self, frames=frames, bytes=round(self.bytes * share),
                                  stream_bytes=round(self.stream_bytes * share))
        if not self.keyframes:
            return cut
        g = self.gop
        keyframes = max(1, math.ceil(frames / g))
        return dataclasses.replace(cut, keyframes=keyframes,
                                   key_span=round((keyframes - 1) * g) if self.key_span else 0)

    @property
    def resolution(self) -> str:
        short = min(self.width, self.height)
        return next((name for bound, name in CLASSES if short <= bound), "2160p")

    @property
    def video_class(self) -> str:
        """What a sample is stratified by and epochs are projected per: ``720p h264``."""
        return f"{self.resolution} {self.codec}"

    @property
    def seconds(self) -> float:
        return self.frames / self.fps if self.fps > 0 else 0.0

    @property
    def megapixels(self) -> float:
        return self.width * self.height / 1e6

    def megapixels_at(self, store_size: int | None) -> float:
        """Megapixels of a frame stored at short side ``store_size`` (None: as decoded)."""
        if store_size is None:
            return self.megapixels
        width, height = scaled_size(self.width, self.height, store_size)
        return width * height / 1e6


@dataclasses.dataclass(frozen=True)
class Target:
    """One thing to time: a decode loader on the videos or on a transcoded store, or a frame
    loader on a store (``kind``: :data:`loaders.vocabulary.DECODE` or ``FRAMES``)."""

    loader: str
    kind: str
    store: Store | None = None

    @property
    def key(self) -> str:
        """``pyav``, ``npy@ffmpeg-npy-s256``: how a run's plan and its estimate name the target."""
        return self.loader if self.store is None else f"{self.loader}@{self.store.label}"


@dataclasses.dataclass(frozen=True)
class RunSpec:
    """What a run will measure, as the command line settles it before measuring and a time budget
    cuts it (:func:`benchmarks.budget.fit` returns a smaller one, ``cuts`` saying what went).

    Targets go by key (:attr:`Target.key`: ``loader`` or ``loader@store``), by kind. A decoder on
    a transcoded store, and a reader, read frames at the store's short side (``sizes``); a
    transcoded store has its own keyframe interval (``gops``); a target's epochs run once per
    page-cache state (``caches``: cold and warm, 2). A target missing from these mappings reads
    the videos as they are, once."""

    videos: Mapping[str, Video]  # name in the run -> video
    patterns: Sequence[Pattern]
    decoders: Sequence[str]
    readers: Sequence[str]
    stores: Sequence[Store]  # every store extracted, each over every video
    frames: int  # frames per per-frame case
    calibration: Calibration
    epochs: int
    workers: Sequence[int]
    cores: int
    measures: frozenset[str] = frozenset({"extraction", "per_frame", "epoch"})
    frames_per_video: int | None = None  # epochs read the first this many frames of a video; None: all
    sizes: Mapping[str, int | None] = dataclasses.field(default_factory=dict)  # target -> store short side
    gops: Mapping[str, int] = dataclasses.field(default_factory=dict)  # transcoded target -> keyframe interval
    formats: Mapping[str, str] = dataclasses.field(default_factory=dict)  # reader -> the format of its store
    caches: Mapping[str, int] = dataclasses.field(default_factory=dict)  # target -> page-cache states (0: no epochs)
    first_video_only: frozenset[str] = frozenset()  # targets whose per-frame cases run on the first video only
    clips: Mapping[str, int] = dataclasses.field(default_factory=dict)  # video -> its first frames measured
    cuts: tuple[str, ...] = ()  # what a time budget dropped, in words
    # Every target asked for, an unavailable loader's too (its record says why); ``decoders`` and
    # ``readers`` are the keys of those measured.
    targets: Sequence[Target] = ()
    batch_size: int = 8  # DataLoader batch size, and frames per call of random-batch
    resize: int = 224  # an epoch's frames are resized to resize x resize, so batches stack
    # An epoch cell's epochs are taken again, interleaved, until they add up to this many seconds
    # (:meth:`epoch_count`): a short epoch's median then rests on more than ``epochs`` of them,
    # as a per-frame case's rounds go on until their minimum time. 0: exactly ``epochs``.
    epoch_min_time: float = 0.0
    device: str = "cpu"  # where an epoch delivers its batches (``--device``): "cpu", or "cuda"

    def epoch_count(self, seconds: float) -> int:
        """How many epochs an epoch cell of ``seconds`` an epoch takes: ``epochs``, and more where
        they add up to less than :attr:`epoch_min_time`, :data:`MORE_EPOCHS` x ``epochs`` at most."""
        if self.epoch_min_time <= 0 or seconds * self.epochs >= self.epoch_min_time:
            return self.epochs
        wanted = math.ceil(self.epoch_min_time / seconds) if seconds > 0 else MORE_EPOCHS * self.epochs
        return max(self.epochs, min(MORE_EPOCHS * self.epochs, wanted))

    def epochs_done(self, seconds: Sequence[float]) -> bool:
        """Whether an epoch cell that has timed ``seconds`` has timed enough (:meth:`epoch_count`)."""
        if len(seconds) < self.epochs:
            return False
        return len(seconds) >= MORE_EPOCHS * self.epochs or sum(seconds) >= self.epoch_min_time

    def epoch_videos(self) -> dict[str, int]:
        cap = self.frames_per_video
        return {n: v.frames if cap is None else min(v.frames, cap) for n, v in self.videos.items()}

    def case_videos(self, target: str) -> list[str]:
        """The videos ``target``'s per-frame cases run on."""
        names = list(self.videos)
        return names[:1] if target in self.first_video_only else names

    def lines(self) -> list[str]:
        """What the run will do, for a person, before it starts."""
        frames = sum(v.frames for v in self.videos.values())
        sizes = sorted({f"{v.width}x{v.height}" for v in self.videos.values()})
        cap = "" if self.frames_per_video is None else f", epochs read the first {self.frames_per_video} of each"
        cut = f", {len(self.clips)} cut to their first frames" if self.clips else ""
        out = [f"videos: {len(self.videos)} ({frames} frames{cut}; {', '.join(sizes)}){cap}",
               f"loaders: {len(self.decoders)} decoders, {len(self.readers)} frame readers (loader x store)",
               f"patterns: {', '.join(p.name for p in self.patterns)}"]
        if "extraction" in self.measures:
            out.append(f"extraction: {len(self.stores)} stores ({', '.join(s.brief for s in self.stores)}) "
                       f"x {len(self.videos)} videos")
        if "per_frame" in self.measures:
            cases = (1 + len(self.patterns)) * sum(len(self.case_videos(t)) for t in [*self.decoders, *self.readers])
            c = self.calibration
            out.append(f"per-frame: {cases} calibrated cases ({self.frames} frames, {c.warmup} warm-up + "
                       f"at least {c.min_time:g} s and {c.min_rounds} rounds each)")
        if "epoch" in self.measures:
            per_pattern = sum(self.caches.get(t, 1) for t in [*self.decoders, *self.readers])
            cells = len(self.patterns) * len(self.workers) * per_pattern
            cold = sum(self.caches.get(t, 1) > 1 for t in [*self.decoders, *self.readers])
            also = f"; {cold} targets cold and warm" if cold else ""
            workers = ",".join(map(str, self.workers))
            more = f", more up to {MORE_EPOCHS * self.epochs} where they add up to less than " \
                f"{self.epoch_min_time:g} s" if self.epoch_min_time > 0 else ""
            out.append(f"epochs: {cells} cells x {self.epochs} epochs{more} (workers {workers}{also})")
        return out
