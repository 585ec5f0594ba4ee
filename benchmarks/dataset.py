"""The user's whole dataset: every video under a folder probed once, a seeded stratified sample to
measure, and the summary a plan projects to (:mod:`benchmarks.analysis.plan`).

Probing reads packets (:func:`loaders.probe.probe`), in parallel processes, and is cached in
SQLite keyed by path and the file's identity (:mod:`loaders.fileid`), so a folder of 100,000
videos is probed once and a later run probes only what changed. The summary a run keeps
(``dataset.json`` in the run directory) holds what a projection needs without probing again: per
video class (resolution and codec) its videos, frames and pixels, and the same for the measured
sample, and every file and folder left out, with why (``skipped``): the dataset alone. The run's
own settings (the epochs the plan is for, the disk budget, what each stack measures and what its
time budget cut) go to the run's manifest, ``run.json``, beside it. A run made before the manifest
kept them in ``dataset.json``: it is read as it is.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import random
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import IO, Any

from benchmarks import records
from benchmarks.spec import Video, mean_gop
from benchmarks.stores import user_cache
from loaders.batch import find_videos
from loaders.errors import cause_of
from loaders.fileid import FileId, file_id
from loaders.progress import Progress
from loaders.resize import scaled_size
from loaders.units import duration

log = logging.getLogger(__name__)

FILE = "dataset.json"
RUN_FILE = "run.json"


def find(folder: str | os.PathLike[str]) -> tuple[list[Path], dict[str, str]]:
    """Every video under ``folder``, recursively, sorted (by suffix, as ``--videos`` finds them), and
    the sub-folders that could not be read (path -> why); hidden folders (``.cache``, ``.git``) are
    not the dataset and are left out."""
    return find_videos(folder, hidden=False)


def names(paths: Sequence[Path], root: Path) -> dict[str, str]:
    """Profile names for videos under ``root``: the stem, or the path below ``root`` where two
    videos share a stem (``a/clip.mp4``, ``b/clip.mp4``)."""
    stems = [p.stem for p in paths]
    return {p.stem if stems.count(p.stem) == 1 else p.relative_to(root).as_posix(): str(p) for p in paths}


def probe_video(path: str) -> Video:
    """One video's packet-level probe; a LoaderError if it cannot be read."""
    from loaders.probe import probe

    p = probe(path)
    return Video(path, os.path.getsize(path), p.num_frames, p.fps, p.width, p.height, p.codec,
                 keyframes=len(p.keyframes), key_span=int(p.keyframes[-1]) if len(p.keyframes) > 1 else 0,
                 stream_bytes=p.stream_bytes)


def probe_one(path: str) -> Video:
    """One video's packet-level probe; a video that cannot be read is returned with its error."""
    from loaders.errors import LoaderError

    try:
        size = os.path.getsize(path)
    except OSError as exc:
        return Video(path, 0, error=f"cannot be read: {cause_of(exc)}")
    try:
        return probe_video(path)
    except LoaderError as exc:
        return Video(path, size, error=exc.cause)


# Per cache file, in this process: the probes this run made, whatever the file does (path -> its
# identity and probe), and whether the file's trouble was said (once a run).
_MEMORY: dict[Path, dict[str, tuple[FileId, Video]]] = {}
_WARNED: set[Path] = set()


