"""Per-epoch timing: a real ``torch.utils.data.DataLoader`` over a map-style Dataset of samples.

Each DataLoader worker opens its own sources, lazily, on first use: an open decoder does not
survive pickling or forking, and opening is part of what a worker pays. Threads per worker are
set in ``worker_init_fn`` (torch, OpenCV) and passed to the loader (FFmpeg's ``threads`` option),
because two workers each running two FFmpeg threads on two cores rank loaders differently from
one process with two. An epoch is timed from creating the iterator (so worker start counts) to
the last batch; the memory of the main process and its workers is sampled while it runs, and
the CPU time of both is taken over it (:func:`benchmarks.env.cpu_seconds`).

With ``device="cuda"`` an epoch ends with every batch's frames in GPU memory, as a training step
needs them: a CPU loader's batches come through the DataLoader in pinned memory
(``pin_memory=True``) and go to the device with a non-blocking copy; a GPU loader (``gpu`` in the
registry) decodes in the main process (``num_workers=0``: a CUDA context does not survive a
fork, and its decoder is the parallel part) and resizes on the device. The epoch's time includes
a final ``torch.cuda.synchronize``, so no copy or kernel is left unfinished when it stops.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import gc
import math
import os
import signal
import statistics
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import psutil
import torch
import torch.nn.functional as F  # noqa: N812 - the usual name
from torch.utils.data import DataLoader, Dataset

import loaders
from benchmarks.env import cpu_seconds, own_cpu_seconds
from benchmarks.patterns import Sample, merge
from loaders.vocabulary import BASELINE

# video -> frame index -> boxes (n, 4); frames without an entry have none.
Annotations = Mapping[str, Mapping[int, Any]]


def set_threads(threads: int) -> None:
    """Threads for OpenCV in this process, and one for torch (FFmpeg's go through the loader's options).

    torch only resizes and stacks here: DataLoader workers run it single-threaded by default, and
    on a busy machine its thread pool turns a 1 ms copy into tens of milliseconds of waiting.
    """
    torch.set_num_threads(1)
    try:  # OpenCV is optional: without it there is nothing to set
        import cv2

        cv2.setNumThreads(threads)
    except ImportError:
        pass


class _WorkerInit:
    """A picklable ``worker_init_fn`` (a lambda would not survive the spawn start method)."""

    def __init__(self, threads: int) -> None:
        self.threads = threads

    def __call__(self, worker_id: int) -> None:
        # The worker was forked with Ctrl-C blocked and held (see _start): from here torch's worker
        # loop takes it (it leaves the stopping to the main process).
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
        sys.excepthook = _worker_excepthook
        set_threads(self.threads)


def _worker_excepthook(kind: type[BaseException], value: BaseException, tb: Any) -> None:
    """A worker's uncaught errors, on one line. Its own reading errors go back to the main process
    (the DataLoader sends them); what lands here is the machinery's: multiprocessing's resource
    sharer (which hands the main process the batches' shared memory) calls it when its connection
    closes under it as the worker is stopped, which is no error at all (a Ctrl-C printed that
    traceback after the run's last line), and is not printed."""
    if issubclass(kind, (OSError, EOFError, KeyboardInterrupt)):
        return
    print(f"DataLoader worker {os.getpid()}: {kind.__name__}: {value}", file=sys.stderr)


def _start(loader: DataLoader) -> Any:
    """``iter(loader)``, whole before a Ctrl-C can stop it: its workers forked with Ctrl-C blocked,
    so a Ctrl-C to the process group never lands in a worker half made (a KeyboardInterrupt
    traceback from Python's at-fork hooks); and a Ctrl-C to the process held until the iterator
    is made, then raised, so it stops workers that exist. Blocking alone does not hold that one:
    the kernel gives it to another of the process's threads, and Python raises it in the main
    thread wherever it is, an iterator half made among them, whose clean-up then fails on what it
    lacks (an ``AttributeError`` traceback after the run's last line)."""
    if threading.current_thread() is not threading.main_thread():
        return iter(loader)
    held: list[int] = []
    handler = signal.getsignal(signal.SIGINT)
    hold = handler is not None  # a handler not set from Python cannot be put back
    if hold:
        signal.signal(signal.SIGINT, lambda signum, _frame: held.append(signum))
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        batches = iter(loader)
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})  # one blocked here lands in ``held``
        if hold:
            signal.signal(signal.SIGINT, handler)
    if held:
        if callable(handler):
            handler(signal.SIGINT, None)  # Python's own raises KeyboardInterrupt; the iterator, whole, stops
        elif handler == signal.SIG_DFL:
            raise KeyboardInterrupt
    return batches


