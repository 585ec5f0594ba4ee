"""Pre-extraction: a video -> a frame store (see :mod:`loaders.store`), with its cost measured.

Three extractors, each the way people really do it:

* ``ffmpeg``: imageio-ffmpeg's ffmpeg binary, one process per video, ``-threads`` set, encoding
  in ffmpeg (``mjpeg``, ``png``) or piping raw RGB for ``npy``;
* ``pyav``: PyAV decodes, Pillow (or Pillow-SIMD) encodes;
* ``cv2``: OpenCV decodes (BGR) and ``cv2.imencode`` encodes.

Every extractor reads the video stream the probe picks (FFmpeg's default, never cover art;
``-map 0:N`` for ffmpeg); OpenCV cannot choose and refuses a file whose default video stream is
not its first, as :class:`loaders.UnsupportedVideo`.

Frame ``i`` of a store is the ``i``-th frame the reference decode gives: ffmpeg runs with
``-fps_mode passthrough`` (no frame duplicated or dropped for VFR or a non-zero start). Frames
are stored upright, as the decode loaders return them: ffmpeg and OpenCV turn them by the
display matrix, PyAV's go through :mod:`loaders.orientation`. ffmpeg's RGB conversion of the corpus is
bit-identical to PyAV's ``to_ndarray(format="rgb24")``, so png and npy stores hold exactly the
reference frames whichever extractor wrote them (the contract tests check it).

Safety: a store is written into a temporary sibling (``.NAME.partial-XXXX``) and renamed into
place only after the frames on disk are checked (count and names) and ``manifest.json``, the
mark of a complete store, is written inside it. A re-run reuses a complete store whose source is
the same file (size, mtime, inode, ctime and a hash of its first and last bytes:
:mod:`loaders.fileid`) and whose frame count and size still match the video's probe; it redoes a
partial store or one whose source changed, and refuses up front with
:class:`loaders.InsufficientSpace` when the bytes, estimated from the first frames, would not
fit; a disk that fills all the same raises InsufficientSpace too, and leaves nothing behind.
One extraction per store at a time: a lock file beside the store (``.NAME.lock``, filelock)
makes a second caller, in any process, wait and then reuse the first one's store. An ffmpeg
child dies with its parent.

Stopping: :func:`interruptible` wraps the pool extractions run in; leaving it by an exception
(Ctrl-C) kills every ffmpeg child of this process and makes the pyav and cv2 extractors stop at
their next frame, so their stores are removed as a failed extraction's are, within a second.

``size=S`` stores frames resized so the short side is S (:mod:`loaders.resize`).

``format="mp4"`` (ffmpeg only) writes a transcoded store: the video re-encoded with libx264 at
``crf`` (default 18) with a keyframe every ``gop`` frames (default 1) and no scene-cut keyframes,
every frame kept (``-fps_mode passthrough``), 8-bit 4:2:0, upright, resized by the same area
filter; decode loaders read its ``video.mp4``. 4:2:0 needs even sides: a video with an odd width
or height (321x241) is stored one pixel smaller on that side (320x240), through the same area
filter, even at full size. It is lossy: the benchmarks verify it against the
resized reference decode with the JPEG stores' rule (:mod:`benchmarks.verify`).
"""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import errno
import functools
import importlib.util
import io
import os
import shutil
import signal
import struct
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Executor
from pathlib import Path

import numpy as np
from filelock import FileLock

from loaders import options, orientation, units
from loaders.errors import (
    BackendUnavailable,
    CorruptVideo,
    InsufficientSpace,
    LoaderError,
    UnsupportedVideo,
    VideoNotFound,
    cause_of,
)
from loaders.fileid import FileId, file_id
from loaders.paths import absolute
from loaders.probe import probe
from loaders.resize import check_size, resize_rgb, scaled_size
from loaders.store import (
    MANIFEST,
    NPY_FILE,
    STORE_FORMATS,
    STORE_VERSION,
    TAR_FILE,
    VIDEO_FILE,
    Manifest,
    check_frames,
    frame_name,
    is_store_entry,
    read_manifest,
)
from loaders.vocabulary import LOSSY, TRANSCODED, store_label

