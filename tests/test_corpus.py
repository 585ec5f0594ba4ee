"""The synthetic corpus: deterministic, cached by recipe, never reusing a half-written file."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from benchmarks import corpus
from loaders import probe


def test_profiles_cover_the_promised_axes() -> None:
    main = [p for p in corpus.PROFILES.values() if not p.tiny]
    assert {p.height for p in main} >= {360, 720, 1080}
    assert {round(p.gop / p.fps) for p in main} >= {1, 10}
    assert {p.bframes > 0 for p in main} == {True, False}
    assert {p.codec for p in main} == {"h264", "hevc", "vp9", "av1"}
    assert {p.content for p in corpus.PROFILES.values()} == {"testsrc2", "mandelbrot", "life"}
    assert set(corpus.DEFAULT) <= set(corpus.PROFILES)


def test_tiny_profiles_are_what_the_contract_tests_need(tiny_videos: dict[str, Path]) -> None:
    odd = [p for p in map(corpus.PROFILES.get, corpus.TINY) if p and (p.width % 16 or p.height % 16)]
    assert odd, "no tiny profile with a size that is not a multiple of 16"
    for name, path in tiny_videos.items():
        spec, info = corpus.PROFILES[name], probe.probe(path)
        assert (info.num_frames, info.width, info.height) == (spec.frames, spec.width, spec.height), name
        assert info.codec == spec.codec, name
        # The keyframe interval asked for is the one encoded (the last GOP may be shorter).
        assert len(info.keyframes) == -(-spec.frames // spec.gop), name
    vfr = probe.probe(tiny_videos["tiny-h264-offset-vfr"])
    assert vfr.pts[0] * vfr.time_base == pytest.approx(1.5)
    assert len(set((vfr.pts[1:] - vfr.pts[:-1]).tolist())) > 1, "frame intervals are all equal"


def test_same_recipe_same_bytes_and_a_second_make_is_free(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tiny_videos: dict[str, Path]
) -> None:
    name = "tiny-h264-offset-vfr"  # Matroska, VFR and the random-looking "life" content
    fresh = corpus.make(name, tmp_path)
    assert fresh.read_bytes() == tiny_videos[name].read_bytes()
    mtime = fresh.stat().st_mtime_ns

    def no_ffmpeg(*args: object, **kwargs: object) -> None:
        raise AssertionError("ffmpeg ran for a cached profile")

    monkeypatch.setattr(subprocess, "run", no_ffmpeg)
    assert corpus.make(name, tmp_path) == fresh
    assert fresh.stat().st_mtime_ns == mtime


def test_a_changed_recipe_is_a_new_file() -> None:
    base = corpus.PROFILES["tiny-h264-odd"]
    other = corpus.dataclasses.replace(base, bframes=2)
    assert base.filename() != other.filename()


def test_a_failed_encode_leaves_nothing_that_looks_done(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken_ffmpeg(cmd: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
        Path(cmd[-1]).write_bytes(b"half a video")  # writes its output, then fails
        return subprocess.CompletedProcess(cmd, 1, "", "simulated encoder failure")

    monkeypatch.setattr(subprocess, "run", broken_ffmpeg)
    with pytest.raises(RuntimeError, match="simulated encoder failure"):
        corpus.make("tiny-h264-odd", tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_unknown_profile_names_the_known_ones() -> None:
    with pytest.raises(KeyError, match="tiny-h264-odd"):
        corpus.make("no-such-profile")
