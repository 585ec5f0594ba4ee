"""Reuse only what is current: a video replaced by another of the same size with its mtime restored
(``touch -d``, ``rsync -t``, a restore from backup) is probed and extracted again, never taken for
the old one."""

from __future__ import annotations

import os
import struct
import subprocess
import sys
from pathlib import Path

import pytest
from test_extract import ROOT, need

import loaders
from benchmarks import corpus, dataset, stores
from loaders.fileid import EDGE, file_id
from loaders.probe import probe
from loaders.store import read_manifest


def _make(path: Path, size: str, frames: int) -> Path:
    subprocess.run([corpus.ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi", "-i", f"testsrc2=size={size}:rate=25",
                    "-frames:v", str(frames), "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
                    str(path)], check=True)
    return path


def _pad(path: Path, to: int) -> None:
    """Grow an MP4 to ``to`` bytes with a ``free`` box, which every demuxer skips."""
    gap = to - path.stat().st_size
    assert gap >= 8
    with open(path, "ab") as f:
        f.write(struct.pack(">I", gap) + b"free" + bytes(gap - 8))


@pytest.fixture
def swap(tmp_path: Path) -> tuple[Path, Path]:
    """(the video, what replaces it): 25 frames of 64x64, then 75 of 128x128, of one byte size."""
    old = _make(tmp_path / "old.mp4", "64x64", 25)
    new = _make(tmp_path / "new.mp4", "128x128", 75)
    size = max(old.stat().st_size, new.stat().st_size) + 64
    _pad(old, size)
    _pad(new, size)
    video = tmp_path / "src" / "clip.mp4"
    video.parent.mkdir()
    video.write_bytes(old.read_bytes())
    return video, new


def _replace_keeping_size_and_mtime(video: Path, new: Path) -> None:
    st = video.stat()
    video.write_bytes(new.read_bytes())  # in place: the same inode
    os.utime(video, ns=(st.st_atime_ns, st.st_mtime_ns))
    after = video.stat()
    assert (after.st_size, after.st_mtime_ns, after.st_ino) == (st.st_size, st.st_mtime_ns, st.st_ino)


def test_the_extraction_command_extracts_a_replaced_video_again(swap: tuple[Path, Path], tmp_path: Path) -> None:
    need("ffmpeg")
    video, new = swap
    out = tmp_path / "stores"

    def extract() -> str:
        done = subprocess.run([sys.executable, "-m", "loaders", "extract", str(video.parent), str(out),
                               "--format", "npy"], cwd=ROOT, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        return done.stdout

    assert "1 extracted, 0 reused" in extract()
    assert "0 extracted, 1 reused" in extract()  # nothing changed: reused
    (store,) = [p for p in out.iterdir() if p.is_dir() and not p.name.startswith(".")]
    assert read_manifest(store).frames == 25
    _replace_keeping_size_and_mtime(video, new)
    said = extract()
    assert "1 extracted, 0 reused" in said, said
    m = read_manifest(store)
    assert (m.frames, m.width, m.height) == (75, 128, 128)
    assert m.source_fingerprint == file_id(video).fingerprint


def test_the_probe_and_the_plan_count_a_replaced_video_anew(swap: tuple[Path, Path], tmp_path: Path) -> None:
    video, new = swap
    cache = tmp_path / "probes.sqlite"
    (first,) = dataset.probe_all([video], cache=cache, jobs=1)
    assert (first.frames, first.width) == (25, 64)
    _replace_keeping_size_and_mtime(video, new)
    (again,) = dataset.probe_all([video], cache=cache, jobs=1)
    assert (again.frames, again.width, again.height) == (75, 128, 128)
    planned = dataset.describe("src", [again], {}, disk=tmp_path)
    assert planned.frames == 75


def test_a_reused_store_is_checked_against_the_probe(swap: tuple[Path, Path], tmp_path: Path) -> None:
    need("ffmpeg")
    video, _ = swap
    store = tmp_path / "store"
    loaders.extract(video, store, "ffmpeg", "npy")
    assert loaders.extract(video, store, "ffmpeg", "npy").reused
    # A manifest whose frame count no longer matches the video's probe is not reused, whatever its key.
    text = (store / "manifest.json").read_text()
    (store / "manifest.json").write_text(text.replace('"frames": 25', '"frames": 24'))
    again = loaders.extract(video, store, "ffmpeg", "npy")
    assert not again.reused and read_manifest(store).frames == probe(video).num_frames == 25


def test_the_fingerprint_reads_both_ends(tmp_path: Path) -> None:
    path = tmp_path / "f.bin"
    path.write_bytes(bytes(3 * EDGE))
    before = file_id(path)
    with open(path, "r+b") as f:  # the last byte changed, size kept
        f.seek(3 * EDGE - 1)
        f.write(b"\x01")
    changed = file_id(path).fingerprint
    assert changed != before.fingerprint
    with open(path, "r+b") as f:
        f.seek(EDGE + 5)  # the middle is not read: the rest of the identity is what catches it
        f.write(b"\x01")
    assert file_id(path).fingerprint == changed


def test_a_benchmark_store_is_named_by_what_the_video_is(swap: tuple[Path, Path]) -> None:
    video, new = swap
    before = stores.video_key(video)
    assert stores.video_key(video) == before
    _replace_keeping_size_and_mtime(video, new)
    assert stores.video_key(video) != before