# extractor -> (the module it imports, its distribution)
_EXTRACTOR_LIBRARY: dict[str, tuple[str, str]] = {
    "ffmpeg": ("imageio_ffmpeg", "imageio-ffmpeg"),
    "pyav": ("av", "av"),
    "cv2": ("cv2", "opencv-python-headless"),
}
EXTRACTORS: tuple[str, ...] = tuple(_EXTRACTOR_LIBRARY)
SAMPLE_FRAMES = 8  # frames encoded up front to estimate the bytes of a whole store
SPACE_MARGIN = 1.2  # later frames may compress worse than the first ones
PNG_LEVEL = 6  # zlib level for every extractor's PNG encoder (Pillow's default), for a fair size
GOP = 1  # keyframe interval of a transcoded store by default: every frame decodes on its own
CRF = 18  # libx264's constant rate factor of a transcoded store by default (0 lossless .. 51; 23 is x264's)
X264_PRESET = "medium"  # x264's default speed/size trade-off


@dataclasses.dataclass(frozen=True)
class Extraction:
    """What one store cost: wall ``seconds`` (decode, encode, write) and ``bytes`` on disk.

    ``reused`` is True when a complete store was found and nothing was extracted; the figures
    are then those of the run that wrote it.
    """

    store: Path
    seconds: float
    bytes: int
    frames: int
    reused: bool = False


def disk_free(path: str | os.PathLike[str]) -> int:
    """Free bytes on the file system holding ``path`` (tests monkeypatch this)."""
    return shutil.disk_usage(path).free


def store_path(
    root: str | os.PathLike[str],
    video: str | os.PathLike[str],
    extractor: str,
    format: str,  # noqa: A002
    quality: int,
    size: int | None = None,
    gop: int | None = None,
) -> Path:
    """Where :func:`loaders.batch.extract_all` puts the store of ``video``: one per extractor, format, quality and
    size (and keyframe interval, for a transcoded store)."""
    return Path(root) / f"{Path(video).stem}.{store_label(extractor, format, quality, size, gop)}"


