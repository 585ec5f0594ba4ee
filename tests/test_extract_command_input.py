"""``python -m loaders extract`` given a STORES it must not write into, a folder it cannot write,
Ctrl-C, and failures of several SRCs: clear messages, no traceback, no partial store, nothing lost."""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from interrupt import STOP_BOUND, interrupt
from test_extract import need
from test_extract_command import command

from loaders import __main__ as command_line
from loaders import batch, extraction
from loaders.errors import InsufficientSpace, LoaderError
from loaders.store import MANIFEST


@pytest.fixture
def src(tiny_videos: dict[str, Path], tmp_path: Path) -> Path:
    folder = tmp_path / "videos"
    (folder / "a").mkdir(parents=True)
    shutil.copy(tiny_videos["tiny-h264-bframes"], folder / "clip.mp4")
    shutil.copy(tiny_videos["tiny-h264-odd"], folder / "a" / "odd.mp4")
    return folder


def test_stores_that_is_a_file_src_itself_or_above_src_is_refused(src: Path, tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("not a folder\n")
    cases = {
        str(tmp_path / "a-file"): "STORES is a file",
        str(src): "STORES is SRC itself",
        str(src / "a" / ".."): "STORES is SRC itself",
        str(tmp_path): "STORES lies above SRC",
        "/": "STORES lies above SRC",
    }
    for stores, words in cases.items():
        run = command(str(src), stores)
        assert run.returncode == 2, (stores, run.stdout, run.stderr)
        assert words in run.stderr and "Traceback" not in run.stderr, (stores, run.stderr)
    assert (tmp_path / "a-file").read_text() == "not a folder\n"
    assert sorted(p.name for p in src.rglob("*")) == ["a", "clip.mp4", "odd.mp4"]  # nothing written into SRC
    # a single video as SRC: STORES may not be the video, nor the folder holding it
    assert "STORES is a file" in command(str(src / "clip.mp4"), str(src / "clip.mp4")).stderr
    assert "lies above SRC" in command(str(src / "clip.mp4"), str(src)).stderr
    # inside SRC is fine: the stores are not searched as videos
    inside = command(str(src), str(src / "stores"), "--format", "npy")
    assert inside.returncode == 0, inside.stderr


def test_a_stores_folder_that_cannot_be_written_is_named(src: Path, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    def read_only(*args: object, **kwargs: object) -> None:
        raise OSError(errno.EROFS, os.strerror(errno.EROFS))

    monkeypatch.setattr(command_line.tempfile, "TemporaryFile", read_only)  # a read-only mount
    assert command_line.main(["extract", str(src), str(tmp_path / "ro")]) == 2
    err = capsys.readouterr().err
    assert f"{tmp_path / 'ro'}: cannot write the stores there: Read-only file system" in err


@pytest.mark.parametrize(("number", "kind"), [(errno.EROFS, LoaderError), (errno.EACCES, LoaderError),
                                              (errno.ENOSPC, InsufficientSpace)])
def test_extract_names_the_folder_it_cannot_write(number: int, kind: type[Exception], tiny_videos: dict[str, Path],
                                                  tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise OSError(number, os.strerror(number))

    monkeypatch.setattr(extraction, "FileLock", refuse)  # the first file an extraction creates
    with pytest.raises(kind) as caught:
        extraction.extract(tiny_videos["tiny-h264-bframes"], tmp_path / "stores" / "s", format="npy")
    assert caught.value.path == str(tmp_path / "stores") and os.strerror(number) in str(caught.value)


def test_a_full_disk_for_the_failures_file_still_prints_the_summary(src: Path, tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    (src / "bad.mp4").write_text("not a video\n")

    def full(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(batch, "write_failures", full)
    assert command_line.main(["extract", str(src), str(tmp_path / "stores"), "--format", "npy", "--jobs", "1"]) == 1
    out, err = capsys.readouterr()
    assert "videos: 3 (2 extracted, 0 reused, 1 failed)" in out and f"FAILED {src / 'bad.mp4'}" in out
    assert f"could not write the list of failures into {tmp_path / 'stores'}: No space left on device" in err


def test_failures_are_json_lines_kept_per_src(tiny_videos: dict[str, Path], tmp_path: Path) -> None:
    stores = tmp_path / "stores"
    names = {"one": "bad\nname\twith breaks.mp4", "two": "plain-bad.mp4"}
    for tree, bad in names.items():
        (tmp_path / tree).mkdir()
        shutil.copy(tiny_videos["tiny-h264-bframes"], tmp_path / tree / f"{tree}.mp4")
        (tmp_path / tree / bad).write_bytes(b"\x00not a video")
    for tree in names:
        run = command(str(tmp_path / tree), str(stores), "--format", "npy")
        assert run.returncode == 1, run.stderr
    lines = (stores / batch.FAILURES_FILE).read_text().splitlines()
    entries = [json.loads(line) for line in lines]  # each line one whole JSON object
    assert [(e["src"], e["video"]) for e in entries] == [
        (str(tmp_path / tree), str(tmp_path / tree / bad)) for tree, bad in names.items()]
    assert all("not a readable video" in e["reason"] for e in entries)
    # the first SRC, fixed and run again: its lines go, the other SRC's stay
    (tmp_path / "one" / names["one"]).unlink()
    assert command(str(tmp_path / "one"), str(stores), "--format", "npy").returncode == 0
    assert [json.loads(line)["video"] for line in (stores / batch.FAILURES_FILE).read_text().splitlines()] == [
        str(tmp_path / "two" / names["two"])]
    (tmp_path / "two" / names["two"]).unlink()
    assert command(str(tmp_path / "two"), str(stores), "--format", "npy").returncode == 0
    assert not (stores / batch.FAILURES_FILE).exists()


@pytest.mark.parametrize(("extractor", "to"), [("ffmpeg", "process"), ("pyav", "process"), ("ffmpeg", "group")])
def test_ctrl_c_stops_within_seconds_and_leaves_stores_complete_or_absent(extractor: str, to: str,
                                                                          tmp_path: Path) -> None:
    """SIGINT to the Python process alone (its children must be stopped by it), or to its process
    group, as a terminal's Ctrl-C sends it."""
    need(extractor, "png")
    src = tmp_path / "src"
    src.mkdir()
    subprocess.run([shutil.which("ffmpeg") or "ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                    "testsrc2=size=480x270:rate=30", "-frames:v", "300", "-c:v", "libx264", "-pix_fmt", "yuv420p",
                    str(src / "a.mp4")], check=True)
    for name in ("b.mp4", "c.mp4"):
        shutil.copy(src / "a.mp4", src / name)
    stores = tmp_path / "stores"
    stopped = interrupt([sys.executable, "-m", "loaders", "extract", str(src), str(stores), "--format", "png",
                         "--jobs", "2", "--extractor", extractor],
                        lambda _: any(p.is_file() for p in stores.glob(".*.partial-*/*.png")),  # frames being written
                        to, 120, cwd=Path(__file__).resolve().parent.parent)
    stderr, children = stopped.stderr, stopped.children
    assert stopped.returncode == 130 and stopped.seconds < STOP_BOUND, stderr
    lines = stderr.strip().splitlines()
    assert lines[-1].startswith("interrupted: ") and "run the same command again" in lines[-1]
    assert "Traceback" not in stderr
    assert not psutil.wait_procs(children, timeout=10)[1], "an ffmpeg child outlived the command"
    assert not list(stores.glob(".*.partial-*")) and not list(stores.glob(".*.old-*"))
    for store in stores.glob("[!.]*.mp4.*"):  # complete (its manifest written last) or absent
        assert (store / MANIFEST).is_file(), store
    again = command(str(src), str(stores), "--format", "png", "--extractor", extractor)
    assert again.returncode == 0 and "videos: 3 (" in again.stdout and "0 failed" in again.stdout, again.stderr


def test_interruptible_stops_the_extractions_a_pool_runs_and_lets_later_ones_run(tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    import loaders

    video = tmp_path / "long.mp4"
    subprocess.run([shutil.which("ffmpeg") or "ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                    "testsrc2=size=320x240:rate=30", "-frames:v", "1800", "-c:v", "libx264", str(video)], check=True)
    stores = tmp_path / "stores"
    futures = []
    # the interrupt comes while the pool works
    with pytest.raises(KeyboardInterrupt), extraction.interruptible(ThreadPoolExecutor(max_workers=2)) as pool:  # noqa: PT012
        futures = [pool.submit(loaders.extract, video, stores / name, extractor, "png")
                   for name, extractor in (("by-ffmpeg", "ffmpeg"), ("by-pyav", "pyav"))]
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and len(list(stores.glob(".*.partial-*/*.png"))) < 2:
            time.sleep(0.05)
        assert not any(f.done() for f in futures), "an extraction ended before it could be stopped"
        raise KeyboardInterrupt  # what Ctrl-C raises in the main thread
    assert all(isinstance(f.exception(), extraction.Stopped) for f in futures)
    assert not list(stores.glob(".*.partial-*")) and not list(stores.glob("by-*"))
    done = loaders.extract(video, stores / "after", "ffmpeg", "npy", size=32)  # stopping is over
    assert done.frames == 1800
