"""Verification before timing: right, exact, off by one, damaged, misshapen."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from benchmarks import perframe, verify
from benchmarks.patterns import Sample
from benchmarks.spec import Target
from loaders import reference
from loaders.vocabulary import BASELINE


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
