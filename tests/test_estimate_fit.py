"""The estimate's guesses fitted back from records that a known guess predicts."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from benchmarks import budget, estimate_fit, patterns
from benchmarks.calibration import Calibration
from benchmarks.spec import RunSpec, Video


def _observed(truth: budget.Guess) -> list[estimate_fit.Observed]:
    out = []
    videos = {"hd": Video(frames=120, width=1920, height=1080, keyframes=4, bytes=120 * 200_000),
              "sd": Video(frames=90, width=640, height=360, keyframes=1, bytes=90 * 100_000)}
    for name, video in videos.items():
        for pattern in patterns.parse(["sequential", "random-frame", "random-batch", "uniform-8"]):
            for target, kind, size in (("pyav", "decode", None), ("decord", "decode", None),
                                       ("pyav@t", "decode", 256), ("pil@j", "frames", 256), ("npy@n", "frames", 256)):
                fmt = {"pil@j": "jpeg", "npy@n": "npy"}.get(target)
                decoders, readers = ([target], []) if kind == "decode" else ([], [target])
                for epoch in (False, True):
                    plan = RunSpec(videos=videos if epoch else {name: video}, patterns=[pattern], decoders=decoders,
                                       readers=readers, stores=[], frames=8, calibration=Calibration(), epochs=1,
                                       workers=[2], cores=2, sizes={target: size} if size else {},
                                       gops={target: 1} if target == "pyav@t" else {},
                                       formats={target: fmt} if fmt else {})
                    o = estimate_fit.Observed(plan, target, pattern, epoch, 2, 1.0, "x")
                    out.append(dataclasses.replace(o, seconds=o.predict(truth)))
    return out


def test_the_fit_finds_the_guesses_that_made_the_records() -> None:
    truth = dataclasses.replace(budget.Guess(), decode=0.002, output=0.001, seek=0.002, epoch_start=0.2,
                                decode_byte=0.05, read={"jpeg": 0.003, "png": 0.03, "npy": 0.0002, "tar": 0.004},
                                slower={"pyav": 1.0, "decord": 1.8}, epoch_decode=1.5)
    observed = _observed(truth)
    fitted = estimate_fit.fit(observed)
    for o in observed:
        assert o.predict(fitted) == pytest.approx(o.seconds, rel=0.05)
    assert fitted.slower["decord"] == pytest.approx(1.8, rel=0.1)
    assert fitted.epoch_decode == pytest.approx(1.5, rel=0.1)
    assert fitted.read["jpeg"] == pytest.approx(0.003, rel=0.1)
    assert fitted.decode_byte == pytest.approx(0.05, rel=0.1)  # the sd video's bytes a pixel are 4 times the hd's
    lines = estimate_fit.summary(observed, fitted)
    assert len(lines) == 1 and "median 1.00" in lines[0]


def test_a_folder_that_is_not_a_run_is_named(tmp_path: Path) -> None:
    folder = tmp_path
    (folder / "records.jsonl").write_text("")
    with pytest.raises(SystemExit, match=f"{folder}: no dataset.json"):
        estimate_fit.main([str(folder)])
