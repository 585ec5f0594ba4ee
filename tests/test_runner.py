"""The per-epoch runner: lazy sources per worker, aligned ragged annotations, what an epoch reports."""

from __future__ import annotations

import gc
import pickle
import signal
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from conftest import require_loader
from torch.utils.data import DataLoader

import loaders
from benchmarks import runner
from benchmarks.patterns import Sample
from loaders import reference
from loaders.vocabulary import BASELINE

CLIPS = [(0, 1, 2), (3, 4, 5), (10, 11, 12), (20, 21, 22)]


def _dataset(video: Path, loader: str = "pyav", **kw: object) -> runner.SampleDataset:
    samples = [Sample(str(video), c) for c in CLIPS]
    return runner.SampleDataset(loader, samples, {str(video): video}, **kw)  # type: ignore[arg-type]


def test_annotations_come_back_aligned_and_ragged_and_no_sample_is_dropped(tiny_videos: dict[str, Path]) -> None:
    require_loader("pyav")
    video = tiny_videos["tiny-h264-bframes"]
    boxes = {1: [[0, 0, 10, 10]], 4: [[1, 1, 2, 2], [3, 3, 4, 4]], 21: [[5, 5, 6, 6]]}
    dataset = _dataset(video, size=None, annotations={str(video): boxes})
    loader = DataLoader(dataset, batch_size=2, num_workers=2, collate_fn=runner.collate)
    batches = list(loader)
    got = [(idx.tolist(), b) for batch in batches for idx, b in zip(batch["indices"], batch["boxes"], strict=True)]
    assert [g[0] for g in got] == [list(c) for c in CLIPS]  # every sample, with or without boxes
    for indices, per_frame in got:
        assert len(per_frame) == len(indices)
        for i, b in zip(indices, per_frame, strict=True):
            want = np.asarray(boxes.get(i, np.empty((0, 4))), dtype=np.float32).reshape(-1, 4)
            assert torch.equal(b, torch.from_numpy(want))
    # The frames themselves are the reference frames, channels first.
    ref = reference.decode(video, [i for c in CLIPS for i in c])
    first = batches[0]["frames"][0]
    assert first.shape == (3, 3, ref.height, ref.width)
    assert torch.equal(first.permute(0, 2, 3, 1), torch.from_numpy(ref.stack(CLIPS[0])))


def test_frames_are_resized_so_batches_stack(tiny_videos: dict[str, Path]) -> None:
    require_loader("pyav")
    dataset = _dataset(tiny_videos["tiny-h264-odd"], size=32)
    item = dataset[0]
    assert item["frames"].shape == (3, 3, 32, 32) and item["frames"].dtype == torch.uint8
    assert item["boxes"] == [] or all(b.shape == (0, 4) for b in item["boxes"])


def test_open_sources_do_not_survive_pickling(tiny_videos: dict[str, Path]) -> None:
    require_loader("pyav")
    dataset = _dataset(tiny_videos["tiny-h264-bframes"], size=32)
    dataset[0]
    assert dataset._sources
    assert pickle.loads(pickle.dumps(dataset))._sources == {}
    dataset.close()


def test_run_reports_epochs_frames_memory_and_threads(tiny_videos: dict[str, Path]) -> None:
    require_loader(BASELINE)
    dataset = _dataset(tiny_videos["tiny-h264-bframes"], loader=BASELINE, size=32)
    for workers in (0, 2):
        result = runner.run(dataset, workers=workers, batch_size=2, epochs=2, threads=1)
        assert len(result.seconds) == 2 and all(s > 0 for s in result.seconds)
        assert result.frames == sum(len(c) for c in CLIPS)
        assert result.peak_rss_bytes > 0
        assert result.threads == {"torch": 1, "opencv": 1, "ffmpeg": 1}
    assert runner.threads_per_worker(0, 2) == 2 and runner.threads_per_worker(2, 2) == 1
    assert runner.threads_per_worker(4, 2) == 1


class _Burning(runner.SampleDataset):
    """Each item spends ``BURN`` CPU seconds of the process that reads it before it is read."""

    BURN = 0.05

    def __getitem__(self, i: int) -> dict[str, Any]:
        import time

        until = time.process_time() + self.BURN
        while time.process_time() < until:
            pass
        return super().__getitem__(i)