class ProbeCache:
    """Probes by path and file identity (:mod:`loaders.fileid`) in SQLite: a video changed since, even
    one replaced by another of the same size with its mtime restored, is probed again.

    The cache never costs a run its probes or a traceback: a file that is truncated, not a database,
    holds another table layout or a row that does not parse, is read-only or is deleted while the
    run goes on, gives one warning naming the file and the cause; the cache is then rebuilt (a
    damaged or foreign file is replaced, a deleted one made again with this run's probes), or, where
    it cannot be written, this run's probes are kept in memory.
    """

    COLUMNS = ("path", "size", "mtime_ns", "inode", "ctime_ns", "fingerprint", "video")

    def __init__(self, path: Path) -> None:
        self.path = path
        self.db: sqlite3.Connection | None = None  # None: in memory only
        self.writable = True  # False: a read-only file, read but not written
        self.memory = _MEMORY.setdefault(path.absolute(), {})
        try:
            self._open()
        except (sqlite3.Error, OSError) as exc:
            self._recover(exc, readable=False)

    def _open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(self.path)
        columns = tuple(row[1] for row in self.db.execute("PRAGMA table_info(probes)"))
        foreign = bool(columns) and columns != self.COLUMNS
        with self.db:
            if foreign:
                self.db.execute("DROP TABLE probes")
            self.db.execute("CREATE TABLE IF NOT EXISTS probes (path TEXT PRIMARY KEY, size INTEGER, "
                            "mtime_ns INTEGER, inode INTEGER, ctime_ns INTEGER, fingerprint TEXT, video TEXT)")
        if foreign:
            self._write([(v, ident) for ident, v in self.memory.values()])
            self._warn(f"holds another table layout (columns {', '.join(columns)})", "rebuilt")

    def _warn(self, cause: str, done: str) -> None:
        if self.path.absolute() not in _WARNED:
            _WARNED.add(self.path.absolute())
            log.warning("probe cache %s: %s; %s", self.path, cause, done)

    def _recover(self, exc: BaseException, readable: bool = True) -> None:
        """After ``exc`` from the file: rebuild it, with this run's probes, or go on in memory
        (``readable``: the file was read before, so a read-only one is still read)."""
        read_only = isinstance(exc, sqlite3.Error) and getattr(exc, "sqlite_errorname", "") == "SQLITE_READONLY"
        cause = f"{cause_of(exc)}" if self.path.exists() else "deleted while the run used it"
        if read_only or isinstance(exc, PermissionError):
            self.writable = False
            if not readable:
                self.close()
            self._warn(f"cannot be written ({cause})", "this run keeps its probes in memory")
            return
        self.close()
        try:
            for leftover in (self.path, self.path.with_name(self.path.name + "-journal")):
                leftover.unlink(missing_ok=True)
            self._open()
            self._write([(v, ident) for ident, v in self.memory.values()])  # never lose the run's probes
        except (sqlite3.Error, OSError) as again:
            self.close()
            self._warn(f"{cause}, and it cannot be made again ({cause_of(again)})",
                       "this run keeps its probes in memory")
            return
        self._warn(cause, "rebuilt")

    def get(self, path: str, ident: FileId) -> Video | None:
        """The cached probe of ``path`` if it is still this file, else None."""
        found = self._from_file(path, ident)
        if found is None:
            kept, video = self.memory.get(path, (None, None))
            if kept == ident and video is not None:
                found = video
                if self.db is not None and self.writable:  # the file lost it: written again
                    self.put([(video, ident)])
        return found

    def _from_file(self, path: str, ident: FileId) -> Video | None:
        if self.db is None:
            return None
        try:
            row = self.db.execute("SELECT size, mtime_ns, inode, ctime_ns, fingerprint, video FROM probes "
                                  "WHERE path = ?", (path,)).fetchone()
        except sqlite3.Error as exc:
            self._recover(exc, readable=False)
            return None
        if row is None or FileId(*row[:5]) != ident:
            return None
        try:
            data = json.loads(row[5])
            if isinstance(data, dict) and "keyframes" not in data:  # probed before keyframes were kept: again
                return None
            video = Video(**data)
        except (ValueError, TypeError) as exc:  # probed again, and the row replaced
            self._warn(f"the row for {path} does not parse ({cause_of(exc)})", "that video is probed again")
            return None
        if ("key_span" not in data or "stream_bytes" not in data) and video.error is None:
            return None  # probed before the last keyframe, or the video stream's bytes, were kept: again
        return video if video.path == path else None

    def put(self, videos: Iterable[tuple[Video, FileId]]) -> None:
        fresh = list(videos)
        self.memory.update((v.path, (ident, v)) for v, ident in fresh)
        if self.db is None or not self.writable:
            return
        try:
            self._write(fresh)
        except sqlite3.Error as exc:
            self._recover(exc)

    def _write(self, videos: Sequence[tuple[Video, FileId]]) -> None:
        assert self.db is not None
        with self.db:
            self.db.executemany("INSERT OR REPLACE INTO probes VALUES (?, ?, ?, ?, ?, ?, ?)",
                                [(v.path, i.size, i.mtime_ns, i.inode, i.ctime_ns, i.fingerprint,
                                  json.dumps(dataclasses.asdict(v))) for v, i in videos])
        if not self.path.exists():  # SQLite writes on into a file deleted under it
            raise sqlite3.OperationalError("deleted while the run used it")

    def close(self) -> None:
        if self.db is not None:
            self.db.close()
            self.db = None