def extract(
    video: str | os.PathLike[str],
    store: str | os.PathLike[str],
    extractor: str = "ffmpeg",
    format: str = "jpeg",  # noqa: A002 - the public name (DESIGN.md)
    quality: int = 90,
    size: int | None = None,
    *,
    threads: int = 1,
    gop: int = GOP,
    crf: int = CRF,
) -> Extraction:
    """Extract every frame of ``video`` into the store directory ``store``.

    ``quality`` is the JPEG quality (1-100) of ``jpeg`` and ``tar`` stores and is ignored for
    the lossless ``png`` and ``npy``. ``size`` is the short side in pixels the frames are
    resized to (an even number; see :mod:`loaders.resize`), None to keep the decoded size.
    ``threads`` is the decoder's (and ffmpeg's encoder's) thread count. ``format="mp4"`` (ffmpeg
    only) transcodes instead: H.264 at ``crf`` (0-51) with a keyframe every ``gop`` frames (>= 1),
    an odd width or height rounded down to even (4:2:0 needs even sides); the store's video is
    :func:`loaders.store.transcoded_video`. Returns what the
    extraction cost: the seconds of decoding, encoding and writing, not of the probe and the
    space estimate that come before (what a user's own extraction script would not do). A
    complete store of the same video and settings is reused. Bad input raises
    :class:`loaders.LoaderError` naming the path; a disk that fills raises InsufficientSpace.
    """
    video, store = Path(video), Path(store)
    if extractor not in EXTRACTORS:
        raise LoaderError(video, f"unknown extractor {extractor!r}; known: {', '.join(EXTRACTORS)}")
    module, package = _EXTRACTOR_LIBRARY[extractor]
    if importlib.util.find_spec(module) is None:
        others = ", ".join(repr(e) for e in EXTRACTORS if e != extractor)
        raise BackendUnavailable(
            video,
            f"the {extractor!r} extractor needs {package}, which is not installed (pip install "
            f"{package}), or pass another extractor: {others}",
        )
    if format not in STORE_FORMATS:
        raise LoaderError(store, f"unknown store format {format!r}; known: {', '.join(STORE_FORMATS)}")
    if format == TRANSCODED:
        if extractor != "ffmpeg":
            raise LoaderError(
                store, f"a transcoded ({TRANSCODED}) store is written by the ffmpeg extractor, not {extractor!r}"
            )
        if not options.in_range(gop, (options.GOP_MIN, None)):
            raise LoaderError(store, f"keyframe interval (gop) must be a positive integer, got {gop!r}")
        if not options.in_range(crf, options.CRF):
            raise LoaderError(store, f"H.264 crf must be an integer in 0..51, got {crf!r}")
    if format in LOSSY and not options.in_range(quality, options.QUALITY):
        raise LoaderError(store, f"JPEG quality must be an integer in 1..100, got {quality!r}")
    if not options.in_range(threads, options.THREADS):
        raise LoaderError(store, f"threads must be an integer in 0..{options.MAX_THREADS}, got {threads!r}")
    try:
        check_size(size)
    except LoaderError as exc:
        raise LoaderError(store, exc.cause) from None
    if not video.is_file():
        raise VideoNotFound(video, "no such file")
    try:
        source = file_id(video)
    except OSError as exc:
        raise LoaderError(video, f"cannot be read: {cause_of(exc)}") from None
    kept_quality = quality if format in LOSSY else None
    coding: dict[str, int | None] = {"gop": gop, "crf": crf} if format == TRANSCODED else {"gop": None, "crf": None}
    wanted: dict[str, object] = {
        "format": format,
        "quality": kept_quality,
        "extractor": extractor,
        "size": size,
        **coding,
    }

    try:
        make = functools.partial(
            _extract_locked, video, store, source, extractor, format, quality, size, threads, coding
        )
        return _extract_in(video, store, source, size, wanted, make)
    except OSError as exc:  # the folder, not the video: read-only, no permission, full
        if exc.errno in _DISK_FULL:
            raise InsufficientSpace(store.parent, f"no room to write the store: {exc.strerror}") from None
        if exc.errno in _NOT_WRITABLE:
            raise LoaderError(store.parent, f"cannot write the store there: {exc.strerror}") from None
        raise


_NOT_WRITABLE = (errno.EROFS, errno.EACCES, errno.EPERM)


def _extract_in(
    video: Path,
    store: Path,
    source: FileId,
    size: int | None,
    wanted: dict[str, object],
    make: Callable[[], Extraction],
) -> Extraction:
    """The store of ``video`` as ``wanted``: a complete one already there, or ``make()`` (the
    extraction, :func:`_extract_locked`) with the store's lock held."""
    store.parent.mkdir(parents=True, exist_ok=True)
    # One extraction per store at a time, across processes and machines sharing the directory: a
    # second caller waits here, then finds the first one's complete store and reuses it.
    with FileLock(lock_path(store)):
        done = _complete(store, source, wanted)
        if done is not None and _as_probed(done, video, size):
            return Extraction(store, done.seconds, done.bytes, done.frames, reused=True)
        if store.exists() and not _ours(store):
            raise LoaderError(store, "exists and is not a frame store (it holds other files); not overwriting it")
        # Holding the lock, no live process is writing beside the store: what is there was left by a
        # process that died (its lock went with it).
        _remove_leftovers(store)
        return make()


def lock_path(store: str | os.PathLike[str]) -> Path:
    """The lock file beside ``store`` that every extraction into it holds."""
    store = Path(store)
    return store.with_name(f".{store.name}.lock")


