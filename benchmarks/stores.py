"""Frame stores for the frame loaders: extracted once per (extractor, format, quality), timed once.

Stores of the built-in corpus live beside it (``<corpus cache>/stores/<label>/<video>``); stores
of your videos (``--videos``) in :func:`user_cache` (``$VIDBENCH_CACHE_DIR``, default
``~/.cache/vidbench``), never inside the repository: they can take many times the videos' size.
Either way every dependency stack of a run, and later runs, read the same files. Measuring extraction
removes the stores first, so its seconds are those of a fresh extraction of the whole corpus,
one video per core at a time.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import shutil
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import loaders
from benchmarks import corpus
from loaders.vocabulary import LOSSY, store_label


def user_cache() -> Path:
    """Where stores of your videos go: ``$VIDBENCH_CACHE_DIR``, else ``~/.cache/vidbench``."""
    return Path(os.environ.get("VIDBENCH_CACHE_DIR") or Path.home() / ".cache" / "vidbench")


def default_root(user_videos: bool) -> Path:
    """The stores of a run: the corpus cache's for the built-in corpus, the user cache's for ``--videos``."""
    return user_cache() / "stores" if user_videos else corpus.DEFAULT_CACHE / "stores"


@dataclasses.dataclass(frozen=True)
class StoreSpec:
    extractor: str = "ffmpeg"
    format: str = "jpeg"  # noqa: A003 - the store's word for it
    quality: int | None = 90

    def __post_init__(self) -> None:
        if self.format not in LOSSY:  # written without loss: no quality
            object.__setattr__(self, "quality", None)

    @property
    def label(self) -> str:
        return store_label(self.extractor, self.format, self.quality)


def specs(extractors: Sequence[str], formats: Sequence[str], quality: int) -> list[StoreSpec]:
    return list(dict.fromkeys(StoreSpec(e, f, quality) for e in extractors for f in formats))


def video_key(video: str | os.PathLike[str]) -> str:
    """A store name for ``video``: its stem and a hash of where it is, its size and its mtime."""
    path = Path(video).resolve()
    st = path.stat()
    digest = hashlib.sha256(f"{path}|{st.st_size}|{st.st_mtime_ns}".encode()).hexdigest()[:10]
    return f"{path.stem}-{digest}"


def store_path(root: str | os.PathLike[str], video: str | os.PathLike[str], spec: StoreSpec) -> Path:
    return Path(root) / spec.label / video_key(video)


def _extract(video: str, store: Path, spec: StoreSpec) -> loaders.Extraction:
    # A lossless format ignores the quality: pass extract's default rather than None.
    if spec.quality is None:
        return loaders.extract(video, store, extractor=spec.extractor, format=spec.format)
    return loaders.extract(video, store, extractor=spec.extractor, format=spec.format, quality=spec.quality)


def ensure(root: str | os.PathLike[str], video: str, spec: StoreSpec) -> Path:
    """The store of ``video`` for ``spec``, extracted now if missing (extraction resumes)."""
    store = store_path(root, video, spec)
    _extract(video, store, spec)
    return store


@dataclasses.dataclass
class Cost:
    seconds: float  # wall time for the whole corpus
    bytes: int
    frames: int
    source_bytes: int
    failed: dict[str, str]  # video -> why its extraction failed


def measure(root: str | os.PathLike[str], videos: Sequence[str], spec: StoreSpec, jobs: int) -> Cost:
    """Extract every video afresh, ``jobs`` at a time, and time the whole."""
    stores = {v: store_path(root, v, spec) for v in videos}
    for store in stores.values():
        shutil.rmtree(store, ignore_errors=True)
    failed: dict[str, str] = {}
    done: dict[str, loaders.Extraction] = {}
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = {v: pool.submit(_extract, v, stores[v], spec) for v in videos}
        for v, future in futures.items():
            try:
                done[v] = future.result()
            except loaders.LoaderError as exc:
                failed[v] = str(exc)
    seconds = time.perf_counter() - start
    return Cost(seconds, sum(e.bytes for e in done.values()), sum(e.frames for e in done.values()),
                sum(os.path.getsize(v) for v in done), failed)
