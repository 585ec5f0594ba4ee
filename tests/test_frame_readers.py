"""Contract tests for the frame readers (kind "frames") over stores written by loaders.extract.

Runs in every stack that lists frame readers (main, pillow-simd), so it imports no torch and
extracts with the ffmpeg extractor (imageio-ffmpeg's binary).
"""

from __future__ import annotations

import os
import shutil
import tarfile
from pathlib import Path

import numpy as np
import pytest
from conftest import require_loader
from frame_checks import PROFILES, all_frames, assert_frames_match

import loaders
from loaders.registry import loader_class
from loaders.store import FORMATS, MANIFEST, NPY_FILE, TAR_FILE

# The stack decides which readers must run here; each reader's class says what it reads (a reader
# whose library is missing has no cases to run, and its missing library fails or skips below).
READERS = [n for n in loaders.names("frames") if n in loaders.STACKS.get(loaders.current_stack(), [])]
READS: dict[str, tuple[str, ...]] = {
    n: getattr(loader_class(n), "formats", ()) if loaders.available()[n] is None else () for n in READERS}
CASES = [(r, f) for r in READERS for f in READS[r]]
LOSSLESS = ("png", "npy")


@pytest.fixture(scope="session")
def stores(tiny_videos: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], Path]:
    """(profile, format) -> a store extracted by ffmpeg, for every format some reader here reads."""
    root = tmp_path_factory.mktemp("stores")
    videos = [tiny_videos[p] for p in PROFILES]
    out = {}
    for fmt in FORMATS:
        done = loaders.extract_all(videos, root, jobs=2, format=fmt)
        out.update({(p, fmt): done[str(v)].store for p, v in zip(PROFILES, videos, strict=True)})
    return out


@pytest.fixture
def copy_of(stores: dict[tuple[str, str], Path], tmp_path: Path):
    """A private copy of a store, to damage."""

    def make(profile: str, fmt: str) -> Path:
        return Path(shutil.copytree(stores[profile, fmt], tmp_path / f"{profile}.{fmt}"))

    return make


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize(("reader", "fmt"), CASES)
def test_every_frame_is_the_reference_frame(reader, fmt, profile, stores, references):
    require_loader(reader)
    ref = references[profile]
    frames = all_frames(ref)
    with loaders.open(reader, stores[profile, fmt]) as src:
        assert src.kind == "frames"
        assert (src.num_frames, src.width, src.height) == (ref.num_frames, ref.width, ref.height)
        assert src.fps == pytest.approx(ref.fps, rel=1e-3)
        every = np.arange(src.num_frames)
        assert_frames_match(src.get_frames(every), frames, every, lossless=fmt in LOSSLESS)


@pytest.mark.parametrize(("reader", "fmt"), CASES)
def test_random_unsorted_repeated_indices(reader, fmt, stores, references):
    require_loader(reader)
    profile = "tiny-h264-offset-vfr"
    frames = all_frames(references[profile])
    n = len(frames)
    rng = np.random.default_rng(7)
    indices = np.concatenate([rng.integers(0, n, 20), [n - 1, 0, n - 1, 3, 3]])
    rng.shuffle(indices)
    with loaders.open(reader, stores[profile, fmt]) as src:
        got = src.get_frames(indices)
        assert_frames_match(got, frames, indices, lossless=fmt in LOSSLESS)
        # The same frame read alone or in a batch, first or repeated, is the same pixels.
        alone = np.concatenate([src.get_frames([i]) for i in indices.tolist()])
        assert np.array_equal(got, alone)
        assert src.get_frames([]).shape == (0, src.height, src.width, 3)


@pytest.mark.parametrize(("reader", "fmt"), CASES)
def test_out_of_range_raises(reader, fmt, stores):
    require_loader(reader)
    with loaders.open(reader, stores["tiny-h264-odd", fmt]) as src:
        for bad in ([src.num_frames], [-1], [0, src.num_frames + 5]):
            with pytest.raises(loaders.FrameIndexError, match="out of range"):
                src.get_frames(bad)


@pytest.mark.parametrize(("reader", "fmt"), CASES)
def test_store_without_manifest_raises_naming_it(reader, fmt, copy_of):
    require_loader(reader)
    store = copy_of("tiny-h264-odd", fmt)
    os.unlink(store / MANIFEST)
    with pytest.raises(loaders.LoaderError, match=MANIFEST) as err:
        loaders.open(reader, store)
    assert str(store) in str(err.value)


