"""Ctrl-C on ``python -m benchmarks``: the run stops within seconds, its DataLoader workers and
children with it, records.jsonl holds only whole records, one line says how to resume, the exit
status is 130, and ``--resume`` finishes the run."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import psutil
import pytest
from interrupt import STOP_BOUND, interrupt

from benchmarks import cli

ROOT = Path(__file__).resolve().parent.parent
# Against a hang, not a speed figure: generous for a loaded two-core machine.


def _bench(videos: Path, out: Path, cache: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "benchmarks", "--videos", str(videos), "--out", str(out), "--run-id", "r",
            "--loaders", "pyav,npy", "--formats", "npy", "--patterns", "sequential", "--min-time", "0",
            "--min-rounds", "1", "--warmup", "0", "--frames", "2", "--size", "32", "--store-sizes", "full",
            "--gops", "", "--cache", "warm", "--workers", "2", "--budget", "1h", *extra]


def _records(path: Path) -> list[dict[str, object]]:
    data = path.read_bytes()
    assert data.endswith(b"\n"), "a torn last line"
    return [json.loads(line) for line in data.decode().splitlines()]  # every line a whole JSON object


@pytest.mark.parametrize("to", ["process", "group"])
def test_sigint_stops_a_run_its_workers_too_and_resume_finishes_it(to: str, tiny_videos: dict[str, Path],
                                                                    tmp_path: Path) -> None:
    """``to``: SIGINT to the Python process alone (``kill -INT``), or to its process group as a
    terminal's Ctrl-C sends it, workers included."""
    videos = tmp_path / "videos"
    videos.mkdir()
    shutil.copy(tiny_videos["tiny-h264-odd"], videos / "clip.mp4")
    out, cache = tmp_path / "results", tmp_path / "cache"
    env = {**os.environ, "VIDBENCH_CACHE_DIR": str(cache), "VIDBENCH_STACK": "main", "PYTHONPATH": str(ROOT)}
    records = out / "r" / "records.jsonl"
    # Many epochs, so the run is in its DataLoader epochs (two workers) when it is stopped.
    stopped = interrupt(
        _bench(videos, out, cache, "--epochs", "400"),
        # per-frame cases done, the epochs' workers running
        lambda children: len(children) >= 2 and records.exists()
        and records.read_text().count('"measure": "per_frame"') >= 2,
        to, 300, cwd=tmp_path, env=env)
    stderr, workers = stopped.stderr, stopped.children
    assert len(workers) >= 2, "the run never reached its epochs"
    assert stopped.returncode == cli.INTERRUPTED, stderr[-2000:]
    assert stopped.seconds < STOP_BOUND
    assert "Traceback" not in stderr, stderr[-2000:]
    last = stderr.strip().splitlines()[-1]
    assert last.startswith("interrupted: ") and "--resume --run-id r" in last and str(records) in last
    gone = psutil.wait_procs(workers, timeout=10)[1]
    assert not gone, f"children still running after the run stopped: {gone}"
    before = _records(records)
    assert not any(r["measure"] == "epoch" for r in before)  # the epochs in hand were dropped, not recorded

    finish = subprocess.run(_bench(videos, out, cache, "--epochs", "1", "--resume"), cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=600)
    assert finish.returncode == 0, finish.stderr[-2000:]
    after = _records(records)
    assert after[:len(before)] == before  # append-only: what was measured stays
    cells = [r["cell"] for r in after]
    assert len(cells) == len(set(cells))  # resume did only the cells the run lacked
    assert {r["loader"] for r in after if r["measure"] == "epoch"} >= {"pyav", "npy"}


def test_an_interrupted_run_says_how_to_resume(tmp_path: Path) -> None:
    assert "nothing was measured" in cli.interrupted(None)
    run = cli.Run(tmp_path, "x", resume=False)
    assert cli.interrupted(run) == (f"interrupted: 0 records kept in {run.path}; finish the run with the same "
                                    "command and --resume --run-id x")


def test_a_workers_shutdown_noise_is_not_printed_and_its_errors_are_one_line(
        capsys: pytest.CaptureFixture[str]) -> None:
    from benchmarks import runner

    # multiprocessing's resource sharer calls sys.excepthook when its connection closes as the
    # worker is stopped: no error, nothing printed (it printed a traceback after the run's last line).
    for quiet in (OSError("closed"), EOFError(), KeyboardInterrupt()):
        runner._worker_excepthook(type(quiet), quiet, None)
    assert capsys.readouterr().err == ""
    runner._worker_excepthook(ValueError, ValueError("bad value"), None)
    err = capsys.readouterr().err
    assert err.endswith(": ValueError: bad value\n") and err.startswith("DataLoader worker ") and "Traceback" not in err