def _extract_locked(
    video: Path,
    store: Path,
    source: FileId,
    extractor: str,
    format: str,  # noqa: A002
    quality: int,
    size: int | None,
    threads: int,
    coding: dict[str, int | None],
) -> Extraction:
    # The packet-level probe every decode loader uses: it refuses truncated files and knows the
    # frame count, so an extractor that stops early or drops frames cannot go unnoticed.
    info = probe(video)
    fps, expected = info.fps, info.num_frames
    coding = {**coding, "stream": info.stream}
    width, height = scaled_size(info.width, info.height, size)
    if format == TRANSCODED:  # H.264 in 4:2:0 takes even sides only: an odd one is scaled down by a pixel
        width, height = max(2, width - width % 2), max(2, height - height % 2)
    resized = (width, height) != (info.width, info.height)
    run = _EXTRACTORS[extractor]
    kept_quality = quality if format in LOSSY else None
    tmp = Path(tempfile.mkdtemp(prefix=f".{store.name}.partial-", dir=store.parent))
    writer: _Writer | None = None
    try:
        _check_space(run, video, tmp, store, format, quality, threads, (width, height, resized), expected, coding)
        start = time.perf_counter()
        writer = _Writer(tmp, format, width, height, resized, **coding)
        run(video, writer, quality, threads, None)
        writer.close()
        seconds = time.perf_counter() - start
        if writer.count != expected:
            raise CorruptVideo(
                video, f"{extractor} produced {writer.count} frames, the video holds {expected}: damaged data?"
            )
        check_frames(tmp, format, expected, width, height)
        nbytes = _size(tmp)
        Manifest(
            source=str(video.resolve()),
            source_size=source.size,
            source_mtime_ns=source.mtime_ns,
            source_inode=source.inode,
            source_ctime_ns=source.ctime_ns,
            source_fingerprint=source.fingerprint,
            frames=writer.count,
            fps=fps,
            width=width,
            height=height,
            format=format,
            quality=kept_quality,
            extractor=extractor,
            threads=threads,
            seconds=seconds,
            bytes=nbytes,
            size=size,
            gop=coding["gop"],
            crf=coding["crf"],
        ).write(tmp)
        _swap_in(tmp, store)
    except OSError as exc:
        if exc.errno not in _DISK_FULL:
            _discard(tmp, writer)
            raise
        written = _size(tmp)
        _discard(tmp, writer)
        raise InsufficientSpace(
            store,
            f"the disk filled up during extraction: {units.size(written)} of frames had been written to "
            f"{store.parent} ({os.strerror(exc.errno)}); the partial store was removed",
        ) from None
    except BaseException:
        _discard(tmp, writer)
        raise
    return Extraction(store, seconds, nbytes, writer.count)


_DISK_FULL = (errno.ENOSPC, errno.EDQUOT)


def _discard(tmp: Path, writer: _Writer | None) -> None:
    """Remove a failed extraction's temporary store, its open files closed first."""
    if writer is not None:
        writer.abandon()
    shutil.rmtree(tmp, ignore_errors=True)


# --- stopping -----------------------------------------------------------------------------


class Stopped(Exception):  # noqa: N818 - what happened, not a fault
    """An extraction stopped by :func:`stop` (Ctrl-C): its temporary store is removed."""


_stopping = threading.Event()
_children: set[subprocess.Popen[bytes]] = set()
_children_lock = threading.Lock()


def stop() -> None:
    """Stop every extraction this process runs: kill the ffmpeg children, and make the pyav and
    cv2 extractors raise :class:`Stopped` at their next frame. Until :func:`resume`, a new
    extraction stops at once."""
    _stopping.set()
    with _children_lock:
        for proc in list(_children):
            with contextlib.suppress(OSError):
                proc.kill()


def resume() -> None:
    """Let extractions run again after :func:`stop`."""
    _stopping.clear()


def _check_stopping(video: Path) -> None:
    if _stopping.is_set():
        raise Stopped(f"{video}: stopped")


@contextlib.contextmanager
def interruptible(pool: Executor) -> Iterator[Executor]:
    """``pool``, shut down on leaving. Leaving by an exception (Ctrl-C, a generator closed) first
    calls :func:`stop`, so the shutdown waits seconds, not for whole videos;
    queued ones never start."""
    stopped = False
    try:
        yield pool
    except BaseException:
        stopped = True
        stop()
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        if stopped:
            resume()


# --- store bookkeeping -------------------------------------------------------------------