@pytest.mark.parametrize("reader", READERS)
def test_missing_store_and_not_a_store(reader, tiny_videos, tmp_path):
    require_loader(reader)
    with pytest.raises(loaders.VideoNotFound):
        loaders.open(reader, tmp_path / "nowhere")
    with pytest.raises(loaders.LoaderError, match="not a frame store"):
        loaders.open(reader, tiny_videos["tiny-h264-odd"])


@pytest.mark.parametrize(("reader", "fmt"), [c for c in CASES if c[1] in ("jpeg", "png")])
@pytest.mark.parametrize("damage", ["missing", "garbage", "truncated"])
def test_damaged_frame_file_raises_naming_it(reader, fmt, damage, copy_of):
    require_loader(reader)
    store = copy_of("tiny-h264-odd", fmt)
    with loaders.open(reader, store) as src:
        victim = Path(src.frame_path(5))
        if damage == "missing":
            victim.unlink()
        elif damage == "garbage":
            victim.write_bytes(b"not an image" * 20)
        else:
            data = victim.read_bytes()
            victim.write_bytes(data[: len(data) // 2])
        assert src.get_frames([4]).shape[0] == 1  # the others still read
        with pytest.raises(loaders.LoaderError, match=victim.name):
            src.get_frames([3, 5])


@pytest.mark.parametrize("cut", ["a third in", "two thirds in", "inside the last member"])
def test_truncated_tar_raises_naming_it(cut, copy_of):
    require_loader("tar")
    store = copy_of("tiny-h264-odd", "tar")
    tar = store / TAR_FILE
    with tarfile.open(tar) as t:
        last = t.getmembers()[-1]
    size = {"a third in": tar.stat().st_size // 3, "two thirds in": tar.stat().st_size * 2 // 3,
            "inside the last member": last.offset_data + last.size // 2}[cut]
    os.truncate(tar, size)
    with pytest.raises(loaders.LoaderError, match=TAR_FILE):
        loaders.open("tar", store)


def test_damaged_tar_member_raises_naming_it(copy_of):
    require_loader("tar")
    store = copy_of("tiny-h264-odd", "tar")
    with loaders.open("tar", store) as src:
        offset = int(src.offsets[7])
    with open(store / TAR_FILE, "r+b") as f:
        f.seek(offset)
        f.write(b"\0" * 64)  # the JPEG header of member 7
    with loaders.open("tar", store) as src, pytest.raises(loaders.LoaderError, match="000007.jpg"):
        src.get_frames([7])


def test_truncated_npy_raises_naming_it(copy_of):
    require_loader("npy")
    store = copy_of("tiny-h264-odd", "npy")
    array = store / NPY_FILE
    os.truncate(array, array.stat().st_size // 2)
    with pytest.raises(loaders.LoaderError, match=NPY_FILE):
        loaders.open("npy", store)


def test_an_unreadable_frame_array_says_why_without_an_errno(copy_of):
    """The cause in words, as the OS says it, not "[Errno 21] Is a directory: '...frames.npy'"."""
    require_loader("npy")
    store = copy_of("tiny-h264-odd", "npy")
    (store / NPY_FILE).unlink()
    (store / NPY_FILE).mkdir()
    with pytest.raises(loaders.CorruptVideo, match="Is a directory") as info:
        loaders.open("npy", store)
    assert "[Errno" not in str(info.value) and NPY_FILE in str(info.value)


@pytest.mark.parametrize(("reader", "fmt"), [(r, f) for r in READERS for f in FORMATS if f not in READS[r]])
def test_reader_refuses_a_format_it_cannot_read(reader, fmt, stores):
    require_loader(reader)
    with pytest.raises(loaders.LoaderError, match=f"holds {fmt}"):
        loaders.open(reader, stores["tiny-h264-odd", fmt])


def test_pil_reports_which_pil():
    """Pillow-SIMD and Pillow are both PIL: the pillow-simd stack must really hold Pillow-SIMD."""
    if "pil" not in READERS:
        pytest.skip("the pil reader is not part of this stack")
    require_loader("pil")
    from loaders.pil import PilSource

    simd = loaders.current_stack() == "pillow-simd"
    assert PilSource.library.startswith("pillow-simd " if simd else "pillow "), PilSource.library
