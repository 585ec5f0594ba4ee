"""Extracting many videos: one store per video, the engines that run them, progress and summary.

Two engines make the same stores, each with :func:`loaders.extract` (atomic, locked, resumable):

* ``local`` (the default, no Ray needed): a thread pool on this machine. Threads suffice: ffmpeg
  runs as its own process, and PyAV, OpenCV and Pillow release the GIL while they work.
* ``ray``: one Ray task per video on a Ray cluster (``ray.init(address=...)``), at most a few
  tasks per CPU in flight, results taken in completion order with ``ray.wait``. A task whose
  worker dies is run again by Ray (``max_retries``); the lock and the temporary directory make the
  rerun start clean. Ray does not move files: videos and stores must be on storage every node
  sees at the same path. The ``loaders`` package travels to the workers with the job
  (``runtime_env`` ``py_modules``); the libraries of the extractor must be installed on every node.

Both yield one :class:`Outcome` per video as it finishes; a failure is an outcome, never an
exception, so one bad video never stops the rest.
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import json
import logging
import os
import socket
import time
from collections.abc import Generator, Iterable, Sequence
from pathlib import Path
from typing import IO, Any

from loaders import progress, units
from loaders.errors import BackendUnavailable, LoaderError, cause_of
from loaders.extraction import CRF, GOP, Extraction, extract, interruptible, store_path
from loaders.vocabulary import TRANSCODED, store_label

ENGINES: tuple[str, ...] = ("local", "ray")
# What counts as a video when a directory is searched (lower-case suffixes).
VIDEO_SUFFIXES: tuple[str, ...] = (".mp4", ".mkv", ".webm", ".avi", ".mov", ".m4v", ".mpg", ".mpeg", ".ts", ".flv")
# Written into STORES by the command: one JSON object per line, {"src", "video", "reason"}; a run
# replaces the lines of its own SRC only (see write_failures).
FAILURES_FILE = "extract-failures.jsonl"
log = logging.getLogger(__name__)

MAX_RETRIES = 3  # times Ray runs a task again after its worker process died
CONNECT_TIMEOUT = 10.0  # seconds to find a Ray cluster's address and reach its port, each
TASKS_PER_CPU = 2  # Ray tasks in flight per cluster CPU: workers never idle, the queue stays small


@dataclasses.dataclass(frozen=True)
class Settings:
    """How every store of a batch is extracted (the arguments of :func:`loaders.extract`)."""

    extractor: str = "ffmpeg"
    format: str = "jpeg"
    quality: int = 90
    size: int | None = None
    threads: int = 1
    gop: int = GOP  # a transcoded (mp4) store's keyframe interval and H.264 crf
    crf: int = CRF

    def label(self) -> str:
        return store_label(
            self.extractor, self.format, self.quality, self.size, self.gop if self.format == TRANSCODED else None
        )


@dataclasses.dataclass(frozen=True)
class Job:
    video: str
    store: str


@dataclasses.dataclass
class Outcome:
    """One video's result: its Extraction, or why it failed."""

    video: str
    store: str
    extraction: Extraction | None = None
    error: str | None = None
    # The exception itself, for a caller in this process (the Ray engine sends the message only).
    exception: BaseException | None = dataclasses.field(default=None, repr=False, compare=False)


def extract_one(job: Job, settings: Settings, keep_exception: bool = False) -> Outcome:
    """Extract one video; any failure becomes the Outcome's ``error``."""
    try:
        result = extract(
            job.video,
            job.store,
            settings.extractor,
            settings.format,
            settings.quality,
            settings.size,
            threads=settings.threads,
            gop=settings.gop,
            crf=settings.crf,
        )
    except Exception as exc:  # noqa: BLE001 - one bad video never stops the rest
        why = str(exc) if isinstance(exc, LoaderError) else f"{job.video}: {type(exc).__name__}: {cause_of(exc)}"
        return Outcome(job.video, job.store, error=why, exception=exc if keep_exception else None)
    return Outcome(job.video, job.store, result)


def discover(src: str | os.PathLike[str], skip: str | os.PathLike[str] | None = None) -> list[Path]:
    """Every video under ``src`` (recursively, sorted, by :func:`find_videos`), or ``src`` itself if
    it is a file: what ``python -m loaders extract`` extracts.

    ``skip`` is a directory left out (the stores, when they sit inside ``src``). A sub-folder that
    cannot be read is named in a warning with why.
    """
    src = Path(src)
    if not src.exists():
        raise LoaderError(src, "no such file or directory")
    if src.is_file():
        return [src]
    found, unreadable = find_videos(src, skip=skip)
    for folder, why in unreadable.items():
        log.warning("skipping %s: %s", folder, why)
    return found