def _complete(store: Path, source: FileId, wanted: dict[str, object]) -> Manifest | None:
    """The manifest of ``store`` if it is a complete store of this very file with these settings."""
    if not (store / MANIFEST).is_file():
        return None
    try:
        m = read_manifest(store)
    except LoaderError:
        return None
    kept = FileId(
        m.source_size, m.source_mtime_ns, m.source_inode or 0, m.source_ctime_ns or 0, m.source_fingerprint or ""
    )
    same_source = kept == source
    same_settings = all(getattr(m, k) == v for k, v in wanted.items())
    return m if same_source and same_settings and m.version == STORE_VERSION else None


def _as_probed(m: Manifest, video: Path, size: int | None) -> bool:
    """Whether the store's frame count and frame size are what the video's probe says now."""
    info = probe(video)
    return (m.frames, m.width, m.height) == (info.num_frames, *scaled_size(info.width, info.height, size))


def _ours(store: Path) -> bool:
    """Whether ``store`` holds only files an extraction writes, so replacing it loses nothing else."""
    return store.is_dir() and all(is_store_entry(name) for name in os.listdir(store))


def _remove_leftovers(store: Path) -> None:
    """Remove what an interrupted run left beside ``store`` (its temporary siblings)."""
    for prefix in (f".{store.name}.partial-", f".{store.name}.old-"):
        for path in store.parent.glob(f"{prefix}*"):
            shutil.rmtree(path, ignore_errors=True)


def _swap_in(tmp: Path, store: Path) -> None:
    """Rename the finished ``tmp`` to ``store``; an old store is moved aside first, then removed."""
    old = None
    if store.exists():
        old = tmp.with_name(tmp.name.replace(".partial-", ".old-"))
        os.rename(store, old)
    os.rename(tmp, store)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and p.name != MANIFEST)


def _check_space(
    run: _Extractor,
    video: Path,
    tmp: Path,
    store: Path,
    format: str,  # noqa: A002
    quality: int,
    threads: int,
    frame: tuple[int, int, bool],
    estimate: int,
    coding: dict[str, int | None],
) -> None:
    """Refuse before writing when the estimated store would not fit in the free space.

    ``frame`` is the stored (width, height) and whether the extractor resizes to it.
    """
    width, height, resized = frame
    if format == "npy":
        need = _NPY_HEADER + estimate * width * height * 3
    else:
        (tmp / "sample").mkdir()
        sample = _Writer(tmp / "sample", format, width, height, resized, **coding)
        run(video, sample, quality, threads, SAMPLE_FRAMES)
        sample.close()
        need = int(_size(sample.folder) / max(1, sample.count) * estimate * SPACE_MARGIN)
        shutil.rmtree(sample.folder)
    free = disk_free(store.parent)
    if need > free:
        raise InsufficientSpace(
            store,
            f"the store needs about {units.size(need)} (~{estimate} frames, estimated from the first "
            f"{SAMPLE_FRAMES}), only {units.size(free)} free on {store.parent}",
        )


# --- writing frames ----------------------------------------------------------------------

_NPY_HEADER = 128  # fixed, so the frame count can be filled in once known


def _npy_header(frames: int, height: int, width: int) -> bytes:
    # NPY format 1.0: magic, version, header length, a dict literal padded to a multiple of 64.
    text = f"{{'descr': '|u1', 'fortran_order': False, 'shape': ({frames}, {height}, {width}, 3), }}"
    body = text.ljust(_NPY_HEADER - 10 - 1) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(body)) + body.encode("latin1")


