"""The harness's own trust figures: repeatability compares the same target between two runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks import records, trust


def _run(path: Path, fps: dict[tuple[str, int | None, int | None], float]) -> Path:
    path.mkdir()
    for (loader, size, gop), rate in fps.items():
        fmt = None if size is None else ("mp4" if gop else "jpeg")
        for pattern in ("sequential", "random-frame"):
            rec = records.parse(dict(measure="per_frame", loader=loader,
                                     kind="decode" if gop or fmt is None else "frames", stack="main", profile="clip",
                                     pattern=pattern, frames=10, seconds=[10 / rate] * 5,
                                     extractor=None if fmt is None else "ffmpeg", format=fmt, store_size=size,
                                     quality=90 if fmt == "jpeg" else None,
                                     options={"gop": gop, "crf": 18} if gop else {}))
            rec.cell = f"{loader}|{size}|{gop}|{pattern}"
            records.append(path / "records.jsonl", rec.with_fps())
    return path


def test_repeatability_keeps_stores_of_two_sizes_and_two_keyframe_intervals_apart(tmp_path: Path) -> None:
    # pil reads a full-size store 4x slower than one at 256; torchcodec decodes two transcodes.
    a = _run(tmp_path / "a", {("pil", 1080, None): 100.0, ("pil", 256, None): 400.0,
                              ("torchcodec", 256, 1): 300.0, ("torchcodec", 256, 8): 200.0, ("pyav", None, None): 50.0})
    b = _run(tmp_path / "b", {("pil", 1080, None): 110.0, ("pil", 256, None): 400.0,
                              ("torchcodec", 256, 1): 300.0, ("torchcodec", 256, 8): 150.0, ("pyav", None, None): 50.0})
    found = trust.repeatability(a, b)
    assert found["cases"] == 10  # five targets x two patterns, none merged with another
    deviation = found["median_deviation_per_target"]
    assert len(deviation) == 5
    assert deviation[next(k for k in deviation if "pil" in k and "1080" in k)] == pytest.approx(0.10)
    assert deviation[next(k for k in deviation if "torchcodec" in k and k.endswith("8"))] == pytest.approx(0.25)
    assert found["worst_target_deviation"] == pytest.approx(0.25)
    # per loader, the cases of every store it reads: pil 0.10, 0.10, 0, 0 -> 0.05; torchcodec 0.125
    per_loader = found["median_deviation_per_loader"]
    assert per_loader == pytest.approx({"pil": 0.05, "torchcodec": 0.125, "pyav": 0.0})
    assert found["worst_loader"] == "torchcodec"
    assert all(rho == pytest.approx(1.0) for rho in found["spearman_per_pattern"].values())