def find_videos(
    root: str | os.PathLike[str],
    skip: str | os.PathLike[str] | None = None,
    hidden: bool = True,
    recursive: bool = True,
) -> tuple[list[Path], dict[str, str]]:
    """The files under ``root`` named like videos (:data:`VIDEO_SUFFIXES`), sorted, and every folder
    that could not be read (path -> why): nothing under it is left out in silence. The one finder
    of the project: ``python -m loaders extract``, ``--videos``, ``--sample`` and the pytest front
    door all look for videos here.

    ``skip``: a folder left out (the stores); ``hidden=False`` leaves out hidden files and folders
    (``.cache``, ``.git``); ``recursive=False`` looks in ``root`` alone.
    """
    skipped = Path(skip).resolve() if skip is not None else None
    found: list[Path] = []
    unreadable: dict[str, str] = {}

    def failed(exc: OSError) -> None:
        unreadable[str(exc.filename)] = f"folder cannot be read: {cause_of(exc)}"

    for folder, dirs, files in os.walk(root, onerror=failed):
        here = Path(folder)
        dirs[:] = sorted(
            d
            for d in dirs
            if recursive
            and (hidden or not d.startswith("."))
            and (skipped is None or not (here / d).resolve().is_relative_to(skipped))
        )
        for name in files:
            path = here / name
            if path.suffix.lower() not in VIDEO_SUFFIXES or not (hidden or not name.startswith(".")):
                continue
            if path.is_file() and (skipped is None or not path.resolve().is_relative_to(skipped)):
                found.append(path)
    return sorted(found), unreadable


def tree_jobs(src: str | os.PathLike[str], stores: str | os.PathLike[str], settings: Settings) -> list[Job]:
    """One job per video under ``src``; its store sits under ``stores`` at the video's relative path.

    The store keeps the video's full file name and adds the settings (``a/clip.mp4`` ->
    ``STORES/a/clip.mp4.ffmpeg-jpeg-q90``), so ``clip.mp4`` and ``clip.mkv`` never share a store and
    stores of other settings sit beside it.
    """
    src, stores = Path(src), Path(stores)
    jobs = []
    for video in discover(src, skip=stores):
        rel = video.relative_to(src) if src.is_dir() else Path(video.name)
        jobs.append(Job(str(video), str(stores / rel.parent / f"{rel.name}.{settings.label()}")))
    return jobs


def run(
    jobs: Sequence[Job],
    settings: Settings,
    engine: str = "local",
    workers: int | None = None,
    address: str | None = None,
) -> Generator[Outcome, None, None]:
    """Run ``jobs`` on ``engine``, yielding each Outcome as it finishes.

    Closing the generator (or an exception such as Ctrl-C inside it) stops the extractions under
    way (their ffmpeg children killed, their temporary stores removed) and starts no more.

    ``workers``: threads of the local engine, or the CPUs of a Ray cluster started here (no
    ``address``); a cluster given by ``address`` ("auto" or "HOST:PORT") uses all of its CPUs.
    """
    if engine == "local":
        return _local(jobs, settings, max(1, workers if workers is not None else (os.cpu_count() or 1)))
    if engine == "ray":
        return _ray(jobs, settings, workers, address)
    raise LoaderError(None, f"unknown engine {engine!r}; known: {', '.join(ENGINES)}")


def _local(jobs: Sequence[Job], settings: Settings, workers: int) -> Generator[Outcome, None, None]:
    from concurrent.futures import ThreadPoolExecutor, as_completed

    # Stopped early (closed, Ctrl-C): no new video starts, the running ones stop, then the pool ends.
    with interruptible(ThreadPoolExecutor(max_workers=workers)) as pool:
        futures = [pool.submit(extract_one, job, settings, True) for job in jobs]
        for future in as_completed(futures):
            yield future.result()