class _Writer:
    """Takes frames in decode order and lays them out as the store format wants."""

    def __init__(
        self,
        folder: Path,
        format: str,  # noqa: A002
        width: int,
        height: int,
        resized: bool,
        gop: int | None = None,
        crf: int | None = None,
        stream: int | None = None,
    ) -> None:
        self.folder, self.format, self.width, self.height = folder, format, width, height
        self.stream = stream or 0  # the video stream to read: the probe's (FFmpeg's default, never cover art)
        self.resized = resized  # frames come decoded at another size; the extractor resizes them
        self.gop, self.crf = gop, crf  # a transcoded store's H.264 settings
        self.count = 0
        self._npy = open(folder / NPY_FILE, "wb") if format == "npy" else None  # noqa: SIM115
        if self._npy is not None:
            self._npy.write(_npy_header(0, height, width))
        self._tar = tarfile.open(folder / TAR_FILE, "w", format=tarfile.USTAR_FORMAT) if format == "tar" else None  # noqa: SIM115

    def add_encoded(self, data: bytes) -> None:
        """One encoded JPEG/PNG frame."""
        _check_stopping(self.folder)
        name = frame_name(self.count, self.format)
        if self._tar is not None:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            self._tar.addfile(info, io.BytesIO(data))
        else:
            (self.folder / name).write_bytes(data)
        self.count += 1

    def add_rgb(self, frame: np.ndarray | bytes) -> None:
        """One (H, W, 3) uint8 RGB frame (or its raw bytes), for an npy store."""
        assert self._npy is not None
        _check_stopping(self.folder)
        size = self.width * self.height * 3
        data = memoryview(frame) if isinstance(frame, bytes) else np.ascontiguousarray(frame, np.uint8).data
        if data.nbytes != size:
            raise CorruptVideo(self.folder, f"frame {self.count} has {data.nbytes} bytes, expected {size}")
        self._npy.write(data)
        self.count += 1

    def adopt_video(self) -> None:
        """Count the frames of the video ffmpeg transcoded (a packet-level probe: no decoding)."""
        self.count = probe(self.folder / VIDEO_FILE).num_frames

    def adopt_files(self) -> None:
        """Count the frame files ffmpeg wrote itself; they must be numbered 0..N-1 without a gap."""
        names = sorted(n for n in os.listdir(self.folder) if is_store_entry(n) and n != MANIFEST)
        if names != [frame_name(i, self.format) for i in range(len(names))]:
            raise CorruptVideo(self.folder, "ffmpeg's frame files are not numbered 0..N-1")
        self.count = len(names)

    def close(self) -> None:
        if self._npy is not None:
            self._npy.seek(0)
            self._npy.write(_npy_header(self.count, self.height, self.width))
            self._npy.close()
        if self._tar is not None:
            self._tar.close()

    def abandon(self) -> None:
        """Close the open files of a failed extraction; what they still hold is thrown away."""
        for f in (self._npy, self._tar):
            if f is not None:
                with contextlib.suppress(OSError):
                    f.close()


# --- the extractors: (video, writer, quality, threads, limit) ------------------------------

_Extractor = Callable[[Path, _Writer, int, int, "int | None"], None]


def _mjpeg_qscale(quality: int) -> int:
    """ffmpeg's mjpeg takes a quantiser scale (1 best .. 31), not libjpeg's 1..100 quality.

    libjpeg scales its tables by s = 5000/q (q < 50) or 200 - 2q percent; ffmpeg's mjpeg uses
    the MPEG intra matrix times qscale/8, whose mean is about 0.144 of libjpeg's base table at
    s = 100. Matching the means gives qscale = 0.144 s: quality 90 -> 3, 75 -> 7, 50 -> 14.
    """
    s = 5000 / quality if quality < 50 else 200 - 2 * quality
    return int(min(31, max(1, round(0.144 * s))))


_PR_SET_PDEATHSIG = 1  # linux/prctl.h
# ffmpeg's words for a full disk or quota (strerror of ENOSPC, EDQUOT), in its C-locale stderr.
_FFMPEG_DISK_FULL = {"No space left on device": errno.ENOSPC, "Disk quota exceeded": errno.EDQUOT}


def _child_setup() -> Callable[[], None] | None:
    """A ``preexec_fn`` that makes the child die with its parent (Linux), else None.

    Without it an ffmpeg child of a process killed with SIGKILL (an OOM kill, a lost Ray worker)
    runs on and keeps writing into a store directory nobody owns. The signal is tied to the
    thread that started the child, which is also the one that waits for it here.
    """
    if sys.platform != "linux":
        return None
    prctl = ctypes.CDLL(None, use_errno=True).prctl  # resolved before the fork: the child only calls it
    parent = os.getpid()

    def die_with_parent() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent:  # the parent died before prctl took effect
            os._exit(1)

    return die_with_parent