class SampleDataset(Dataset):
    """Samples of one access pattern, read with one loader and resized so a batch stacks.

    ``paths`` maps each sample's video to what the loader opens (the video itself, or the frame
    store extracted from it). Item ``i`` is ``{"frames": (T, 3, H, W) uint8 (on ``device`` from a GPU
    loader), "indices": (T,),
    "video": str, "boxes": [T arrays of shape (n, 4)]}``: boxes come back for every frame, empty
    where the annotations have none, so no sample is ever dropped for lacking them.

    With ``batched`` the DataLoader's batches go through :meth:`__getitems__`, which asks the
    loader for a batch's frames in one call per video (the ``random-batch`` pattern); without it
    every sample is one call, as a plain map-style Dataset makes them.
    """

    def __init__(self, loader: str, samples: Sequence[Sample], paths: Mapping[str, str | os.PathLike[str]],
                 options: Mapping[str, Any] | None = None, size: int | None = 224,
                 annotations: Annotations | None = None, batched: bool = False, device: str = "cpu") -> None:
        self.loader = loader
        self.device = device
        self.on_gpu = loaders.REGISTRY[loader].gpu
        self.batched = batched
        self.samples = list(samples)
        self.paths = {v: os.fspath(p) for v, p in paths.items()}
        self.options = dict(options or {})
        self.size = size
        self.annotations = annotations or {}
        self._sources: dict[str, loaders.Source] = {}
        self._pid = os.getpid()

    def __len__(self) -> int:
        return len(self.samples)

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_sources": {}}

    def _source(self, video: str) -> loaders.Source:
        if self._pid != os.getpid():  # a forked worker inherited the parent's handles: never use them
            self._sources, self._pid = {}, os.getpid()
        src = self._sources.get(video)
        if src is None:
            src = self._sources[video] = loaders.open(self.loader, self.paths[video], **self.options)
        return src

    def __getitem__(self, i: int) -> dict[str, Any]:
        sample = self.samples[i]
        return self._item(sample, self._frames(sample.video, sample.indices))

    def __getitems__(self, indices: Sequence[int]) -> list[dict[str, Any]]:
        """A batch of items (torch's DataLoader calls this when the dataset has it)."""
        if not self.batched:
            return [self[i] for i in indices]
        batch = [self.samples[i] for i in indices]
        got = {call.video: self._frames(call.video, call.indices) for call in merge(batch)}
        at = dict.fromkeys(got, 0)
        items = []
        for s in batch:
            items.append(self._item(s, got[s.video][at[s.video]:at[s.video] + len(s)]))
            at[s.video] += len(s)
        return items

    def _frames(self, video: str, indices: Sequence[int]) -> torch.Tensor:
        """(T, H, W, 3) uint8: in host memory from a CPU loader, on ``device`` from a GPU loader."""
        src = self._source(video)
        if self.on_gpu:
            return src.get_tensors(indices, self.device)
        return torch.from_numpy(np.ascontiguousarray(src.get_frames(indices)))

    def _item(self, sample: Sample, got: torch.Tensor) -> dict[str, Any]:
        frames = got.permute(0, 3, 1, 2)
        if self.size is not None:
            frames = resize(frames, self.size)
        per_frame = self.annotations.get(sample.video, {})
        boxes = [torch.as_tensor(np.asarray(per_frame.get(int(j), np.empty((0, 4))), dtype=np.float32)
                                 .reshape(-1, 4)) for j in sample.indices]
        return {"frames": frames.contiguous(), "indices": torch.tensor(sample.indices), "video": sample.video,
                "boxes": boxes}

    def close(self) -> None:
        for src in self._sources.values():
            src.close()
        self._sources = {}


def resize(frames: torch.Tensor, size: int) -> torch.Tensor:
    """(T, 3, H, W) uint8 -> (T, 3, size, size) uint8, bilinear with antialiasing. On the CPU torch
    has a uint8 kernel; on a GPU the frames are resized as floats and rounded back."""
    if frames.device.type == "cpu":
        return F.interpolate(frames, size=(size, size), mode="bilinear", antialias=True)
    out = F.interpolate(frames.float(), size=(size, size), mode="bilinear", antialias=True)
    return out.round_().clamp_(0, 255).to(torch.uint8)