def connect_ray(address: str | None = None, workers: int | None = None) -> bool:
    """Connect this process to the Ray cluster at ``address`` (a new local one of ``workers`` CPUs
    when None), shipping this package to its workers. Returns False if already connected.
    """
    try:
        import ray
    except ImportError as exc:
        raise BackendUnavailable(None, f"the ray engine needs Ray (pip install 'vidbench[ray]'): {exc}") from None
    if ray.is_initialized():
        return False
    # ray.init takes RAY_ADDRESS when given no address or "auto": check the address it will use.
    target = (os.environ.get("RAY_ADDRESS") or None) if address in (None, "auto") else address
    if target is not None and target != "auto":
        check_reachable(target, origin="" if target == address else " (from RAY_ADDRESS)")
    try:
        _init_ray(ray, address, workers)
    except ImportError as exc:  # a ray:// address goes through Ray Client, which needs more than Ray
        raise BackendUnavailable(
            None,
            f"Ray cluster {address or '(local)'}: cannot connect: Ray Client is missing "
            f"(pip install 'ray[client]'): {cause_of(exc)}",
        ) from None
    except (ConnectionError, TimeoutError, ValueError, RuntimeError) as exc:
        raise BackendUnavailable(None, f"Ray cluster {address or '(local)'}: cannot connect: {cause_of(exc)}") from None
    return True


def check_reachable(address: str, timeout: float = CONNECT_TIMEOUT, origin: str = "") -> None:
    """A LoaderError unless a Ray cluster answers at ``HOST:PORT`` (or ``ray://HOST:PORT``): the host
    resolved, the port connected, and what listens there answered an HTTP/2 client as gRPC servers
    (Ray's GCS and its client server) do, within ``timeout`` seconds each.
    ``ray.init`` itself would wait minutes for an address where nothing, or something else, listens.
    ``origin`` says where the address came from, for the message."""
    import threading

    where = address.split("://", 1)[-1]
    host, sep, port_text = where.rpartition(":")
    host = host.strip("[]")  # [::1]:6379
    if not sep or not host or not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise BackendUnavailable(None, f"Ray address {address!r}{origin}: expected 'auto' or HOST:PORT")
    port = int(port_text)
    found: list[Any] = []

    def resolve() -> None:  # a resolver may hang longer than any socket timeout: give it a thread
        with contextlib.suppress(OSError):
            found.extend(socket.getaddrinfo(host, port, type=socket.SOCK_STREAM))

    lookup = threading.Thread(target=resolve, daemon=True)
    lookup.start()
    lookup.join(timeout)
    if not found:
        why = "lookup timed out" if lookup.is_alive() else "unknown host"
        raise BackendUnavailable(None, f"Ray cluster {address}{origin}: {why} ({host})")
    errors = []
    for family, kind, proto, _, sockaddr in found:
        try:
            with socket.socket(family, kind, proto) as s:
                s.settimeout(timeout)
                s.connect(sockaddr)
                if _tls():  # the peer waits for a TLS handshake: a plain HTTP/2 preface would not do
                    return
                said = _answer_to_http2(s, timeout)
        except OSError as exc:
            errors.append(exc.strerror or str(exc))
            continue
        if said is None:
            return
        port_is = (
            "Ray Client server port (10001 unless ray start --ray-client-server-port says otherwise)"
            if "://" in address
            else "GCS port (ray start --head prints it)"
        )
        raise BackendUnavailable(
            None,
            f"Ray cluster {address}{origin}: something listens there but it is not a Ray cluster ({said}); "
            f"is the address the head node's {port_is}?",
        )
    raise BackendUnavailable(
        None,
        f"Ray cluster {address}{origin}: nothing answers there ({errors[0]}); "
        "is the cluster started (ray start --head)?",
    )


# A client's HTTP/2 connection preface: the magic line, then an empty SETTINGS frame (RFC 9113 3.4).
HTTP2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + b"\x00\x00\x00\x04\x00\x00\x00\x00\x00"
FRAME_HEADER = 9  # bytes: length (3), type (1), flags (1), stream (4)
SETTINGS = 0x4
QUOTED = 60  # characters of a wrong answer's first line quoted in the error
HEARD = 256  # bytes of a wrong answer read at most, to find the end of its first line


def _tls() -> bool:
    """Ray's gRPC servers speak TLS (RAY_USE_TLS, read the way Ray reads it)."""
    return os.environ.get("RAY_USE_TLS", "0").lower() in ("1", "true")


