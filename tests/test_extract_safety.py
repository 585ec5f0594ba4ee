"""Extraction under stress: callers racing for one store, a disk that fills, a parent killed under ffmpeg."""

from __future__ import annotations

import errno
import io
import json
import os
import signal
import subprocess
import sys
import tarfile
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from frame_checks import all_frames
from test_extract import ROOT, left_in, need, read_all

import loaders
from loaders import extraction
from loaders.store import MANIFEST, frame_name, read_manifest


def python(script: str, *args: str) -> subprocess.Popen[str]:
    """Run ``script`` in a fresh interpreter that imports this checkout's loaders."""
    code = f"import sys; sys.path.insert(0, {str(ROOT)!r})\n" + textwrap.dedent(script)
    return subprocess.Popen(
        [sys.executable, "-c", code, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


EXTRACT = """
    import json, loaders
    r = loaders.extract(sys.argv[1], sys.argv[2], "pyav", "png")
    print(json.dumps({"reused": r.reused, "frames": r.frames}))
"""

# Extract like EXTRACT, but stop after frame 10 until the file sys.argv[3] exists, saying so in sys.argv[4].
PAUSED = """
    import json, os, time, loaders
    from pathlib import Path
    from loaders import extraction
    real = extraction._Writer.add_encoded
    def add(self, data):
        if self.count == 10 and self.folder.name != "sample":
            Path(sys.argv[4]).write_text(str(self.folder))
            while not os.path.exists(sys.argv[3]):
                time.sleep(0.05)
        real(self, data)
    extraction._Writer.add_encoded = add
""" + EXTRACT


def finish(proc: subprocess.Popen[str]) -> dict[str, object]:
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    return json.loads(out)


def assert_exact_store(store: Path, want: np.ndarray) -> None:
    m = read_manifest(store)
    names = sorted(n for n in os.listdir(store) if n != MANIFEST)
    assert m.frames == len(want) and names == [frame_name(i, "png") for i in range(len(want))]
    assert np.array_equal(read_all(store), want)


@pytest.fixture
def clip(tiny_videos, tmp_path) -> Path:
    return tiny_videos["tiny-h264-bframes"]


def test_concurrent_callers_wait_and_reuse_one_store(clip, references, tmp_path):
    need("pyav", "png")
    store = tmp_path / "store"
    procs = [python(EXTRACT, str(clip), str(store)) for _ in range(3)]
    results = [finish(p) for p in procs]
    want = all_frames(references["tiny-h264-bframes"])
    # The lock lets exactly one extract; the others wait, then find its complete store.
    assert sorted(r["reused"] for r in results) == [False, True, True]
    assert all(r["frames"] == len(want) for r in results)
    assert_exact_store(store, want)
    assert not [n for n in left_in(tmp_path) if ".partial-" in n]


def test_first_caller_finishing_last_leaves_a_complete_store(clip, references, tmp_path):
    """The first caller pauses mid-store; a second one must neither delete its partial directory
    nor finish first: it waits for the lock, then reuses the store the first one completes."""
    need("pyav", "png")
    store, go, paused = tmp_path / "store", tmp_path / "go", tmp_path / "paused"
    first = python(PAUSED, str(clip), str(store), str(go), str(paused))
    deadline = time.monotonic() + 60
    while not (paused.exists() and paused.read_text()):  # created, then written: wait for the path in it
        assert first.poll() is None and time.monotonic() < deadline, first.stderr and first.stderr.read()
        time.sleep(0.05)
    partial = Path(paused.read_text())
    second = python(EXTRACT, str(clip), str(store))
    time.sleep(2.0)  # time enough for the second to finish if nothing held it back
    assert second.poll() is None, "the second caller did not wait for the first"
    assert partial.is_dir() and len(os.listdir(partial)) == 10 and not store.exists()
    go.touch()
    assert finish(first)["reused"] is False
    again = finish(second)
    assert again["reused"] is True
    assert_exact_store(store, all_frames(references["tiny-h264-bframes"]))
    assert not partial.exists()


# --- a disk that fills part-way -----------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path):
    """``mount(bytes)`` -> a directory on a tmpfs of that size, unmounted after the test."""
    mounted: list[Path] = []

    def mount(size: int) -> Path:
        where = tmp_path / f"disk{len(mounted)}"
        where.mkdir()
        run = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)], capture_output=True, text=True
        )
        if run.returncode != 0:
            pytest.skip(f"cannot mount a small tmpfs here (needs root or CAP_SYS_ADMIN): {run.stderr.strip()}")
        mounted.append(where)
        return where

    yield mount
    for where in mounted:
        subprocess.run(["umount", str(where)], check=False)