def _run_ffmpeg(cmd: list[str], video: Path, stdout_to: Callable[[io.BufferedReader], None] | None = None) -> None:
    # stderr goes to a file: a pipe nobody reads would fill and stall ffmpeg.
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stderr=err,
            stdout=subprocess.PIPE if stdout_to else subprocess.DEVNULL,
            # preexec_fn and threads: the child runs one libc call resolved before the fork, nothing
            # that takes a lock another thread may hold.
            preexec_fn=_child_setup(),
        )
        with _children_lock:
            _children.add(proc)
        try:
            _check_stopping(video)
            if stdout_to is not None:
                assert proc.stdout is not None
                stdout_to(proc.stdout)  # type: ignore[arg-type]
                proc.stdout.close()
            code = proc.wait()
        finally:
            with _children_lock:
                _children.discard(proc)
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        _check_stopping(video)  # killed by stop(): not the video's fault
        if code != 0:
            err.seek(0)
            tail = err.read().decode(errors="replace").strip()[-1000:]
            for words, number in _FFMPEG_DISK_FULL.items():
                if words in tail:  # the disk is at fault, not the video: extract() says so
                    raise OSError(number, words)
            raise CorruptVideo(video, f"ffmpeg failed ({code}): {tail}")


def _ffmpeg(video: Path, writer: _Writer, quality: int, threads: int, limit: int | None) -> None:
    from imageio_ffmpeg import get_ffmpeg_exe

    cmd = [get_ffmpeg_exe(), "-nostdin", "-hide_banner", "-loglevel", "error"]
    # -xerror: stop at a decoding error instead of writing concealed (wrong) frames and going on.
    cmd += ["-xerror", "-threads", str(threads), "-i", absolute(video)]
    # One video stream, every decoded frame once: none duplicated or dropped for VFR or a late start.
    cmd += ["-map", f"0:{writer.stream}", "-an", "-sn", "-dn", "-fps_mode", "passthrough"]
    # Unscaled yuv420p -> rgb24 takes the same swscale path as PyAV's to_ndarray.
    cmd += ["-sws_flags", "bilinear", "-threads", str(threads)]
    if writer.resized:
        # The RGB frame, then area averaging in RGB: what pyav's extractor and loaders.resize do; a
        # transcoded store goes back to the 4:2:0 every H.264 decoder reads.
        back = ",format=yuv420p" if writer.format == TRANSCODED else ""
        cmd += ["-vf", f"format=rgb24,scale={writer.width}:{writer.height}:flags=area{back}"]
    if limit is not None:
        cmd += ["-frames:v", str(limit)]
    fmt = writer.format
    if fmt == TRANSCODED:
        # A keyframe every gop frames and nowhere else (no scene-cut ones), so seeking costs at most gop-1
        # decoded frames; 8-bit 4:2:0 whatever the source; the index up front for a quick open.
        codec = [
            "-c:v",
            "libx264",
            "-preset",
            X264_PRESET,
            "-crf",
            str(writer.crf),
            "-g",
            str(writer.gop),
            "-keyint_min",
            str(writer.gop),
            "-sc_threshold",
            "0",
            "-pix_fmt",
            "yuv420p",
            "-movflags",
            "+faststart",
        ]
        _run_ffmpeg([*cmd, *codec, "-f", "mp4", absolute(writer.folder / VIDEO_FILE)], video)
        writer.adopt_video()
        return
    if fmt == "npy":
        frame_bytes = writer.width * writer.height * 3

        def consume(pipe: io.BufferedReader) -> None:
            while chunk := pipe.read(frame_bytes):
                writer.add_rgb(chunk)

        _run_ffmpeg([*cmd, "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"], video, consume)
        return
    if fmt == "png":
        codec = ["-c:v", "png", "-pix_fmt", "rgb24", "-compression_level", str(PNG_LEVEL)]
    else:
        # Full-range 4:2:0 as JPEG wants (what yuvj420p meant), at the matching quantiser.
        codec = ["-c:v", "mjpeg", "-pix_fmt", "yuv420p", "-color_range", "pc"]
        codec += ["-q:v", str(_mjpeg_qscale(quality)), "-qmin", "1"]
    folder = writer.folder if fmt != "tar" else writer.folder / "jpeg"
    folder.mkdir(exist_ok=True)
    pattern = absolute(folder / f"%06d{os.path.splitext(frame_name(0, fmt))[1]}")
    _run_ffmpeg([*cmd, *codec, "-start_number", "0", "-f", "image2", pattern], video)
    if fmt != "tar":
        writer.adopt_files()
        return
    # ffmpeg cannot write a tar: pack its JPEG files in order, removing each once packed.
    for i in range(len(os.listdir(folder))):
        path = folder / frame_name(i, "tar")
        if not path.is_file():
            raise CorruptVideo(video, f"ffmpeg's frame files are not numbered 0..N-1 ({path.name} missing)")
        writer.add_encoded(path.read_bytes())
        path.unlink()
    folder.rmdir()