def _answer_to_http2(sock: socket.socket, timeout: float) -> str | None:
    """None if the peer of ``sock`` answers an HTTP/2 preface as a gRPC server must, with a SETTINGS
    frame on stream 0, within ``timeout`` seconds; else what it did instead, in words."""
    deadline = time.monotonic() + timeout
    said = b""
    try:
        sock.sendall(HTTP2_PREFACE)
        while True:
            if len(said) >= FRAME_HEADER:
                length, kind, stream = int.from_bytes(said[:3], "big"), said[3], int.from_bytes(said[5:9], "big")
                if kind == SETTINGS and length % 6 == 0 and stream & 0x7FFFFFFF == 0:
                    return None
            could_be_settings = len(said) < FRAME_HEADER and (len(said) < 4 or said[3] == SETTINGS)
            if not could_be_settings and (b"\n" in said or len(said) >= HEARD):  # a line of text, or enough
                break
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError
            sock.settimeout(left)
            chunk = sock.recv(HEARD)
            if not chunk:
                break
            said += chunk
    except TimeoutError:
        if not said:
            return f"it said nothing in {timeout:g} s"
    except OSError as exc:
        if not said:
            return f"the connection failed: {exc.strerror or exc}"
    if not said:
        return "it closed the connection without a word"
    first = said.split(b"\n", 1)[0].strip().decode("latin-1")
    text = "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in first)
    return f"it answered '{text[:QUOTED]}{'...' if len(text) > QUOTED else ''}'"


def _init_ray(ray: Any, address: str | None, workers: int | None) -> None:
    ray.init(
        address=address,
        num_cpus=max(1, workers) if address is None and workers is not None else None,
        # This package travels with the job: every worker runs the driver's loaders code.
        runtime_env={"py_modules": [str(Path(__file__).resolve().parent)], "excludes": ["__pycache__"]},
        include_dashboard=False,
        log_to_driver=False,  # failures come back as outcomes; worker logs would break the progress bar
        logging_level=logging.WARNING,
    )


def _ray(
    jobs: Sequence[Job], settings: Settings, workers: int | None, address: str | None
) -> Generator[Outcome, None, None]:
    connected_here = connect_ray(address, workers)
    import ray

    task = ray.remote(num_cpus=1, max_retries=MAX_RETRIES)(extract_one)
    window = TASKS_PER_CPU * max(1, int(ray.cluster_resources().get("CPU", 1)))
    waiting = iter(jobs)
    pending: dict[Any, Job] = {}

    def submit(batch: Iterable[Job]) -> None:
        for job in batch:
            pending[task.remote(job, settings)] = job

    try:
        submit(itertools.islice(waiting, window))
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1)
            for ref in done:
                job = pending.pop(ref)
                try:
                    outcome = ray.get(ref)
                except ray.exceptions.RayError as exc:  # its worker died more than MAX_RETRIES times
                    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                    outcome = Outcome(job.video, job.store, error=f"{job.video}: Ray task failed: {first}")
                submit(itertools.islice(waiting, 1))
                yield outcome
    finally:
        for ref in pending:
            ray.cancel(ref, force=True)
        if connected_here:
            ray.shutdown()


# --- the failures file ---------------------------------------------------------------------


def write_failures(stores: str | os.PathLike[str], src: str | os.PathLike[str], failures: dict[str, str]) -> Path:
    """Record this run's failures in ``STORES/extract-failures.jsonl``: one JSON object per line,
    ``{"src": SRC (absolute), "video": path, "reason": why}``, so a name holding a newline or a tab
    stays one record. The lines of this SRC are replaced; those of other SRCs extracted into the
    same STORES are kept. The file goes when it would be empty. Written whole (a temporary file
    renamed) under a lock; an OSError (a full or read-only disk) is the caller's to report.
    """
    from filelock import FileLock

    path = Path(stores) / FAILURES_FILE
    here = os.path.abspath(src)
    with FileLock(path.with_name(f".{FAILURES_FILE}.lock")):
        kept = [entry for entry in read_failures(path) if entry.get("src") != here]
        kept += [{"src": here, "video": video, "reason": why} for video, why in sorted(failures.items())]
        if not kept:
            path.unlink(missing_ok=True)
            return path
        tmp = path.with_name(f".{FAILURES_FILE}.{os.getpid()}.tmp")
        try:
            tmp.write_text("".join(json.dumps(entry) + "\n" for entry in kept), encoding="utf-8")
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
    return path


def read_failures(path: str | os.PathLike[str]) -> list[dict[str, str]]:
    """The entries of a failures file (none if it is missing); lines that are not entries are dropped."""
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return []
    entries = []
    for line in text.split("\n"):  # JSON escapes every control character: one line, one entry
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and isinstance(entry.get("video"), str):
            entries.append(entry)
    return entries


# --- progress and summary ------------------------------------------------------------------


