"""Nothing vanishes from the plan: a loader that refused sampled videos stays in it, marked and never
recommended; a stack that did not finish is named at the top of the report."""

from __future__ import annotations

from pathlib import Path

import pytest
import report_fixture as fx

import reports
from benchmarks import finished
from benchmarks.analysis.refusals import refusals
from benchmarks.records import Record, append

HEVC = "/videos/hevc-open-gop.mp4"
CAUSE = "open-GOP hevc video: after a seek torchcodec miscounts the leading frames"


def _refused(run_dir: Path) -> None:
    """torchcodec (the fastest decoder) and cv2-grab (no epoch timed) refuse a third sampled video."""
    for loader in ("torchcodec", "cv2-grab"):
        for pattern in fx.PATTERNS:
            append(run_dir / "records.jsonl", Record(
                measure="per_frame", loader=loader, kind="decode", stack="main", profile="hevc-open-gop",
                pattern=pattern, status="error", reason=f"UnsupportedVideo: {HEVC}: {CAUSE}",
                options={"video": HEVC}))
    for profile in fx.PROFILES:  # cv2-grab read the other two
        append(run_dir / "records.jsonl", Record(measure="per_frame", loader="cv2-grab", kind="decode", stack="main",
                                                 profile=profile, pattern="random", frames=10, seconds=[1.0]))


def test_a_loader_that_refused_videos_stays_in_the_plan_and_is_never_recommended(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from benchmarks import cli

    run_dir = fx.make_run(tmp_path / "run")
    data = fx.write_dataset(run_dir, disk_budget=3 * 2**30)
    _refused(run_dir)
    found = refusals(r for r in fx.make_records())
    assert found == {}  # the fixture alone refuses nothing
    page = reports.build(run_dir)["report"].read_text(encoding="utf-8")
    words = f"refused 1 of 3 videos: {CAUSE}"
    section = page[page.index('id="dataset"'):page.index("</section>", page.index('id="dataset"'))]
    # In the ranking, marked, with a row of its own where no epoch of it was timed ...
    assert section.count(f"decode the videos with torchcodec <span class=\"bad\">{words}: never recommended") == 2
    assert section.count("cv2-grab: not projected (no epoch timed)") == 2
    # ... and never the answer: the verdict and the winners name another decoder, and say why not this one.
    verdict = section[section.index('id="verdict"'):section.index('class="dataset-line')]
    assert "decode the videos with pyav" in verdict and "decode the videos with torchcodec" not in verdict
    assert f"Not recommended: torchcodec {words}" in verdict
    for winner in section.split('<p class="winner">')[1:]:
        assert "torchcodec" not in winner.split("</p>")[0]
    cli.summary(run_dir / "records.jsonl", data)
    printed = capsys.readouterr().out
    assert f"not recommended: torchcodec {words}" in printed and "cv2-grab refused 1 of 3 videos" in printed
    assert "decode the videos with torchcodec:" not in printed


def test_a_stack_that_did_not_finish_is_named_at_the_top(tmp_path: Path) -> None:
    run_dir = fx.make_run(tmp_path / "run")
    assert "did not finish" not in reports.build(run_dir)["report"].read_text(encoding="utf-8")  # no marks: no claim
    finished.start(run_dir, "main", estimated=30.0)
    finished.finish(run_dir, "main", seconds=42.5)
    finished.start(run_dir, "pillow-simd", estimated=10.0)  # stopped: never finished
    assert list(finished.unfinished(run_dir)) == ["pillow-simd"]
    # what a finished stack was estimated to take and took; nothing for one that did not finish
    assert finished.timing(run_dir, "main") == (30.0, 42.5) and finished.timing(run_dir, "pillow-simd") is None
    page = reports.build(run_dir)["report"].read_text(encoding="utf-8")
    top = page[:page.index("<section")]
    assert "stacks: main, pillow-simd (did not finish)" in top
    assert 'id="unfinished"' in top and "1 stack of this run did not finish" in top and "the pillow-simd stack" in top
    assert "the main stack" not in top
    finished.finish(run_dir, "pillow-simd")  # --resume finished it
    assert finished.timing(run_dir, "pillow-simd") is None  # no seconds taken kept: not judged
    assert "did not finish" not in reports.build(run_dir)["report"].read_text(encoding="utf-8")