def _pyav(video: Path, writer: _Writer, quality: int, threads: int, limit: int | None) -> None:
    import av

    encode: Callable[[np.ndarray], bytes] | None = None
    if writer.format != "npy":
        from PIL import Image

        def encode(rgb: np.ndarray) -> bytes:
            out = io.BytesIO()
            if writer.format == "png":
                Image.fromarray(rgb).save(out, "PNG", compress_level=PNG_LEVEL)
            else:
                Image.fromarray(rgb).save(out, "JPEG", quality=quality)
            return out.getvalue()

    try:
        with av.open(absolute(video)) as container:
            stream = container.streams[writer.stream]
            stream.thread_type = "AUTO"
            stream.codec_context.thread_count = threads
            for frame in container.decode(stream):
                rgb = orientation.upright_rgb(frame, str(video))
                if writer.resized:
                    rgb = resize_rgb(rgb, writer.width, writer.height)
                if encode is None:
                    writer.add_rgb(rgb)
                else:
                    writer.add_encoded(encode(rgb))
                if limit is not None and writer.count >= limit:
                    break
    except av.FFmpegError as exc:
        raise CorruptVideo(video, f"PyAV decode failed after {writer.count} frames: {cause_of(exc)}") from exc


def _cv2(video: Path, writer: _Writer, quality: int, threads: int, limit: int | None) -> None:
    import cv2

    if writer.format == "png":
        ext, params = ".png", [cv2.IMWRITE_PNG_COMPRESSION, PNG_LEVEL]
    else:
        ext, params = ".jpg", [cv2.IMWRITE_JPEG_QUALITY, quality]
    _opencv_reads_stream(video, writer.stream)
    cap = cv2.VideoCapture(absolute(video), cv2.CAP_FFMPEG, [cv2.CAP_PROP_N_THREADS, threads])
    try:
        if not cap.isOpened():
            raise CorruptVideo(video, "OpenCV cannot open it as a video")
        while limit is None or writer.count < limit:
            ok, bgr = cap.read()
            if not ok:
                break
            if writer.resized:  # area averaging, as the other extractors (per channel: BGR is fine)
                bgr = cv2.resize(bgr, (writer.width, writer.height), interpolation=cv2.INTER_AREA)
            if writer.format == "npy":
                writer.add_rgb(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
            else:
                # imencode takes BGR, as the decoder gives it.
                ok, data = cv2.imencode(ext, bgr, params)
                if not ok:
                    raise CorruptVideo(video, f"cv2.imencode failed on frame {writer.count}")
                writer.add_encoded(data.tobytes())
    finally:
        cap.release()


def _opencv_reads_stream(video: Path, stream: int) -> None:
    """UnsupportedVideo unless OpenCV, which reads a file's first video stream, would read ``stream``."""
    import av

    try:
        with av.open(absolute(video), metadata_errors="ignore") as container:
            first = container.streams.video[0].index
    except (av.FFmpegError, IndexError) as exc:
        raise CorruptVideo(video, f"not a readable video: {exc}") from exc
    if first != stream:
        raise UnsupportedVideo(
            video,
            f"OpenCV reads the first video stream ({first}), not the default one ({stream}), and cannot choose another",
        )


_EXTRACTORS: dict[str, _Extractor] = {"ffmpeg": _ffmpeg, "pyav": _pyav, "cv2": _cv2}