@dataclasses.dataclass
class Summary:
    """What a batch did: videos extracted, reused and failed, frames and bytes of its stores."""

    videos: int = 0
    extracted: int = 0
    reused: int = 0
    frames: int = 0  # of every complete store, reused ones included
    bytes: int = 0
    extracted_frames: int = 0  # extracted in this run
    seconds: float = 0.0  # wall time of the run
    failures: dict[str, str] = dataclasses.field(default_factory=dict)  # video -> reason

    def add(self, outcome: Outcome) -> None:
        self.videos += 1
        if outcome.extraction is None:
            self.failures[outcome.video] = outcome.error or "unknown error"
            return
        e = outcome.extraction
        self.frames += e.frames
        self.bytes += e.bytes
        if e.reused:
            self.reused += 1
        else:
            self.extracted += 1
            self.extracted_frames += e.frames

    def lines(self) -> list[str]:
        rate = self.extracted_frames / self.seconds if self.seconds > 0 else 0.0
        out = [
            f"videos: {self.videos} ({self.extracted} extracted, {self.reused} reused, {len(self.failures)} failed)",
            f"frames: {self.frames} in the stores, {self.extracted_frames} extracted now ({rate:.1f} frames/s)",
            f"bytes: {units.size(self.bytes)} ({self.bytes} B)",
            f"seconds: {self.seconds:.1f}",
        ]
        out += [failure_line(video, why) for video, why in sorted(self.failures.items())]
        return out


def one_line(text: str) -> str:
    return " | ".join(line.strip() for line in text.strip().splitlines() if line.strip())


def failure_line(video: str, why: str) -> str:
    """``FAILED`` and the reason on one line, with the video's path once."""
    return f"FAILED {one_line(why)}" if video in why else f"FAILED {video}: {one_line(why)}"


class Progress:
    """Videos, frames and bytes done, with an ETA (:class:`loaders.progress.Progress`: a bar on a
    terminal, a log line every ``every`` seconds elsewhere, and one at once for a failure)."""

    def __init__(self, total: int, desc: str, stream: IO[str] | None = None, every: float = 5.0) -> None:
        self.summary = Summary()
        self.shown = progress.Progress(total, desc, unit="video", stream=stream, every=every)

    def add(self, outcome: Outcome) -> None:
        s = self.summary
        s.add(outcome)
        s.seconds = self.shown.elapsed
        if outcome.error is not None:
            self.shown.message(failure_line(outcome.video, outcome.error))
        self.shown.update(1, f"{s.frames} frames, {units.size(s.bytes)}")

    def close(self) -> Summary:
        self.shown.close()
        self.summary.seconds = self.shown.elapsed
        return self.summary


def extract_all(
    videos: Iterable[str | os.PathLike[str]],
    root: str | os.PathLike[str],
    jobs: int | None = None,
    extractor: str = "ffmpeg",
    format: str = "jpeg",  # noqa: A002
    quality: int = 90,
    threads: int = 1,
    *,
    size: int | None = None,
    gop: int = GOP,
    crf: int = CRF,
    engine: str = "local",
    address: str | None = None,
) -> dict[str, Extraction]:
    """Extract several videos into stores under ``root``, ``jobs`` at a time, with a progress bar.

    The options are :func:`extract`'s (``gop`` and ``crf`` for ``format="mp4"``).

    ``engine="ray"`` runs one Ray task per video on the cluster at ``address`` (a local one when
    None; see :mod:`loaders.batch`); Ray is imported only then. Every video is attempted; if any
    failed, the first failure (in the order given) is raised once all are done. Returns video
    path -> its Extraction, in the order given.
    """
    wanted = list(dict.fromkeys(Path(v) for v in videos))  # a video named twice is extracted once
    targets: dict[Path, Path] = {}
    for v in wanted:
        path = store_path(root, v, extractor, format, quality, size, gop if format == TRANSCODED else None)
        other = targets.setdefault(path, v)
        if other != v:
            raise LoaderError(v, f"same file name as {other}: both would extract into one store")
    settings = Settings(extractor, format, quality, size, threads, gop, crf)
    work = [Job(str(v), str(store)) for store, v in targets.items()]
    progress = Progress(len(work), f"extract {settings.label()}")
    outcomes: dict[str, Outcome] = {}
    try:
        for outcome in run(work, settings, engine, jobs, address):
            outcomes[outcome.video] = outcome
            progress.add(outcome)
    finally:
        progress.close()
    done: dict[str, Extraction] = {}
    for name in map(str, wanted):
        outcome = outcomes[name]
        if outcome.extraction is None:
            raise outcome.exception or LoaderError(name, outcome.error or "failed")
        done[name] = outcome.extraction
    return done
