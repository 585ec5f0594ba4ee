"""Verification before timing: right, exact, off by one, damaged, misshapen."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest
from conftest import require_loader

import loaders
from benchmarks import corpus, perframe, stores, verify
from benchmarks.patterns import Sample
from benchmarks.spec import Store, Target
from loaders import reference
from loaders.vocabulary import BASELINE, DECODE, FRAMES


def test_verdicts(tiny_videos: dict[str, Path]) -> None:
    video = tiny_videos["tiny-h264-bframes"]
    samples = [Sample(str(video), (3, 4, 5)), Sample(str(video), (40,))]
    n = reference.decode(video, []).num_frames
    ref = verify.reference_frames(video, samples, n)
    assert set(ref) == {2, 3, 4, 5, 6, 39, 40, 41}
    full = reference.decode(video, range(n))
    right = full.stack([3, 4, 5])

    assert verify.check(right, [3, 4, 5], ref) == verify.Verdict(True, None)
    noisy = np.clip(right.astype(np.int16) + np.random.default_rng(0).integers(-2, 3, right.shape), 0, 255)
    noisy_verdict = verify.check(noisy.astype(np.uint8), [3, 4, 5], ref)  # right, not exact
    assert not noisy_verdict.exact and noisy_verdict.wrong is None and noisy_verdict.max_diff == 2

    off_by_one = full.stack([4, 5, 6])
    wrong = verify.check(off_by_one, [3, 4, 5], ref).wrong
    assert wrong is not None and "closer to reference frame 4" in wrong
    assert "differs from the reference" in (verify.check(np.zeros_like(right), [3, 4, 5], ref).wrong or "")
    assert "shape" in (verify.check(right[:2], [3, 4, 5], ref).wrong or "")
    assert "size" in (verify.check(right[:, :-4], [3, 4, 5], ref).wrong or "")


def test_the_reference_for_a_few_frames_decodes_only_through_the_last_of_them(tiny_videos: dict[str, Path],
                                                                             references: dict) -> None:
    # B-frames: the decoder outputs frames in presentation order, so stopping after frame 5 is
    # output stops after every frame asked for, and each is the one the whole decode has there.
    whole = references["tiny-h264-bframes"]
    early = reference.decode(tiny_videos["tiny-h264-bframes"], [5, 2], until_last=True)
    assert early.num_frames == 6 < whole.num_frames and set(early.frames) == {2, 5}
    assert all(np.array_equal(early.frames[i], whole.frames[i]) for i in (2, 5))
    with pytest.raises(loaders.FrameIndexError, match=f"frame index {whole.num_frames} out of range"):
        reference.decode(tiny_videos["tiny-h264-bframes"], [1, whole.num_frames], until_last=True)


def test_check_reads_every_sample_and_skips_the_baseline(tiny_videos: dict[str, Path]) -> None:
    class Fake:
        def get_frames(self, indices: tuple[int, ...]) -> np.ndarray:
            return full.stack([min(i + 1, full.num_frames - 1) for i in indices])  # one frame late

    video = tiny_videos["tiny-h264-odd"]
    full = reference.decode(video)
    samples = [Sample(str(video), (0, 1)), Sample(str(video), (10,))]
    ref = verify.reference_frames(video, samples, full.num_frames)
    assert perframe.check(Target("x", "decode"), Fake(), samples, ref).wrong  # type: ignore[arg-type]
    null = perframe.check(Target(BASELINE, "decode"), Fake(), samples, ref)  # type: ignore[arg-type]
    assert null == verify.Verdict(False, None)


# -- lossy stores: judged by what can be told apart ----------------------------------------------

# Short side above 256, so the stores at 256 are resized; 20 frames with a GOP of 8 has P-frames.
_CLIP = {
    # A still image with light sensor noise, changing every frame (a static camera).
    "still": "trim=end_frame=1,loop=loop=-1:size=1,setpts=N/25/TB,noise=alls=4:allf=t",
    # The same still panned one pixel a frame, with its noise.
    "pan": "trim=end_frame=1,loop=loop=-1:size=1,setpts=N/25/TB,scale=600:400,crop=480:320:x=n:y=0,noise=alls=3:allf=t",
    "motion": "null",  # testsrc2's moving content
}
# (format, store size): the stores the benchmarks verify as lossy, at full size and at training size.
_LOSSY = [("mp4", None), ("mp4", 256), ("jpeg", None), ("jpeg", 256)]


def _clip(kind: str, folder: Path) -> Path:
    out = folder / f"{kind}.mp4"
    subprocess.run([corpus.ffmpeg_exe(), "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                    "testsrc2=size=480x320:rate=25", "-vf", _CLIP[kind], "-frames:v", "20", "-c:v", "libx264",
                    "-preset", "veryfast", "-crf", "10", "-g", "10", "-pix_fmt", "yuv420p", str(out)], check=True)
    return out


def _store_frames(video: Path, fmt: str, size: int | None, folder: Path) -> tuple[Target, np.ndarray]:
    """Every frame of ``video`` as its JPEG q90 or H.264 CRF 18 GOP 8 store returns them."""
    spec = Store("ffmpeg", fmt, 90 if fmt == "jpeg" else None, size, *((8, 18) if fmt == "mp4" else (None, None)))
    store = stores.ensure(folder, str(video), spec)
    target = Target("pyav" if spec.transcoded else "pil", DECODE if spec.transcoded else FRAMES, spec)
    require_loader(target.loader)
    with loaders.open(target.loader, stores.opened_path(store, spec)) as src:
        return target, src.get_frames(list(range(src.num_frames)))


@pytest.mark.parametrize("kind", ["still", "pan"])
def test_a_lossy_store_of_a_near_static_clip_is_right(kind: str, tmp_path: Path) -> None:
    video = _clip(kind, tmp_path)
    n = reference.decode(video, []).num_frames
    samples = [Sample(str(video), tuple(range(n)))]
    strict = []
    for fmt, size in _LOSSY:
        target, got = _store_frames(video, fmt, size, tmp_path / "stores")
        ref = verify.reference_frames(video, samples, n, size)
        verdict = perframe.check(target, _Frames(got), samples, ref)  # as the benchmarks verify it
        assert verdict.wrong is None, (fmt, size, verdict.wrong)
        assert not verdict.exact
        strict.append(verify.check(got, range(n), ref, luma=size is not None, lossy=False).wrong)
    # The clip is a real tie: the nearest-frame rule alone calls some right store wrong.
    assert any(strict), strict


def test_a_lossy_store_shifted_by_one_frame_is_wrong(tmp_path: Path) -> None:
    video = _clip("motion", tmp_path)
    n = reference.decode(video, []).num_frames
    samples = [Sample(str(video), tuple(range(n)))]
    for fmt, size in _LOSSY:
        target, got = _store_frames(video, fmt, size, tmp_path / "stores")
        ref = verify.reference_frames(video, samples, n, size)
        assert perframe.check(target, _Frames(got), samples, ref).wrong is None
        late = perframe.check(target, _Frames(got[1:]), [Sample(str(video), tuple(range(n - 1)))], ref).wrong
        early = perframe.check(target, _Frames(got[:-1]), [Sample(str(video), tuple(range(1, n)))], ref).wrong
        assert late is not None and "closer to reference frame 1" in late, (fmt, size, late)
        assert early is not None and "beyond the store's own difference" in early, (fmt, size, early)


class _Frames:
    """A source that answers with the given frames, in order (a store shifted by slicing them)."""

    def __init__(self, frames: np.ndarray) -> None:
        self.frames = frames

    def get_frames(self, indices: tuple[int, ...]) -> np.ndarray:
        return self.frames[: len(indices)]
