"""Stores for the benchmarks: extracted once per (extractor, format, quality, size), timed once.

Frame stores are read by the frame loaders; transcoded stores (format ``mp4``: the video
re-encoded at training size with a short keyframe interval) by the decode loaders, which open the
store's ``video.mp4`` (:func:`loaders.store.transcoded_video`). Stores of the built-in corpus live
beside it (``<corpus cache>/stores/<label>/<video>``); stores of your videos (``--videos``) in
:func:`user_cache` (``$VIDBENCH_CACHE_DIR``, default ``~/.cache/vidbench``), never inside the
repository: they can take many times the videos' size. Either way every dependency stack of a run,
and later runs, read the same files. Measuring extraction removes the stores first, so its seconds
are those of a fresh extraction of the whole corpus, one video per core at a time.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import shutil
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import loaders
from benchmarks import corpus, env
from benchmarks.spec import Store
from loaders.errors import cause_of
from loaders.extraction import interruptible
from loaders.fileid import file_id
from loaders.resize import check_size
from loaders.store import transcoded_video
from loaders.vocabulary import TRANSCODED

# Transcoded stores by default: H.264 at spec.CRF (visually lossless; the README has the measured sizes
# and differences), keyframes every frame (GOP 1: any frame is one decode away) or every 8.
GOPS = (1, 8)


class StoresUnwritable(loaders.LoaderError):
    """The folder the stores go to cannot be written: the run stops rather than lose its stores."""


def check_writable(root: str | os.PathLike[str]) -> None:
    """Raise StoresUnwritable, naming ``root`` and why, unless a store can be written there."""
    try:
        Path(root).mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=root):
            pass
    except OSError as exc:
        raise StoresUnwritable(root, f"the stores folder cannot be written ({cause_of(exc)}): make it writable "
                                     "or pass --stores DIR") from None


def user_cache() -> Path:
    """Where stores of your videos go: ``$VIDBENCH_CACHE_DIR``, else ``~/.cache/vidbench``."""
    return Path(os.environ.get("VIDBENCH_CACHE_DIR") or Path.home() / ".cache" / "vidbench")


def default_root(user_videos: bool) -> Path:
    """The stores of a run: the corpus cache's for the built-in corpus, the user cache's for ``--videos``."""
    return user_cache() / "stores" if user_videos else corpus.DEFAULT_CACHE / "stores"


# Defaults of both front doors: every frame store at 256 (training size) and JPEG also at full size
# (what extracting frames naively gives), transcodes at 256 decoded by the two decoders most used
# in training pipelines. ``--store-sizes full,256`` stores every format at both sizes; the README
# says what these defaults trade for a run of 20 minutes.
SIZES: tuple[int | None, ...] = (256,)
FULL_SIZE_FORMATS: tuple[str, ...] = ("jpeg",)
TRANSCODE_SIZES: tuple[int | None, ...] = (256,)
TRANSCODE_LOADERS = ("pyav", "torchcodec")


def parse_sizes(text: str) -> list[int | None]:
    """``full,256``: store sizes, ``full`` for frames as decoded, else an even short side; a
    ValueError says which word is neither."""
    out: list[int | None] = []
    for word in (w.strip() for w in text.split(",") if w.strip()):
        if word == "full":
            out.append(None)
            continue
        try:
            out.append(check_size(int(word)))
        except (ValueError, loaders.LoaderError):
            raise ValueError(f"{word!r}: 'full' or a positive even number of pixels") from None
    return list(dict.fromkeys(out))


def specs(extractors: Sequence[str], formats: Sequence[str], quality: int,
          sizes: Sequence[int | None] = (None,), full: Sequence[str] = ()) -> list[Store]:
    """Frame stores: every extractor x format x size, and the formats of ``full`` (those of
    ``formats``) at full size too."""
    at_full = [Store(e, f, quality, None) for e in extractors for f in formats if f in full]
    return list(dict.fromkeys(at_full + [Store(e, f, quality, s) for s in sizes for e in extractors
                                         for f in formats]))


def transcodes(gops: Sequence[int], crf: int, sizes: Sequence[int | None]) -> list[Store]:
    """Transcoded stores (ffmpeg, H.264): every keyframe interval at every size."""
    return list(dict.fromkeys(Store("ffmpeg", TRANSCODED, None, s, g, crf) for s in sizes for g in gops))


def video_key(video: str | os.PathLike[str]) -> str:
    """A store name for ``video``: its stem and a hash of where it is and what it is now (size,
    mtime, inode, ctime and its first and last bytes: :mod:`loaders.fileid`)."""
    path = Path(video).resolve()
    try:
        ident = file_id(path)
    except OSError as exc:
        raise loaders.LoaderError(path, f"cannot be read: {cause_of(exc)}") from None
    digest = hashlib.sha256(f"{path}|{ident}".encode()).hexdigest()[:10]
    return f"{path.stem}-{digest}"


def store_path(root: str | os.PathLike[str], video: str | os.PathLike[str], spec: Store) -> Path:
    return Path(root) / spec.label / video_key(video)


def _extract(video: str, store: Path, spec: Store) -> loaders.Extraction:
    # A lossless format ignores the quality, a frame store the gop and crf: pass extract's defaults.
    given: dict[str, int] = {} if spec.quality is None else {"quality": spec.quality}
    if spec.transcoded:
        given.update(spec.coding())
    return loaders.extract(video, store, extractor=spec.extractor, format=spec.format, size=spec.store_size, **given)


def ensure(root: str | os.PathLike[str], video: str, spec: Store) -> Path:
    """The store of ``video`` for ``spec``, extracted now if missing (extraction resumes)."""
    store = store_path(root, video, spec)
    _extract(video, store, spec)
    return store


def opened_path(store: Path, spec: Store) -> Path:
    """What a loader opens for a store: the folder, or a transcoded store's video."""
    return transcoded_video(store) if spec.transcoded else store


