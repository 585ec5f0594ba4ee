"""``python -m loaders extract``: a tree of videos into stores, locally and on a real Ray cluster."""

from __future__ import annotations

import dataclasses
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import skip_or_fail
from frame_checks import all_frames
from test_extract import ROOT, need, read_all

from loaders import batch, reference, units
from loaders.extraction import Extraction
from loaders.store import MANIFEST, read_manifest

# path in SRC -> tiny profile it is a copy of; "a/clip.mp4" and "a/clip.mkv" share a stem.
TREE = {"clip.mp4": "tiny-h264-bframes", "a/clip.mp4": "tiny-h264-odd", "a/clip.mkv": "tiny-h264-offset-vfr"}
BAD = "a/b/bad.mp4"


def command(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0"}
    return subprocess.run(
        [sys.executable, "-m", "loaders", "extract", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )


@pytest.fixture
def tree(tiny_videos, tmp_path) -> Path:
    src = tmp_path / "src"
    for rel, profile in TREE.items():
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(tiny_videos[profile], src / rel)
    (src / BAD).parent.mkdir(parents=True)
    (src / BAD).write_text("not a video\n")
    (src / "notes.txt").write_text("not a video either, and not named like one\n")
    return src


def store_of(stores: Path, rel: str, label: str) -> Path:
    return stores / f"{rel}.{label}"


def store_files(store: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(store.iterdir()) if p.name != MANIFEST}


def manifest_but_cost(store: Path) -> dict[str, object]:
    m = dataclasses.asdict(read_manifest(store))
    m.pop("seconds")  # wall time differs from run to run
    return m


def test_command_extracts_a_tree_reports_and_resumes(tree, references, tmp_path):
    need("ffmpeg")
    stores = tmp_path / "stores"
    run = command(str(tree), str(stores), "--format", "npy", "--jobs", "2")
    assert run.returncode == 1, run.stderr  # one video failed
    out = run.stdout
    assert "videos: 4 (3 extracted, 0 reused, 1 failed)" in out
    frames = sum(references[p].num_frames for p in TREE.values())
    assert f"frames: {frames} in the stores, {frames} extracted now" in out
    assert f"FAILED {tree / BAD}: not a readable video" in out
    # The failures are also in a file in STORES, one JSON object (src, video, reason) a line.
    listed = [json.loads(line) for line in (stores / batch.FAILURES_FILE).read_text().splitlines()]
    assert [(e["src"], e["video"]) for e in listed] == [(str(tree), str(tree / BAD))]
    assert "not a readable video" in listed[0]["reason"]
    # Not a terminal: progress comes as log lines, the last one at the end.
    assert "4/4 videos" in run.stderr and "ETA" in run.stderr
    total = 0
    for rel, profile in TREE.items():
        store = store_of(stores, rel, "ffmpeg-npy")
        assert np.array_equal(read_all(store), all_frames(references[profile])), rel
        total += read_manifest(store).bytes
    assert f"bytes: {units.size(total)} ({total} B)" in out

    again = command(str(tree), str(stores), "--format", "npy")
    assert again.returncode == 1 and "videos: 4 (0 extracted, 3 reused, 1 failed)" in again.stdout
    (tree / BAD).unlink()
    clean = command(str(tree), str(stores), "--format", "npy")
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "videos: 3 (0 extracted, 3 reused, 0 failed)" in clean.stdout
    assert not (stores / batch.FAILURES_FILE).exists()  # no stale list of failures


def test_command_refuses_bad_arguments(tmp_path):
    missing = command(str(tmp_path / "nowhere"), str(tmp_path / "stores"))
    assert missing.returncode == 2 and "nowhere: no such file or directory" in missing.stderr
    (tmp_path / "empty").mkdir()
    empty = command(str(tmp_path / "empty"), str(tmp_path / "stores"))
    assert empty.returncode == 2 and "no videos" in empty.stderr
    odd = command(str(tmp_path / "empty"), str(tmp_path / "stores"), "--size", "63")
    assert odd.returncode == 2 and "even" in odd.stderr
    stray = command(str(tmp_path / "empty"), str(tmp_path / "stores"), "--address", "auto")
    assert stray.returncode == 2 and "--engine ray" in stray.stderr
    assert not (tmp_path / "stores").exists()


def test_tree_jobs_keep_relative_paths_apart(tree, tmp_path):
    settings = batch.Settings("pyav", "jpeg", 80, 128)
    jobs = batch.tree_jobs(tree, tree / "stores", settings)  # stores inside SRC are not searched
    got = {Path(j.video).relative_to(tree).as_posix(): Path(j.store).relative_to(tree / "stores").as_posix()
           for j in jobs}
    assert got == {rel: f"{rel}.pyav-jpeg-q80-s128" for rel in [*TREE, BAD]}


def test_extract_all_does_not_import_ray(tiny_videos, tmp_path):
    need("ffmpeg")
    script = (
        f"import sys; sys.path.insert(0, {str(ROOT)!r}); import loaders; "
        f"loaders.extract_all([{str(tiny_videos['tiny-h264-odd'])!r}], {str(tmp_path)!r}, format='npy'); "
        "print('ray' in sys.modules)"
    )
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0 and run.stdout.strip() == "False", run.stderr


# --- the Ray engine, on a real local cluster (started once for this module) -------------------


@pytest.fixture(scope="module")
def ray_address():
    """A Ray cluster of 2 CPUs started by this process, its own temp dir, shut down afterwards."""
    try:
        import ray
    except ImportError as exc:
        skip_or_fail(f"the Ray engine tests need ray (the [ray] extra): {exc}")
    import logging

    temp = tempfile.mkdtemp(prefix="ray-", dir="/tmp")  # short: Ray's socket paths must fit 107 bytes
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RAY_USAGE_STATS_ENABLED", "0")
        ray.init(num_cpus=2, include_dashboard=False, _temp_dir=temp, logging_level=logging.WARNING)
        try:
            yield ray.get_runtime_context().gcs_address
        finally:
            ray.shutdown()
            shutil.rmtree(temp, ignore_errors=True)


def test_a_ray_head_passes_the_address_check(ray_address):
    batch.check_reachable(ray_address, timeout=5)  # its GCS answers an HTTP/2 preface as a gRPC server


@pytest.mark.parametrize(("extractor", "fmt"), [("ffmpeg", "npy"), ("pyav", "png")])
def test_ray_engine_makes_the_local_engines_stores(extractor, fmt, ray_address, tree, tmp_path):
    need(extractor, fmt)
    args = ["--extractor", extractor, "--format", fmt]
    local = command(str(tree), str(tmp_path / "local"), *args, "--jobs", "2")
    on_ray = command(str(tree), str(tmp_path / "ray"), *args, "--engine", "ray", "--address", ray_address)
    assert local.returncode == on_ray.returncode == 1, on_ray.stderr
    assert "videos: 4 (3 extracted, 0 reused, 1 failed)" in on_ray.stdout
    failed = [line for line in on_ray.stdout.splitlines() if line.startswith("FAILED")]
    assert failed == [line for line in local.stdout.splitlines() if line.startswith("FAILED")]
    assert failed[0].startswith(f"FAILED {tree / BAD}: not a readable video")
    listed = [(tmp_path / engine / batch.FAILURES_FILE).read_text() for engine in ("local", "ray")]
    assert listed[0] == listed[1]
    label = f"{extractor}-{fmt}"
    for rel in TREE:
        a, b = store_of(tmp_path / "local", rel, label), store_of(tmp_path / "ray", rel, label)
        assert store_files(a) == store_files(b), rel  # byte for byte
        assert manifest_but_cost(a) == manifest_but_cost(b)


def make_clips(folder: Path, count: int) -> list[Path]:
    """Videos long enough (640x360, 8 s) that a PNG extraction runs for seconds."""
    from imageio_ffmpeg import get_ffmpeg_exe

    folder.mkdir()
    clips = []
    for i in range(count):
        out = folder / f"clip{i}.mp4"
        subprocess.run(
            [get_ffmpeg_exe(), "-loglevel", "error", "-f", "lavfi", "-i", f"testsrc2=size=640x360:rate=25,hue=H={i}",
             "-t", "8", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(out)],
            check=True,
        )
        clips.append(out)
    return clips


def test_ray_worker_killed_mid_extraction_is_retried(ray_address, tmp_path):
    need("pyav", "png")
    psutil = pytest.importorskip("psutil")
    clips = make_clips(tmp_path / "src", 3)
    stores = tmp_path / "stores"
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "loaders", "extract", str(tmp_path / "src"), str(stores), "--extractor", "pyav",
         "--format", "png", "--engine", "ray", "--address", ray_address],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    killed = None
    deadline = time.monotonic() + 120
    while killed is None:
        assert proc.poll() is None and time.monotonic() < deadline, "no worker was caught mid-extraction"
        partial = [p for p in stores.glob(".*.partial-*") if len(list(p.glob("*.png"))) >= 10]
        if partial:
            for p in psutil.process_iter(["pid", "cmdline"]):
                if any("ray::extract_one" in part for part in p.info["cmdline"] or []):
                    os.kill(p.info["pid"], signal.SIGKILL)
                    killed = p.info["pid"]
                    break
        time.sleep(0.1)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, out + err
    assert "videos: 3 (3 extracted, 0 reused, 0 failed)" in out
    for clip in clips:
        store = stores / f"{clip.name}.pyav-png"
        ref = reference.decode(clip)
        assert np.array_equal(read_all(store), all_frames(ref)), clip.name
    assert not list(stores.glob(".*.partial-*"))
    assert json.loads((stores / f"{clips[0].name}.pyav-png" / MANIFEST).read_text())["frames"] == 200


class _Terminal:
    """A stream that says it is a terminal, so tqdm draws its bar."""

    def __init__(self) -> None:
        self.text = ""

    def write(self, text: str) -> None:
        self.text += text

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return True


def test_progress_is_a_bar_on_a_terminal_and_log_lines_elsewhere(tmp_path):

    def done(name: str, frames: int, nbytes: int) -> batch.Outcome:
        return batch.Outcome(name, name + ".store", Extraction(tmp_path / name, 1.0, nbytes, frames))

    failed = batch.Outcome("bad.mp4", "bad.store", error="bad.mp4: not a readable video")
    term = _Terminal()
    bar = batch.Progress(3, "extract", stream=term)  # type: ignore[arg-type]
    for outcome in (done("a.mp4", 10, 2_000_000), failed, done("b.mp4", 5, 1_000_000)):
        bar.add(outcome)
    summary = bar.close()
    assert "3/3" in term.text and "15 frames, 2.86 MiB" in term.text and "FAILED bad.mp4: not a readable" in term.text

    log = io.StringIO()  # not a terminal: log lines, at most one per `every` seconds, one per failure, the last
    lines = batch.Progress(3, "extract", stream=log, every=3600)
    for outcome in (done("a.mp4", 10, 2_000_000), failed, done("b.mp4", 5, 1_000_000)):
        lines.add(outcome)
    lines.close()
    failure, last = log.getvalue().splitlines()
    assert failure == "extract: FAILED bad.mp4: not a readable video"
    assert last.startswith("extract: 3/3 videos, 15 frames, 2.86 MiB, ") and last.endswith(" s elapsed, ETA 0 s")
    s = summary
    assert (s.videos, s.extracted, s.reused, s.frames, s.bytes) == (3, 2, 0, 15, 3_000_000)
    assert summary.failures == {"bad.mp4": "bad.mp4: not a readable video"}
