"""The pytest-benchmark front door: ``pytest --benchmark-only benchmarks/`` on the same videos
as ``python -m benchmarks`` gives the same cases, cell keys and records.

Runs pytest in a subprocess (the benchmarks' conftest is a plugin of its own) with one loader on
tiny videos, two of which share a stem (clip.mp4 and clip.mkv must stay two videos).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import require_loader

import loaders
from benchmarks import cli, records

ROOT = Path(__file__).resolve().parent.parent
LOADER = "pyav"
PATTERNS = "sequential,random-batch"
TIMING = ["--frames", "4", "--min-time", "0", "--min-rounds", "2", "--warmup", "1", "--batch-size", "4"]


@pytest.fixture(scope="module")
def videos(tiny_videos: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("videos")
    shutil.copy(tiny_videos["tiny-h264-odd"], folder / "clip.mp4")
    shutil.copy(tiny_videos["tiny-h264-offset-vfr"], folder / "clip.mkv")
    return folder


def test_pytest_benchmark_and_the_cli_measure_the_same_cells(videos: Path, tmp_path: Path) -> None:
    require_loader(LOADER)
    run = tmp_path / "pytest-run"
    options = [f"--vidbench-{flag.lstrip('-')}={value}" for flag, value in zip(TIMING[::2], TIMING[1::2], strict=True)]
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "benchmarks/test_perframe.py", "--benchmark-only", "-q",
         "-p", "no:cacheprovider",
         f"--vidbench-videos={videos}", f"--vidbench-loaders={LOADER}", f"--vidbench-patterns={PATTERNS}",
         f"--vidbench-run={run}", f"--vidbench-stores={tmp_path / 'stores'}", *options],
        cwd=ROOT, capture_output=True, text=True, timeout=600, env={**os.environ, "VIDBENCH_STACK": "main"})
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    from_pytest = list(records.read(run / "records.jsonl"))

    assert cli.main(["--videos", str(videos), "--loaders", LOADER, "--patterns", PATTERNS, "--measures", "per_frame",
                     "--out", str(tmp_path / "results"), "--run-id", "cli", "--stores", str(tmp_path / "stores"),
                     *TIMING]) == 0
    # The CLI's anchor records (a stack's drift, timed from its start to its end) are no case of the run.
    from_cli = [r for r in records.read(tmp_path / "results" / "cli" / "records.jsonl") if r.measure != "anchor"]

    assert sorted(r.cell for r in from_pytest) == sorted(r.cell for r in from_cli)
    assert {r.profile for r in from_pytest} == {"clip.mp4", "clip.mkv"}  # no collision on the stem
    assert {(r.measure, r.pattern) for r in from_pytest} == {("open", None), ("per_frame", "sequential"),
                                                              ("per_frame", "random-batch")}
    by_cell = {r.cell: r for r in from_cli}
    for r in from_pytest:
        twin = by_cell[r.cell]
        assert (r.status, r.loader, r.kind, r.frames, r.exact, r.stack) == (
            "ok", twin.loader, twin.kind, twin.frames, twin.exact, loaders.current_stack())
        # Calibrated rounds, by the same rule: every round kept, and at least the minimum count.
        assert len(r.seconds) >= 2 and r.options["rounds"] == len(r.seconds) and r.options["warmup_rounds"] == 1
        # The same options but the timer's: the command line takes a video's per-frame rounds in turns.
        assert {k: v for k, v in r.options.items() if k != "rounds"} == {
            k: v for k, v in twin.options.items() if k not in ("rounds", "interleaved")}
        assert "interleaved" not in r.options and bool(twin.options.get("interleaved")) == (r.measure == "per_frame")
        if r.measure == "per_frame":
            assert r.fps_median and r.options["calls"] <= r.options["samples"]


def test_the_pytest_options_are_the_command_lines() -> None:
    """One option table, two front ends: each --vidbench-X parses as the command line's --X does,
    with its default, and the rest of the command line's options keep their defaults."""
    import argparse

    from benchmarks import conftest as front

    class Group:  # what pytest's option group takes is argparse's own arguments
        def __init__(self) -> None:
            self.parser = argparse.ArgumentParser()

        def addoption(self, *flags: str, **kw: Any) -> None:
            self.parser.add_argument(*flags, **kw)

    group = Group()
    front.add_options(group)
    asked = ["--formats", "jpeg,npy", "--store-sizes", "full,128", "--gops", "4", "--quick", "--min-time", "0.1"]
    ours = group.parser.parse_args([f"--vidbench-{a[2:]}" if a.startswith("--") else a for a in asked])
    theirs = cli.parser().parse_args(asked)
    assert {d: getattr(ours, f"vidbench_{d}") for d in front.SHARED} == {d: getattr(theirs, d) for d in front.SHARED}
    assert (ours.vidbench_formats, ours.vidbench_store_sizes, ours.vidbench_gops) == (["jpeg", "npy"], [None, 128], [4])
    defaults = group.parser.parse_args([])
    assert {d: getattr(defaults, f"vidbench_{d}") for d in front.SHARED} == \
        {d: getattr(cli.parser().parse_args([]), d) for d in front.SHARED}
    assert set(front.SHARED) < {a.dest for a in cli.parser()._actions}