def probe_all(paths: Sequence[str | os.PathLike[str]], cache: Path | None = None, jobs: int | None = None,
              stream: IO[str] | None = None) -> list[Video]:
    """Every video probed, in the order given: cached ones read back, the others probed ``jobs``
    processes at a time and cached as they come. A file that cannot be read is returned with its
    error, as one that cannot be probed is."""
    store = ProbeCache(cache or user_cache() / "probes.sqlite")
    try:
        found: dict[str, Video | None] = {}
        idents: dict[str, FileId] = {}
        for p in paths:
            path = os.fspath(p)
            try:
                idents[path] = file_id(path)
            except OSError as exc:
                found[path] = Video(path, 0, error=f"cannot be read: {cause_of(exc)}")
                continue
            found[path] = store.get(path, idents[path])
        todo = [path for path, video in found.items() if video is None]
        progress = Progress(len(todo), "probe", unit="video", stream=stream)
        try:
            if todo:
                with ProcessPoolExecutor(max_workers=jobs or os.cpu_count() or 1) as pool:
                    fresh: list[tuple[Video, FileId]] = []
                    for video in pool.map(probe_one, todo, chunksize=max(1, min(64, len(todo) // 64))):
                        found[video.path] = video
                        fresh.append((video, idents[video.path]))
                        progress.update()
                        if len(fresh) >= 256:  # cached as it goes: an interrupted probe keeps its work
                            store.put(fresh)
                            fresh = []
                    store.put(fresh)
        finally:
            progress.close()
    finally:
        store.close()
    return [v for v in found.values() if v is not None]


def sample(videos: Sequence[Video], n: int, seed: int = 0) -> list[Video]:
    """``n`` readable videos, seeded, stratified by class: each class gets its share of ``n`` by
    its frames (largest remainders), and at least one while ``n`` allows, so no class goes
    unmeasured when it can be measured."""
    readable = [v for v in videos if v.error is None]
    if n >= len(readable):
        return sorted(readable, key=lambda v: v.path)
    classes: dict[str, list[Video]] = {}
    for v in sorted(readable, key=lambda v: v.path):
        classes.setdefault(v.video_class, []).append(v)
    frames = {c: sum(v.frames for v in vs) for c, vs in classes.items()}
    total = sum(frames.values()) or 1
    # Every class one video first (the biggest classes while n is short), then shares by frames.
    order = sorted(classes, key=lambda c: (-frames[c], c))
    share = {c: 1 if i < n else 0 for i, c in enumerate(order)}
    left = n - sum(share.values())
    want = {c: max(0.0, left * frames[c] / total) for c in order}
    for c in order:
        share[c] += min(int(want[c]), len(classes[c]) - share[c])
    for c in sorted(order, key=lambda c: (-(want[c] - int(want[c])), c)):
        if sum(share.values()) >= n:
            break
        if share[c] < len(classes[c]):
            share[c] += 1
    while sum(share.values()) < n:  # small classes full: the rest from those with videos left
        c = next(c for c in order if share[c] < len(classes[c]))
        share[c] += 1
    rng = random.Random(seed)
    picked = [v for c in order for v in rng.sample(classes[c], share[c])]
    return sorted(picked, key=lambda v: v.path)


def uncovered(videos: Sequence[Video], picked: Sequence[Video]) -> list[str]:
    """The classes of the readable ``videos`` that ``picked`` has no video of (a sample smaller than
    the classes: the plan projects them from pixels and says so)."""
    have = {v.video_class for v in picked}
    return sorted({v.video_class for v in videos if v.error is None} - have)


def length_bucket(frames: int) -> int:
    """``frames`` as the dataset summary keeps it: exact to 256, then to two significant digits."""
    if frames <= 256:
        return frames
    digits = len(str(frames)) - 2
    return round(frames, -digits)


@dataclasses.dataclass
class ClassSummary:
    videos: int = 0
    frames: int = 0
    seconds: float = 0.0
    bytes: int = 0
    dims: dict[str, int] = dataclasses.field(default_factory=dict)  # "WxH" as displayed -> frames
    keyframes: int = 0  # of every video of the class (0: not counted)
    # Of its videos with two keyframes or more: frames from the first keyframe to the last, and the
    # intervals between them (whole intervals, unlike the part of one a video may end in).
    key_span: int = 0
    key_gaps: int = 0
    # Frames of a video (to two significant digits above 256) -> videos that long: how many clips
    # a video holds is not proportional to its frames, so the epoch model counts each length.
    lengths: dict[str, int] = dataclasses.field(default_factory=dict)
    stream_bytes: int = 0  # of the videos' video streams (each video's file where not counted; 0: a summary before)

    @property
    def video_bytes(self) -> int:
        """Bytes of the class's video streams, what a decoder reads (its files' in a summary made
        before they were counted)."""
        return self.stream_bytes or self.bytes

    def add(self, v: Video) -> None:
        self.videos += 1
        self.stream_bytes += v.video_bytes
        self.keyframes += v.keyframes
        if v.key_span and v.keyframes > 1:
            self.key_span += v.key_span
            self.key_gaps += v.keyframes - 1
        key = str(length_bucket(v.frames))
        self.lengths[key] = self.lengths.get(key, 0) + 1
        self.frames += v.frames
        self.seconds += v.seconds
        self.bytes += v.bytes
        key = f"{v.width}x{v.height}"
        self.dims[key] = self.dims.get(key, 0) + v.frames

    @property
    def gop(self) -> float:
        """The mean keyframe interval of the class's videos (:func:`benchmarks.spec.mean_gop`)."""
        return mean_gop(self.frames, self.keyframes, self.key_span, self.key_gaps)

    def pixels(self, size: int | None = None) -> int:
        """Pixels of every frame of the class, stored at short side ``size`` (None: as decoded)."""
        total = 0
        for key, frames in self.dims.items():
            width, height = key.split("x")
            w, h = scaled_size(int(width), int(height), size)
            total += frames * w * h
        return total


@dataclasses.dataclass
class Dataset:
    """What a plan projects to: the whole dataset, and the sample the run measured, by class.

    ``measured`` maps the run's profile names (the records' ``profile``) to their video, so the
    per-frame records of a sampled video can be read per class.
    """

    root: str
    classes: dict[str, ClassSummary]
    unreadable: int
    measured: dict[str, Video]  # profile -> video
    ram_total_bytes: int
    ram_available_bytes: int
    disk_free_bytes: int  # where the stores go
    epochs: int = 10  # E: the epochs the plan is for (--train-epochs)
    disk_budget_bytes: int | None = None  # --disk-budget; None: the free disk
    # Stack -> what a time budget (--budget, --quick) dropped from its measurements, as the run said.
    budgets: dict[str, str] = dataclasses.field(default_factory=dict)
    # Every file and folder left out of the dataset, with why: [{"path": ..., "reason": ...}], by path.
    skipped: list[dict[str, str]] = dataclasses.field(default_factory=list)
    pattern: str | None = None  # --pattern: the access pattern the verdict is for; None: every pattern
    # The training step the plan is for (--step-ms or --target-fps per GPU, --gpus,
    # --storage-bandwidth in bytes per second): None, None: the plan covers loading alone.
    step_ms: float | None = None
    target_fps: float | None = None
    gpus: int = 1
    storage_bandwidth: int | None = None
    # Stack -> what it measures, in words (:meth:`benchmarks.spec.RunSpec.lines`).
    settings: dict[str, list[str]] = dataclasses.field(default_factory=dict)
    # The frames of each video the run's epochs read (the first stack's choice, kept by every later
    # stack so their epochs read the same frames; None: every frame).
    epoch_frames: int | None = None

    @property
    def videos(self) -> int:
        return sum(c.videos for c in self.classes.values())

    @property
    def frames(self) -> int:
        return sum(c.frames for c in self.classes.values())

    @property
    def hours(self) -> float:
        return sum(c.seconds for c in self.classes.values()) / 3600

    @property
    def bytes(self) -> int:
        return sum(c.bytes for c in self.classes.values())

    def measured_classes(self) -> dict[str, ClassSummary]:
        return summarize(self.measured.values())

    def line(self) -> str:
        """The dataset in one line: videos, frames, hours, resolutions and codecs."""
        kinds = ", ".join(f"{c.videos} x {name}" for name, c in sorted(self.classes.items(),
                                                                       key=lambda kv: -kv[1].frames))
        return (f"{self.videos:,} video{'s' if self.videos != 1 else ''}, {self.frames:,} frames, "
                f"{duration(self.hours * 3600)} of video" + (f" ({kinds})" if kinds else ""))

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: object) -> Dataset:
        """The dataset of a decoded ``dataset.json``; a ValueError names the field that is wrong."""
        dataset = cls(**records.conform(data, cls))
        if dataset.epochs < 1:
            raise ValueError(f"field 'epochs' is {dataset.epochs}: the plan is for 1 epoch or more")
        if dataset.disk_budget_bytes is not None and dataset.disk_budget_bytes <= 0:
            raise ValueError(f"field 'disk_budget_bytes' is {dataset.disk_budget_bytes}: a budget is more than 0")
        for name in ("step_ms", "target_fps", "storage_bandwidth"):  # the training step: None, or more than 0
            value = getattr(dataset, name)
            if value is not None and not (isinstance(value, int | float) and 0 < value < float("inf")):
                raise ValueError(f"field {name!r} is {value}: more than 0, or null")
        if dataset.gpus < 1:
            raise ValueError(f"field 'gpus' is {dataset.gpus}: 1 or more")
        counts = [(f"classes.{k}", c) for k, c in dataset.classes.items()] + \
            [(f"measured.{k}", v) for k, v in dataset.measured.items()]
        for where, item in [("", dataset), *counts]:
            for field in dataclasses.fields(item):
                value = getattr(item, field.name)
                if isinstance(value, int | float) and not isinstance(value, bool) and value < 0:
                    raise ValueError(f"field {(where + '.' if where else '') + field.name!r} is negative ({value})")
        return dataset

    def save(self, run_dir: Path) -> Path:
        """``dataset.json`` (the dataset) and ``run.json`` (the run's settings) in ``run_dir``."""
        data = self.to_json()
        _write(run_dir / RUN_FILE, {k: data.pop(k) for k in RUN_FIELDS})
        return _write(run_dir / FILE, data)


# What belongs to the run, not the dataset: written to run.json.
RUN_FIELDS = ("epochs", "disk_budget_bytes", "budgets", "settings", "pattern", "step_ms", "target_fps", "gpus",
              "storage_bandwidth", "epoch_frames")


def _write(path: Path, data: dict[str, Any]) -> Path:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=1, sort_keys=True), encoding="utf-8")
    os.replace(tmp, path)  # a reader sees the old file or the new one
    return path


