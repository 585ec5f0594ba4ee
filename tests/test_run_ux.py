"""A run a user can follow: what it will do first, progress in a log, stores outside the repository,
and a manual (docs/running.md) that lists every option of the command."""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

from benchmarks import cli
from loaders.progress import Progress

ROOT = Path(__file__).resolve().parent.parent


def test_a_piped_run_prints_its_plan_progress_and_where_it_writes(tiny_videos: dict[str, Path],
                                                                  tmp_path: Path) -> None:
    videos = tmp_path / "videos"
    videos.mkdir()
    shutil.copy(tiny_videos["tiny-h264-odd"], videos / "clip.mp4")
    cache = tmp_path / "cache"
    # run from elsewhere (the repository is not the working directory) with this checkout on the path
    env = {**os.environ, "VIDBENCH_CACHE_DIR": str(cache), "VIDBENCH_STACK": "main", "PYTHONPATH": str(ROOT)}
    run = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--videos", str(videos), "--out", str(tmp_path / "results"),
         "--run-id", "r", "--loaders", "pyav,npy", "--formats", "npy", "--patterns", "uniform-k", "--min-time", "0",
         "--min-rounds", "1", "--warmup", "0", "--epochs", "1", "--workers", "0", "--frames", "2", "--size", "32",
         "--budget", "1h", "--store-sizes", "full", "--gops", "", "--cache", "warm"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600, check=False)
    assert run.returncode == 0, run.stderr
    out = run.stdout
    assert "estimate: about " in out and "budget 60 min: the whole run fits" in out
    assert "videos: 1 (48 frames; 202x118)" in out and "1 decoders, 1 frame readers" in out
    # the stores of --videos go to the user cache, named before anything is measured
    assert f"stores in {cache / 'stores'}" in out
    assert any(p.name == "manifest.json" for p in (cache / "stores").rglob("*"))
    assert not (ROOT / ".corpus" / "stores" / "ffmpeg-npy").exists() or not any(
        "clip-" in p.name for p in (ROOT / ".corpus" / "stores" / "ffmpeg-npy").iterdir())
    # off a terminal: log lines, not a silent bar; the last one says everything is done
    cells = 1 + 2 * 2 + 2  # one store; open and per-frame for two loaders; two epoch cells
    assert f"bench: {cells}/{cells} cells, " in run.stderr and "ETA 0 s" in run.stderr
    assert "bench: epochs: about " in run.stderr  # the refined ETA before the epochs
    # each phase says what it took against its estimate (the ETA after it learnt from that)
    assert re.search(r"bench: per-frame: took \d+ s \(estimated \d+ s\)", run.stderr), run.stderr
    assert re.search(r"bench: epochs: took \d+ s \(estimated \d+ s\)", run.stderr), run.stderr


def test_progress_logs_every_few_seconds_and_follows_planned_work() -> None:
    log = io.StringIO()
    progress = Progress(4, "bench", unit="cell", stream=log, every=3600, work=10.0)
    progress.update(1, "a slow cell", work=9.0)  # 90% of the work: too soon for a line
    assert log.getvalue() == ""
    assert progress.eta() < progress.elapsed  # one cell in four, but nine tenths of the work
    progress.message("epochs: about 3 s more")
    progress.update(3, "the rest", work=1.0)
    lines = log.getvalue().splitlines()
    assert lines[0] == "bench: epochs: about 3 s more"
    assert re.fullmatch(r"bench: 4/4 cells, the rest, \d+ s elapsed, ETA 0 s", lines[1])
    progress.close()


def test_a_long_step_still_logs_while_it_runs() -> None:
    log = io.StringIO()
    progress = Progress(2, "bench", unit="cell", stream=log, every=0.05)
    progress.update(0, "per_frame cv2-seek-clip")  # a step that takes minutes starts
    deadline = time.monotonic() + 30
    while "per_frame cv2-seek-clip" not in log.getvalue() and time.monotonic() < deadline:
        time.sleep(0.05)
    progress.close()
    assert "bench: 0/2 cells, per_frame cv2-seek-clip, " in log.getvalue()


def test_the_docs_list_every_option_of_python_m_benchmarks() -> None:
    doc = (ROOT / "docs" / "running.md").read_text()
    table = doc[doc.index("| option | default |"):]
    table = table[:table.index("\n\n")]
    listed = set(re.findall(r"`(-{1,2}[a-z][a-z0-9-]*)", table))
    options = {s for a in cli.parser()._actions for s in a.option_strings if s not in ("-h", "--help")}
    assert options - listed == set(), "options of python -m benchmarks missing from docs/running.md's table"


def test_the_docs_list_every_option_of_the_pytest_front_door() -> None:
    """The --vidbench-* options, as pytest itself lists them, are in docs/method.md."""
    run = subprocess.run([sys.executable, "-m", "pytest", "--help", "-p", "no:cacheprovider", "benchmarks"],
                         cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert run.returncode == 0, run.stderr
    options = set(re.findall(r"--vidbench-[a-z][a-z-]*[a-z]", run.stdout))
    assert "--vidbench-loaders" in options
    doc = (ROOT / "docs" / "method.md").read_text()
    section = doc[doc.index("## The pytest-benchmark front door"):]
    assert options - set(re.findall(r"--vidbench-[a-z][a-z-]*[a-z]", section)) == set(), \
        "options of the pytest-benchmark front door missing from docs/method.md"