@pytest.mark.parametrize("fmt", ["png", "npy", "tar"])
@pytest.mark.parametrize("extractor", ["ffmpeg", "pyav", "cv2"])
def test_disk_filling_part_way_raises_insufficient_space(extractor, fmt, clip, small_disk, tmp_path, monkeypatch):
    """A real file system that fills half-way through; the estimate from the first frames said it
    would fit (as when a black first second is followed by texture)."""
    need(extractor, fmt)
    full = loaders.extract(clip, tmp_path / "full", extractor, fmt).bytes
    disk = small_disk(full // 2)
    monkeypatch.setattr(extraction, "disk_free", lambda path: 10 * full)
    store = disk / "store"
    with pytest.raises(loaders.InsufficientSpace) as err:
        loaders.extract(clip, store, extractor, fmt)
    message = str(err.value)
    assert str(store) in message and "disk filled up" in message and "iB of frames had been written" in message
    assert "Errno" not in message and "clip" not in message.replace(str(store), "")  # the disk is blamed
    assert left_in(disk) == []  # no store, no partial directory: the space is given back
    assert os.statvfs(disk).f_bfree * os.statvfs(disk).f_frsize > full // 4


@pytest.mark.parametrize("extractor", ["pyav", "cv2"])
def test_a_write_failing_for_space_is_insufficient_space(extractor, clip, tmp_path, monkeypatch):
    """The same path without a mount: the frame write itself fails with ENOSPC."""
    need(extractor, "jpeg")
    real = Path.write_bytes

    def write_bytes(self, data):
        if self.name == frame_name(12, "jpeg") and self.parent.name != "sample":
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self))
        return real(self, data)

    monkeypatch.setattr(Path, "write_bytes", write_bytes)
    with pytest.raises(loaders.InsufficientSpace, match="disk filled up"):
        loaders.extract(clip, tmp_path / "store", extractor, "jpeg")
    assert left_in(tmp_path) == []


def test_ffmpeg_writing_to_a_full_device_is_a_disk_error_not_a_damaged_video(tmp_path):
    """ffmpeg's own write failing for space (/dev/full answers ENOSPC) is an OSError, which
    extract() turns into InsufficientSpace, never CorruptVideo."""
    need("ffmpeg")
    from imageio_ffmpeg import get_ffmpeg_exe

    cmd = [get_ffmpeg_exe(), "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc2=size=64x48"]
    with pytest.raises(OSError) as err:
        extraction._run_ffmpeg([*cmd, "-frames:v", "5", "-f", "rawvideo", "-y", "/dev/full"], tmp_path / "v.mp4")
    assert err.value.errno == errno.ENOSPC and not isinstance(err.value, loaders.LoaderError)


# --- ffmpeg dies with its parent --------------------------------------------------------------

# Extract with ffmpeg reading at the video's own rate (-re), so it runs for the clip's length.
SLOW_FFMPEG = """
    import loaders
    from loaders import extraction
    real = extraction._run_ffmpeg
    def slow(cmd, *args):  # read at the video's own rate, looping: it never ends by itself, however busy the machine
        i = cmd.index("-i")
        return real([*cmd[:i], "-re", "-stream_loop", "-1", *cmd[i:]], *args)
    extraction._run_ffmpeg = slow
    loaders.extract(sys.argv[1], sys.argv[2], "ffmpeg", "png")
"""