def cuda_missing() -> str | None:
    """Why ``--device cuda`` cannot run here; None when it can."""
    from loaders.cuda import device_missing

    return device_missing()


def collate(batch: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Stack frames and indices; keep boxes ragged (a list per sample of a tensor per frame)."""
    return {
        "frames": torch.stack([b["frames"] for b in batch]),
        "indices": torch.stack([b["indices"] for b in batch]),
        "video": [b["video"] for b in batch],
        "boxes": [b["boxes"] for b in batch],
    }


class PeakMemory:
    """Peak resident memory of this process plus its children, sampled every ``interval`` seconds.

    Forked workers share pages with the parent, so the sum counts shared pages more than once:
    an upper bound, the same for every loader. Finding the children scans every process of the
    machine (about a millisecond), so it is done every ``rescan`` seconds and the children found
    are sampled in between: inside a timed epoch the sampler takes well under 1% of a core.
    """

    def __init__(self, interval: float = 0.02, rescan: float = 0.25) -> None:
        self.interval = interval
        self.rescan = rescan
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._me = psutil.Process()
        self._children: list[psutil.Process] = []
        self._scanned = -math.inf

    def sample(self) -> None:
        now = time.monotonic()
        if now - self._scanned >= self.rescan:
            self._children = self._me.children(recursive=True)
            self._scanned = now
        total = self._me.memory_info().rss
        for child in self._children:
            try:
                total += child.memory_info().rss
            except psutil.Error:  # a worker that exited
                continue
        self.peak = max(self.peak, total)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def __enter__(self) -> PeakMemory:
        self.sample()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._scanned = -math.inf  # the last sample finds every child still there
        self.sample()


@dataclasses.dataclass
class Epochs:
    seconds: list[float]  # wall seconds of each epoch
    frames: int  # frames per epoch
    peak_rss_bytes: int
    threads: dict[str, int]
    workers: int = 0  # DataLoader workers that ran: 0 for a GPU loader (the main process decodes)
    device: str = "cpu"  # where every batch's frames were when the epoch ended
    # Seconds of each epoch to its first batch (workers started, sources opened, the batch read) and
    # to its last (what follows is the workers' shutdown).
    first_batch: list[float] = dataclasses.field(default_factory=list)
    last_batch: list[float] = dataclasses.field(default_factory=list)
    # CPU seconds (user + system) of each epoch: this process and its workers (see benchmarks.env.cpu_seconds).
    cpu_seconds: list[float] = dataclasses.field(default_factory=list)


class _Handoff(SampleDataset):
    """Samples of ``frames`` frames each, read from nothing: a copy of one buffer as large as the
    resized frames, so the batches cost what the harness and the DataLoader spend on them alone."""

    def __init__(self, samples: Sequence[Sample], size: int) -> None:
        super().__init__(BASELINE, samples, {}, size=None)
        self._buffer = torch.zeros((max(len(s) for s in samples), size, size, 3), dtype=torch.uint8)

    def _frames(self, video: str, indices: Sequence[int]) -> torch.Tensor:
        return self._buffer[: len(indices)].clone()


HANDOFF_BATCHES = (4, 36)  # the two epoch lengths, in batches, whose difference times a batch
HANDOFF_EPOCHS = 3  # epochs of each length and workers setting, their median taken


@functools.cache
def handoff(frames: int, size: int, batch_size: int, workers: int, epochs: int = HANDOFF_EPOCHS) -> float:
    """CPU seconds per frame that ``workers`` DataLoader workers spend handing batches of samples
    of ``frames`` frames (``size`` a side, ``batch_size`` a batch) to the main process, beyond what
    the main process alone spends on the same batches: workers write each batch to shared memory
    and send it, the main process maps it back. A reader that costs little per frame pays it in
    full; it is why two workers can be slower than none, more for small batches than for large.
    Timed over epochs of two lengths of a loader that reads nothing, their difference a batch (the
    workers' start left out), at ``workers`` and at 0, the median of ``epochs`` each; the figure for
    one shape is taken once per process."""
    def per_batch(w: int) -> float:
        cpu = []
        for n in HANDOFF_BATCHES:
            dataset = _Handoff([Sample("", tuple(range(frames)))] * (n * batch_size), size)
            cpu.append(statistics.median(run(dataset, w, batch_size, epochs).cpu_seconds))
        return (cpu[1] - cpu[0]) / (HANDOFF_BATCHES[1] - HANDOFF_BATCHES[0])

    return max(0.0, per_batch(workers) - per_batch(0)) / (frames * batch_size)


def opens(samples: Sequence[Sample], batch_size: int, workers: int) -> int:
    """Sources an epoch opens: one per video in each worker that reads a sample of it (batch i goes
    to worker i mod ``workers``, the DataLoader's round robin; workers 0: one per video)."""
    seen = {(n // max(1, batch_size) % max(1, workers), s.video) for n, s in enumerate(samples)}
    return len(seen)


def threads_per_worker(workers: int, cores: int) -> int:
    """Share the cores: each worker (or the main process alone) gets cores // workers threads."""
    return max(1, cores // max(1, workers))


@contextlib.contextmanager
def frozen() -> Iterator[None]:
    """The objects alive now (torch's, the modules', the run's own) kept out of the cyclic garbage
    collector's passes until the block ends (:func:`gc.freeze`), as servers that fork workers do.
    Every epoch ends with a collection, so the next one's workers do not inherit the last one's
    iterator: with torch loaded that pass walked 180,000 objects, 85 ms, more than a short epoch
    itself; frozen, it walks only what the epochs made. Forked workers inherit the freeze, so
    their collections do not write to the pages they share with the main process either. Inside
    a block already frozen, nothing more happens."""
    if gc.get_freeze_count():
        yield
        return
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def run(dataset: SampleDataset, workers: int, batch_size: int, epochs: int = 1, threads: int = 1) -> Epochs:
    """Time ``epochs`` epochs over ``dataset`` with ``workers`` DataLoader workers.

    Workers are started afresh each epoch (no persistent workers), as most training scripts
    run, so an epoch's time includes starting them and opening the sources in each. With a CUDA
    ``dataset.device`` every batch ends on the device (see the module's docstring).
    """
    device = torch.device(dataset.device)
    cuda = device.type == "cuda"
    if cuda and (why := cuda_missing()):
        raise RuntimeError(f"epochs on {device}: {why}")
    if dataset.on_gpu:
        workers = 0
    if loaders.REGISTRY[dataset.loader].takes_threads:
        dataset.options["threads"] = threads
    previous = torch.get_num_threads()
    seconds: list[float] = []
    first_batch: list[float] = []
    cpu: list[float] = []
    last_batch: list[float] = []
    frames = sum(len(s) for s in dataset.samples)
    try:
        set_threads(threads)  # the main process: workers=0 reads here, and workers fork from it
        with frozen(), PeakMemory() as memory:
            for _ in range(epochs):
                loader = DataLoader(dataset, batch_size=batch_size, shuffle=False, num_workers=workers,
                                    collate_fn=collate, worker_init_fn=_WorkerInit(threads) if workers else None,
                                    pin_memory=cuda and not dataset.on_gpu)
                cpu_start = cpu_seconds()
                start = time.perf_counter()
                batches = _start(loader)
                first = last = None
                batch = None
                for batch in batches:
                    if cuda:  # pinned (or already there): the copy overlaps the wait for the next batch
                        batch["frames"] = batch["frames"].to(device, non_blocking=True)
                    last = time.perf_counter() - start
                    if first is None:
                        first = last
                if cuda:
                    torch.cuda.synchronize(device)
                seconds.append(time.perf_counter() - start)
                first_batch.append(seconds[-1] if first is None else first)
                last_batch.append(seconds[-1] if last is None else last)
                # Collected now, not in a worker forked later that would inherit it.
                del batches, loader, batch
                own = own_cpu_seconds()
                gc.collect()
                dataset.close()  # the next epoch opens afresh, as workers do
                # The workers are joined by now; the main process's collecting and closing is the
                # benchmark's, not loading's (tens of ms with torch loaded: most of a short epoch's).
                cpu.append(max(0.0, cpu_seconds() - cpu_start - (own_cpu_seconds() - own)))
    finally:
        dataset.close()
        torch.set_num_threads(previous)
    return Epochs(seconds, frames, memory.peak, {"torch": 1, "opencv": threads, "ffmpeg": threads}, workers,
                  str(device), first_batch, last_batch, cpu)