def summarize(videos: Iterable[Video]) -> dict[str, ClassSummary]:
    """Per class: videos, frames, seconds, bytes and pixels of the readable ``videos``."""
    out: dict[str, ClassSummary] = {}
    for v in videos:
        if v.error is None:
            out.setdefault(v.video_class, ClassSummary()).add(v)
    return out


def describe(root: str, videos: Sequence[Video], measured: dict[str, Video], disk: str | os.PathLike[str] = ".",
             epochs: int = 10, disk_budget: int | None = None, skipped: Mapping[str, str] | None = None,
             pattern: str | None = None) -> Dataset:
    """The dataset summary of ``videos``, with this machine's memory and the free disk at ``disk``;
    what it leaves out is every video that cannot be read and ``skipped`` (path -> why: files and
    folders left out before probing); ``pattern``: --pattern."""
    import shutil

    import psutil

    memory = psutil.virtual_memory()
    where = Path(disk)
    while not where.exists():
        where = where.parent
    left = {**(skipped or {}), **{v.path: v.error for v in videos if v.error is not None}}
    return Dataset(root, summarize(videos), sum(v.error is not None for v in videos), measured,
                   memory.total, memory.available, shutil.disk_usage(where).free, epochs, disk_budget,
                   skipped=[{"path": path, "reason": why} for path, why in sorted(left.items())], pattern=pattern)


