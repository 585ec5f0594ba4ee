"""Frame stores: the layout :func:`loaders.extract` writes and the base of every frame reader.

A store is a directory per video:

* ``jpeg`` / ``png``: one file per frame, ``000000.jpg``, ``000001.jpg``, ... (frame ``i`` is
  the ``i``-th decoded frame in presentation order);
* ``npy``: ``frames.npy``, one ``(N, H, W, 3)`` uint8 array, memory-mapped when read;
* ``tar``: ``frames.tar``, an uncompressed tar of JPEG members named as above;
* ``mp4`` (a transcoded store): ``video.mp4``, the video re-encoded with H.264 (every frame kept, a
  keyframe every ``gop`` frames), read by the decode loaders: they open :func:`transcoded_video`;

and ``manifest.json``, written last, which marks the store complete and carries the metadata
readers report (frames, fps, width, height) and what the extraction cost (seconds, bytes).
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from loaders.base import Source, read_sorted_unique
from loaders.errors import CorruptVideo, LoaderError, cause_of
from loaders.vocabulary import FORMATS, TRANSCODED

MANIFEST = "manifest.json"
NPY_FILE = "frames.npy"
TAR_FILE = "frames.tar"
VIDEO_FILE = "video.mp4"
# What loaders.extract writes: the frame formats and the transcoded store.
STORE_FORMATS: tuple[str, ...] = (*FORMATS, TRANSCODED)
_EXTENSIONS = {"jpeg": ".jpg", "png": ".png", "tar": ".jpg"}
# Bump when the layout changes: stores of another version are extracted again.
# 2: the manifest records the store size (short side) the frames were resized to.
STORE_VERSION = 2


def frame_name(index: int, format: str) -> str:  # noqa: A002 - "format" is the store's word
    """File name of frame ``index`` in a jpeg/png store, or of its member in a tar store."""
    return f"{index:06d}{_EXTENSIONS[format]}"


def is_store_entry(name: str) -> bool:
    """Whether ``name`` is a file an extraction writes (so a partial store may be removed)."""
    stem, ext = os.path.splitext(name)
    return name in (MANIFEST, NPY_FILE, TAR_FILE, VIDEO_FILE) or (stem.isdigit() and ext in (".jpg", ".png"))


@dataclasses.dataclass(frozen=True)
class Manifest:
    source: str  # absolute path of the video at extraction time
    source_size: int
    source_mtime_ns: int
    frames: int
    fps: float
    width: int
    height: int
    format: str
    quality: int | None  # JPEG quality (jpeg, tar); None for lossless formats
    extractor: str
    threads: int
    seconds: float  # wall time of the extraction (decode, encode, write)
    bytes: int  # bytes on disk of the frames, manifest excluded
    size: int | None = None  # short side the frames were resized to (loaders.resize); None: as decoded
    gop: int | None = None  # keyframe interval of a transcoded (mp4) store
    crf: int | None = None  # H.264 constant rate factor of a transcoded store
    version: int = STORE_VERSION
    # The rest of the source's identity (loaders.fileid); None in a store written before they were kept.
    source_inode: int | None = None
    source_ctime_ns: int | None = None
    source_fingerprint: str | None = None

    def write(self, store: str | os.PathLike[str]) -> None:
        path = Path(store) / MANIFEST
        with open(path, "w") as f:
            json.dump(dataclasses.asdict(self), f, indent=1)
            f.flush()
            # The manifest is the "complete" mark: it must not reach the disk before the frames.
            os.fsync(f.fileno())


def check_frames(folder: str | os.PathLike[str], format: str, frames: int, width: int, height: int) -> None:  # noqa: A002
    """Raise CorruptVideo unless ``folder`` holds exactly frames ``0..frames-1`` of this layout.

    Run on the files themselves before a manifest is written, so a store is never marked
    complete over frames that are missing, misnamed or short.
    """
    folder = Path(folder)
    if format == TRANSCODED:
        from loaders.probe import probe

        info = probe(folder / VIDEO_FILE)
        if (info.num_frames, info.width, info.height) != (frames, width, height):
            raise CorruptVideo(
                folder / VIDEO_FILE,
                f"holds {info.num_frames} frames of {info.width}x{info.height}, expected {frames} of {width}x{height}",
            )
        return
    if format == "npy":
        try:
            array = np.load(folder / NPY_FILE, mmap_mode="r")
        except (OSError, ValueError) as exc:
            raise CorruptVideo(folder / NPY_FILE, f"unreadable frame array: {cause_of(exc)}") from exc
        if array.shape != (frames, height, width, 3):
            raise CorruptVideo(folder / NPY_FILE, f"holds {array.shape}, expected {(frames, height, width, 3)}")
        return
    if format == "tar":
        import tarfile

        with tarfile.open(folder / TAR_FILE) as tar:
            names = tar.getnames()
    else:
        names = sorted(n for n in os.listdir(folder) if is_store_entry(n) and n != MANIFEST)
    want = [frame_name(i, format) for i in range(frames)]
    if names != want:
        missing = sorted(set(want) - set(names))
        raise CorruptVideo(
            folder,
            f"{len(names)} frame files on disk, expected {frames} named {want[0] if want else '-'}.."
            f"{want[-1] if want else '-'}" + (f" ({missing[0]} missing)" if missing else ""),
        )


def transcoded_video(store: str | os.PathLike[str]) -> Path:
    """The video a decode loader opens for a transcoded store; LoaderError if ``store`` is not one."""
    m = read_manifest(store)
    if m.format != TRANSCODED:
        raise LoaderError(store, f"a {m.format} frame store, not a transcoded ({TRANSCODED}) store")
    return Path(store) / VIDEO_FILE


def read_manifest(store: str | os.PathLike[str]) -> Manifest:
    """The manifest of ``store``; a missing or unreadable one raises CorruptVideo naming it."""
    path = Path(store) / MANIFEST
    try:
        with open(path) as f:
            data = json.load(f)
        return Manifest(**data)
    except FileNotFoundError:
        raise CorruptVideo(path, "no manifest: not a complete frame store (extraction unfinished?)") from None
    except (OSError, ValueError, TypeError) as exc:
        raise CorruptVideo(path, f"unreadable manifest: {cause_of(exc)}") from exc


class StoreSource(Source):
    """A frame reader: metadata from the manifest, frames from the store's files.

    Subclasses name the ``formats`` they read; a store of another format raises a LoaderError.
    """

    kind = "frames"
    formats: ClassVar[tuple[str, ...]]

    def __init__(self, path: str | os.PathLike[str], **options: Any) -> None:
        super().__init__(path, **options)
        if not os.path.isdir(self.path):
            raise CorruptVideo(self.path, "not a frame store (a directory written by loaders.extract)")
        self.manifest = read_manifest(self.path)
        m = self.manifest
        if m.format not in self.formats:
            raise LoaderError(
                self.path,
                f"{type(self).__name__} reads {'/'.join(self.formats)} stores; this store holds {m.format}",
            )
        self.num_frames, self.fps, self.width, self.height = m.frames, m.fps, m.width, m.height

    def frame_path(self, index: int) -> str:
        return os.path.join(self.path, frame_name(index, self.manifest.format))

    def read_each(self, indices: np.ndarray, decode: Callable[[int], np.ndarray]) -> np.ndarray:
        """Serve a request with ``decode(index) -> (H, W, 3)``, each distinct frame decoded once."""

        def ascending(unique: np.ndarray) -> np.ndarray:
            out = np.empty((len(unique), self.height, self.width, 3), dtype=np.uint8)
            for k, index in enumerate(unique.tolist()):
                out[k] = decode(index)
            return out

        return read_sorted_unique(indices, ascending)

    def read_files(self, indices: np.ndarray, decode_file: Callable[[str], np.ndarray]) -> np.ndarray:
        """Serve a request from one file per frame with ``decode_file(path) -> (H, W, 3)`` RGB."""

        def one(index: int) -> np.ndarray:
            path = self.frame_path(index)
            frame = decode_file(path)
            self.check_shape(frame, path)
            return frame

        return self.read_each(indices, one)

    def check_shape(self, frame: Any, where: str) -> None:
        """Raise CorruptVideo naming ``where`` unless ``frame`` is an (H, W, 3) image of the store."""
        want = (self.height, self.width, 3)
        if tuple(frame.shape) != want:
            raise CorruptVideo(where, f"decoded shape {tuple(frame.shape)}, the manifest says {want}")


def read_file(path: str) -> bytes:
    """The bytes of one frame file; a missing or unreadable one raises CorruptVideo naming it."""
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as exc:
        raise CorruptVideo(path, f"cannot read frame file: {exc.strerror or exc}") from exc


def check_jpeg_complete(data: bytes, where: str) -> None:
    """A JPEG ends with the EOI marker; libjpeg only warns on a truncated one and fills grey."""
    if not data.endswith(b"\xff\xd9"):
        raise CorruptVideo(where, "truncated or not a JPEG (no end-of-image marker)")