@dataclasses.dataclass
class Cost:
    rounds: list[float]  # wall time for the whole corpus, each time it was extracted
    bytes: int
    frames: int
    source_bytes: int
    failed: dict[str, str]  # video -> why its extraction failed
    per_video: dict[str, int] = dataclasses.field(default_factory=dict)  # video -> bytes of its store
    # CPU seconds of each round (this process and the extractions it started: user and system),
    # and each video's wall seconds in the last: what a fit of how a larger dataset's videos share
    # the jobs can take (:func:`benchmarks.analysis.plan.extraction_scale` does not yet: CPU over
    # wall overstates what FFmpeg's threads gain on small frames).
    cpu: list[float] = dataclasses.field(default_factory=list)
    per_video_seconds: dict[str, float] = dataclasses.field(default_factory=dict)


SHORT = 1.0  # seconds: an extraction shorter than this is timed again (one timing of 0.1 s moved 50% between runs)
ROUNDS = 3  # the most times a short extraction is timed


def measure(root: str | os.PathLike[str], videos: Sequence[str], spec: Store, jobs: int) -> Cost:
    """Extract every video afresh, ``jobs`` at a time, and time the whole; a whole shorter than
    :data:`SHORT` is extracted afresh again until the rounds add up to it, :data:`ROUNDS` at most
    (a long one is timed once: its own length steadies it)."""
    cost = _measure_once(root, videos, spec, jobs)
    while not cost.failed and sum(cost.rounds) < SHORT and len(cost.rounds) < ROUNDS:
        again = _measure_once(root, videos, spec, jobs)
        if again.failed:  # failed now, not before: the store is what this round left
            return again
        cost.rounds += again.rounds
        cost.cpu += again.cpu
        cost.per_video_seconds = again.per_video_seconds
    return cost


def _timed_extract(video: str, store: Path, spec: Store) -> tuple[loaders.Extraction, float]:
    start = time.perf_counter()
    return _extract(video, store, spec), time.perf_counter() - start


def _measure_once(root: str | os.PathLike[str], videos: Sequence[str], spec: Store, jobs: int) -> Cost:
    stores = {v: store_path(root, v, spec) for v in videos}
    for store in stores.values():
        shutil.rmtree(store, ignore_errors=True)
    failed: dict[str, str] = {}
    done: dict[str, loaders.Extraction] = {}
    took: dict[str, float] = {}
    cpu = env.cpu_seconds()
    start = time.perf_counter()
    # Ctrl-C stops the extractions under way (no partial store stays), not only the ones queued.
    with interruptible(ThreadPoolExecutor(max_workers=max(1, jobs))) as pool:
        futures = {v: pool.submit(_timed_extract, v, stores[v], spec) for v in videos}
        for v, future in futures.items():
            try:
                done[v], took[v] = future.result()
            except loaders.LoaderError as exc:
                failed[v] = str(exc)
    seconds = time.perf_counter() - start
    return Cost([seconds], sum(e.bytes for e in done.values()), sum(e.frames for e in done.values()),
                sum(os.path.getsize(v) for v in done), failed, {v: e.bytes for v, e in done.items()},
                [env.cpu_seconds() - cpu], took)