def test_an_epoch_records_the_cpu_time_of_its_workers(tiny_videos: dict[str, Path]) -> None:
    """The CPU an epoch's loading occupies is counted in the workers too, not only in the main process."""
    require_loader(BASELINE)
    video = tiny_videos["tiny-h264-bframes"]
    dataset = _Burning(BASELINE, [Sample(str(video), c) for c in CLIPS], {str(video): video}, size=32)
    for workers in (0, 2):
        result = runner.run(dataset, workers=workers, batch_size=2, epochs=2, threads=1)
        assert len(result.cpu_seconds) == 2
        assert all(c >= len(CLIPS) * _Burning.BURN for c in result.cpu_seconds), (workers, result.cpu_seconds)


def test_an_epoch_s_cpu_time_leaves_out_the_collecting_after_it(tiny_videos: dict[str, Path],
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """The garbage collection the runner does between epochs is the benchmark's, not loading's."""
    require_loader(BASELINE)

    def collect() -> int:
        until = time.process_time() + 0.3
        while time.process_time() < until:
            pass
        return 0

    monkeypatch.setattr(runner.gc, "collect", collect)
    video = tiny_videos["tiny-h264-bframes"]
    dataset = runner.SampleDataset(BASELINE, [Sample(str(video), c) for c in CLIPS], {str(video): video}, size=32)
    result = runner.run(dataset, workers=0, batch_size=2, epochs=2, threads=1)
    assert all(c < 0.3 for c in result.cpu_seconds), result.cpu_seconds


def test_the_collecting_between_epochs_leaves_out_the_objects_alive_before_them(tiny_videos: dict[str, Path]) -> None:
    """Each epoch ends with a full collection; the objects alive before the epochs (torch's, the
    run's) are frozen meanwhile, so it walks only what the epochs made, and they are free again after."""
    require_loader(BASELINE)
    video = tiny_videos["tiny-h264-bframes"]
    dataset = runner.SampleDataset(BASELINE, [Sample(str(video), c) for c in CLIPS], {str(video): video}, size=32)
    old = [{"cycle": None} for _ in range(1000)]
    for d in old:
        d["cycle"] = d  # long-lived container objects a full pass would walk
    walked: list[int] = []

    def seen(phase: str, info: dict[str, int]) -> None:
        if phase == "start" and info["generation"] == 2:
            walked.append(gc.get_freeze_count())

    assert gc.get_freeze_count() == 0
    gc.callbacks.append(seen)
    try:
        runner.run(dataset, workers=0, batch_size=2, epochs=3, threads=1)
    finally:
        gc.callbacks.remove(seen)
    frozen = [n for n in walked if n > 0]
    assert len(frozen) >= 3, walked  # one collection an epoch, every one with the old objects out of it
    assert all(n >= len(old) for n in frozen), walked
    assert gc.get_freeze_count() == 0  # unfrozen after: a cycle among them can be collected again


def test_a_freeze_already_in_place_is_kept_and_the_outer_one_undoes_it() -> None:
    assert gc.get_freeze_count() == 0
    with runner.frozen():
        outer = gc.get_freeze_count()
        assert outer > 0
        with runner.frozen():
            assert gc.get_freeze_count() == outer
        assert gc.get_freeze_count() == outer  # the inner block did not unfreeze what the outer froze
    assert gc.get_freeze_count() == 0
    with pytest.raises(RuntimeError), runner.frozen():
        raise RuntimeError("an epoch failed")
    assert gc.get_freeze_count() == 0


def test_batched_dataset_asks_for_a_batch_in_one_call_and_serves_the_same_items(
        tiny_videos: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    require_loader("pyav")
    a, b = tiny_videos["tiny-h264-bframes"], tiny_videos["tiny-hevc"]  # the same size: a batch stacks
    samples = [Sample(str(a), (5,)), Sample(str(b), (2,)), Sample(str(a), (1,)), Sample(str(a), (9,))]
    paths = {str(a): a, str(b): b}
    calls: list[tuple[str, list[int]]] = []
    real = loaders.Source.get_frames

    def counted(self: loaders.Source, indices: Any) -> Any:
        calls.append((str(self.path), list(indices)))
        return real(self, indices)

    monkeypatch.setattr(loaders.Source, "get_frames", counted)
    batched = runner.SampleDataset("pyav", samples, paths, size=None, batched=True)  # type: ignore[arg-type]
    plain = runner.SampleDataset("pyav", samples, paths, size=None)  # type: ignore[arg-type]
    got = [list(DataLoader(d, batch_size=4, collate_fn=runner.collate)) for d in (batched, plain)]
    batch_calls, plain_calls = calls[: len(calls) - len(samples)], calls[len(calls) - len(samples):]
    assert batch_calls == [(str(a), [5, 1, 9]), (str(b), [2])]  # one call per video, batch order
    assert plain_calls == [(s.video, list(s.indices)) for s in samples]  # one call per sample
    assert torch.equal(got[0][0]["frames"], got[1][0]["frames"])
    assert torch.equal(got[0][0]["indices"], got[1][0]["indices"]) and got[0][0]["video"] == got[1][0]["video"]


def test_peak_memory_counts_the_children_and_scans_for_them_seldom(monkeypatch: pytest.MonkeyPatch) -> None:
    import subprocess
    import sys
    import time

    import psutil

    from benchmarks.runner import PeakMemory

    scans = 0
    real = psutil.Process.children

    def counted(self: psutil.Process, recursive: bool = False) -> list[psutil.Process]:
        nonlocal scans
        scans += 1
        return real(self, recursive=recursive)

    monkeypatch.setattr(psutil.Process, "children", counted)
    alone = psutil.Process().memory_info().rss
    child = subprocess.Popen([sys.executable, "-c", "import time; b = bytearray(300 * 2**20); time.sleep(30)"])
    try:
        while psutil.Process(child.pid).memory_info().rss < 250 * 2**20:
            time.sleep(0.02)
        with PeakMemory(interval=0.01, rescan=0.25) as memory:
            time.sleep(0.6)
        assert memory.peak >= alone + 250 * 2**20  # the child's 300 MB are counted
        assert 2 <= scans <= 6  # one scan per 0.25 s and the last sample's, not one per 0.01 s sample
    finally:
        child.kill()
        child.wait()


class _SlowToStart:
    """A loader whose iterator takes a moment to make, and a Ctrl-C to the process lands meanwhile
    in another of its threads (as the kernel may give a signal sent to the process)."""

    def __init__(self, other: threading.Thread | None) -> None:
        self.other = other
        self.made = False

    def __iter__(self) -> Any:
        if self.other is not None:
            signal.pthread_kill(self.other.ident or 0, signal.SIGINT)
        time.sleep(0.05)  # Python runs a handler in the main thread at its next step: within this
        for _ in range(1000):
            pass
        self.made = True
        return iter(())


def test_a_ctrl_c_while_the_workers_start_waits_until_their_iterator_is_whole() -> None:
    # Raised half-way, the iterator's clean-up fails on what it lacks (a traceback after the run's
    # last line). Held, it is raised once the iterator is whole, which stops its workers.
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    loader = _SlowToStart(other)
    try:
        with pytest.raises(KeyboardInterrupt):
            runner._start(loader)  # type: ignore[arg-type]
    finally:
        stop.set()
        other.join()
    assert loader.made
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # the handler put back
    assert signal.SIGINT not in signal.pthread_sigmask(signal.SIG_BLOCK, set())  # and Ctrl-C unblocked
    quiet = _SlowToStart(None)
    assert list(runner._start(quiet)) == [] and quiet.made  # no Ctrl-C: the iterator, nothing raised


def test_the_hand_off_of_a_batch_is_the_workers_cpu_a_batch_beyond_the_main_process_s(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Timed over epochs of two lengths at the workers asked and at 0: the start-up each pays once
    drops out of their difference, and what the main process alone spends on a batch is taken off."""
    start = {0: 0.01, 2: 0.3}
    per_batch = {0: 0.002, 2: 0.007}  # CPU seconds a batch
    seen: list[tuple[int, int, tuple[int, ...]]] = []

    def run(dataset: runner.SampleDataset, workers: int, batch_size: int, epochs: int = 1,
            threads: int = 1) -> runner.Epochs:
        batches = len(dataset) // batch_size
        seen.append((workers, batches, dataset.samples[0].indices))
        frames = dataset[0]["frames"]
        assert frames.shape == (len(dataset.samples[0]), 3, 24, 24) and frames.dtype == torch.uint8
        cpu = start[workers] + batches * per_batch[workers]
        return runner.Epochs([cpu] * epochs, 0, 0, {}, workers, cpu_seconds=[cpu] * epochs)

    monkeypatch.setattr(runner, "run", run)
    runner.handoff.cache_clear()
    try:
        got = runner.handoff(4, 24, 2, 2)
        assert got == pytest.approx((0.007 - 0.002) / (4 * 2))
        assert {(w, n) for w, n, _ in seen} == {(w, n) for w in (0, 2) for n in runner.HANDOFF_BATCHES}
        assert all(indices == (0, 1, 2, 3) for _, _, indices in seen)
        runner.handoff(4, 24, 2, 2)
        assert len(seen) == 4  # one shape timed once a process
        per_batch[2] = 0.001  # workers that cost the main process less than it spends alone: none
        assert runner.handoff(1, 24, 2, 2) == 0.0
    finally:
        runner.handoff.cache_clear()