class DatasetError(ValueError):
    """A ``dataset.json`` that cannot be read as one: the message names the file and the field."""


def load(run_dir: str | os.PathLike[str]) -> Dataset | None:
    """The run's dataset summary, or None for a run that has none (made before plans existed):
    ``dataset.json``, with the run's settings from ``run.json`` beside it (a run made before the
    manifest kept them in ``dataset.json``).

    A file that is not JSON, not an object, or holds a field of the wrong type or out of range
    (``"epochs": "abc"``, a list for ``classes``, NaN) raises :class:`DatasetError` naming both.
    """
    path = Path(run_dir) / FILE
    if not path.is_file():
        return None
    data = _read_json(path)
    manifest = Path(run_dir) / RUN_FILE
    if manifest.is_file() and isinstance(data, dict):
        settings = _read_json(manifest)
        if not isinstance(settings, dict):
            raise DatasetError(f"{manifest}: not a run manifest: a JSON {records.json_type(settings)}, not an object")
        # dataset.json's own value of a setting (a run made before the manifest, or one edited by
        # hand) is the one read.
        data = {**{k: v for k, v in settings.items() if k in RUN_FIELDS}, **data}
    try:
        return Dataset.from_json(data)
    except ValueError as exc:
        raise DatasetError(f"{path}: not a dataset summary: {exc}") from None


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_bytes())
    except UnicodeDecodeError:
        raise DatasetError(f"{path}: not a dataset summary: not UTF-8 text") from None
    except OSError as exc:
        raise DatasetError(f"{path}: cannot read it: {exc.strerror or exc}") from None
    except ValueError as exc:  # JSONDecodeError, or a number too long to convert
        raise DatasetError(f"{path}: not a dataset summary: not JSON ({getattr(exc, 'msg', exc)})") from None