def test_ffmpeg_dies_when_its_parent_is_killed(clip, tmp_path):
    need("ffmpeg", "png")
    try:
        import psutil
    except ImportError as exc:
        pytest.skip(f"needs psutil: {exc}")
    if sys.platform != "linux":
        pytest.skip("the parent-death signal is Linux's")
    parent = python(SLOW_FFMPEG, str(clip), str(tmp_path / "store"))
    deadline = time.monotonic() + 60
    child = None
    # The full run's ffmpeg: the space estimate's runs carry -frames:v, and imageio-ffmpeg's own
    # check of its binary (ffmpeg -version) reads no input.
    while child is None:
        assert parent.poll() is None and time.monotonic() < deadline, parent.stderr and parent.stderr.read()
        for p in psutil.Process(parent.pid).children():
            try:
                cmdline = p.cmdline()
            except psutil.NoSuchProcess:
                continue
            if cmdline and "ffmpeg" in os.path.basename(cmdline[0]) and "-i" in cmdline and "-frames:v" not in cmdline:
                child = p
        time.sleep(0.05)
    assert child.is_running() and child.status() != psutil.STATUS_ZOMBIE
    parent.send_signal(signal.SIGKILL)
    parent.wait(timeout=30)

    def gone() -> bool:
        try:
            return child.status() == psutil.STATUS_ZOMBIE
        except psutil.NoSuchProcess:
            return True

    deadline = time.monotonic() + 10
    while not gone() and time.monotonic() < deadline:
        time.sleep(0.05)
    if not gone():
        child.kill()
        pytest.fail("ffmpeg outlived its killed parent")


@pytest.mark.parametrize("fmt", ["jpeg", "npy", "tar"])
def test_frames_are_checked_on_disk_before_the_manifest(fmt, clip, tmp_path, monkeypatch):
    """A frame lost between writing and the manifest (another hand, a flaky disk) is caught: the
    count the extractor kept is not trusted, the files are."""
    need("pyav", fmt)
    real = extraction._Writer.close

    def close_and_lose_one(self):
        real(self)
        if self.folder.name == "sample":
            return
        if fmt == "jpeg":
            (self.folder / frame_name(5, "jpeg")).unlink()
        elif fmt == "npy":
            path = self.folder / "frames.npy"
            os.truncate(path, path.stat().st_size - 1000)
        else:
            with tarfile.open(self.folder / "frames.tar") as tar:
                members = [(m, tar.extractfile(m).read()) for m in tar.getmembers()]
            with tarfile.open(self.folder / "frames.tar", "w", format=tarfile.USTAR_FORMAT) as tar:
                for m, data in members[:-1]:
                    tar.addfile(m, io.BytesIO(data))

    monkeypatch.setattr(extraction._Writer, "close", close_and_lose_one)
    with pytest.raises(loaders.CorruptVideo, match="frame"):
        loaders.extract(clip, tmp_path / "store", "pyav", fmt)
    assert left_in(tmp_path) == []


def test_an_extractor_whose_library_is_missing_is_refused_before_anything_is_written(tmp_path, monkeypatch):
    # As on a machine without imageio-ffmpeg: a clear error naming the video, the package and the
    # other extractors, and no store folder left behind.
    monkeypatch.setitem(extraction._EXTRACTOR_LIBRARY, "ffmpeg", ("vidbench_absent_module", "imageio-ffmpeg"))
    video = tmp_path / "any.mp4"
    video.write_bytes(b"not read")
    store = tmp_path / "store"
    with pytest.raises(loaders.BackendUnavailable, match=r"any\.mp4: the 'ffmpeg' extractor needs imageio-ffmpeg.*"
                                                         r"'pyav', 'cv2'"):
        loaders.extract(video, store, "ffmpeg", "jpeg")
    assert not store.exists()
