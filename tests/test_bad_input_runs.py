"""Runs fed bad input: malformed record lines, bad annotations files, formula-like names in the
CSV files, and runs with nothing to measure. Each gives a clear message and a non-zero exit, or
skips what is bad and says so; never a traceback, never a report built on zero frames."""

from __future__ import annotations

import csv
import dataclasses
import json
import logging
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import report_fixture as fx

import reports
from benchmarks import annotations, cli, records, videos
from benchmarks.analysis import crossover
from benchmarks.records import Record
from loaders.probe import probe
from loaders.vocabulary import BASELINE
from reports import csvsafe, tables

GOOD = Record(measure="per_frame", loader="pyav", kind="decode", stack="main", profile="p", pattern="sequential",
              frames=10, seconds=[0.5, 1.0], cell="per_frame|main|pyav|p|sequential").with_fps()


def _line(**changes: object) -> str:
    return json.dumps({**dataclasses.asdict(GOOD), **changes})


# (line, words the warning gives for it)
MALFORMED = [
    ("123", "a JSON number, not an object"),
    ('["x"]', "a JSON array, not an object"),
    ('{"foo": 1}', "missing fields measure, loader, kind, stack, profile"),
    (_line(frames="10"), "field 'frames' is a JSON string"),
    (_line(seconds=[0.5, "fast"]), "field 'seconds'"),
    (_line(workers=True), "field 'workers' is a JSON boolean"),
    (_line(status="fine"), "field 'status'"),
    (_line(env=["not", "a", "mapping"]), "field 'env' is a JSON array"),
    (_line(threads={"ffmpeg": "two"}), "field 'threads'"),
    ('{"measure": "epoch", "not json', "not JSON"),
]


def _malformed_file(path: Path) -> Path:
    """GOOD on line 1, every malformed line after it, a non-UTF-8 line, GOOD again at the end."""
    lines = [json.dumps(dataclasses.asdict(GOOD)), *(line for line, _ in MALFORMED)]
    path.write_bytes("\n".join(lines).encode() + b'\n{"profile": "\xff"}\n' + lines[0].encode() + b"\n")
    return path


def test_lines_that_are_not_records_are_skipped_counted_and_named(tmp_path: Path,
                                                                    caplog: pytest.LogCaptureFixture) -> None:
    path = _malformed_file(tmp_path / "records.jsonl")
    with caplog.at_level(logging.WARNING):
        read = list(records.read(path))
    assert read == [GOOD, GOOD]
    [warning] = [r.getMessage() for r in caplog.records]
    assert f"skipped {len(MALFORMED) + 1} lines" in warning and str(path) in warning
    for number, (_, words) in enumerate(MALFORMED, start=2):
        assert f"line {number}: " in warning and words in warning
    assert f"line {len(MALFORMED) + 2}: not UTF-8" in warning
    # A torn last line (a run killed mid-write) is no fault of the file: no warning for it.
    caplog.clear()
    torn = tmp_path / "torn.jsonl"
    torn.write_text(json.dumps(dataclasses.asdict(GOOD)) + '\n{"measure": "ep')
    with caplog.at_level(logging.WARNING):
        assert list(records.read(torn)) == [GOOD]
    assert not caplog.records


def test_resume_and_crossover_skip_malformed_lines(tmp_path: Path) -> None:
    (tmp_path / "r1").mkdir()
    _malformed_file(tmp_path / "r1" / "records.jsonl")
    run = cli.Run(tmp_path, "r1", resume=True)
    assert run.done == {GOOD.cell}
    assert crossover.pairs(records.read(run.path)) == []  # no traceback from a string where a number belongs


def test_report_of_a_run_with_malformed_lines(tmp_path: Path) -> None:
    run_dir = fx.make_run(tmp_path / "run")
    with (run_dir / "records.jsonl").open("a") as f:
        for line, _ in MALFORMED[:-1]:
            f.write(line + "\n")
    done = subprocess.run([sys.executable, "-m", "reports", str(run_dir)], capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    first = len(fx.make_records()) + 1
    assert f"skipped {len(MALFORMED) - 1} lines" in done.stderr and f"line {first}: " in done.stderr
    assert (run_dir / "report.html").stat().st_size > 0


# -- annotations ------------------------------------------------------------------------------------

BAD_ANNOTATIONS = [
    ("missing", None, "does not exist"),
    ("not json", b"{'a.mp4': {}}", "not JSON: Expecting property name enclosed in double quotes at line 1"),
    ("not utf-8", b'{"a.mp4": {"1": [[0, 0, 1, 1]]}, "\xff": {}}', "not UTF-8 text: byte 0xff at offset 34"),
    ("top-level list", b'[{"a.mp4": {}}]', "the top level is a JSON array; expected an object {video file name"),
    ("list for a video", b'{"a.mp4": [[0, 0, 1, 1]]}', "video 'a.mp4': a JSON array; expected an object"),
    ("frame key not an integer", b'{"a.mp4": {"first": [[0, 0, 1, 1]]}}', "video 'a.mp4', frame 'first': "
                                                                         "a frame key must be a frame index"),
    ("negative frame", b'{"a.mp4": {"-1": []}}', "video 'a.mp4', frame '-1': a frame key must be"),
    ("boxes not a list", b'{"a.mp4": {"3": {"x": 1}}}', "video 'a.mp4', frame 3: a JSON object; expected a list "
                                                        "of boxes [[x1, y1, x2, y2], ...]"),
    ("box of 3 numbers", b'{"a.mp4": {"3": [[0, 0, 1, 1], [0, 1, 2]]}}', "video 'a.mp4', frame 3: box 1 is 3 items"),
    ("flat box", b'{"a.mp4": {"3": [0, 0, 1, 1]}}', "video 'a.mp4', frame 3: box 0 is a JSON number"),
    ("not numbers", b'{"a.mp4": {"3": [[0, "0", 1, true]]}}', "box 0 is [0, \"0\", 1, true]; expected four finite"),
    ("not finite", b'{"a.mp4": {"3": [[0, NaN, 1, 1]]}}', "expected four finite numbers"),
]


@pytest.mark.parametrize(("case", "content", "expected"), BAD_ANNOTATIONS, ids=[c[0] for c in BAD_ANNOTATIONS])
def test_bad_annotations_name_the_file_the_place_and_what_was_expected(tmp_path: Path, case: str,
                                                                      content: bytes | None, expected: str) -> None:
    path = tmp_path / "boxes.json"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(annotations.AnnotationError) as err:
        annotations.load(path)
    assert str(err.value).startswith(f"{path}: ") and expected in str(err.value)


def test_annotations_size_is_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "boxes.json"
    path.write_text(json.dumps({"a.mp4": {str(i): [[0, 0, 1, 1]] for i in range(100)}}))
    monkeypatch.setattr(annotations, "MAX_BYTES", path.stat().st_size - 1)
    with pytest.raises(annotations.AnnotationError, match="larger than"):
        annotations.load(path)
    monkeypatch.setattr(annotations, "MAX_BYTES", path.stat().st_size)
    assert len(annotations.load(path).videos["a.mp4"]) == 100


def test_annotations_are_checked_against_the_videos(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "boxes.json"
    path.write_text('{"a.mp4": {"0": [], "9": [[1, 2, 3, 4.5], [0, 0, 1, 1]]}, "gone.mp4": {"1": []}}')
    boxes = annotations.load(path)
    with caplog.at_level(logging.WARNING):
        served = boxes.for_videos({"/v/a.mp4": 10, "/v/b.mp4": 5})
    assert set(served) == {"/v/a.mp4"} and served["/v/a.mp4"][0].shape == (0, 4)
    np.testing.assert_array_equal(served["/v/a.mp4"][9], np.array([[1, 2, 3, 4.5], [0, 0, 1, 1]], np.float32))
    assert "'gone.mp4'" in caplog.text
    with pytest.raises(annotations.AnnotationError, match=r"video 'a.mp4', frame 9: beyond the video, which has 9 "
                                                          r"frames \(indices 0 to 8\)"):
        boxes.for_videos({"/v/a.mp4": 9})
    with pytest.raises(annotations.AnnotationError, match="none of the 2 videos it names"):
        boxes.for_videos({"/v/b.mp4": 5})


def _folder(tmp_path: Path, tiny_videos: dict[str, Path], broken: bool = True, good: bool = True) -> Path:
    folder = tmp_path / "videos"
    folder.mkdir()
    if good:
        shutil.copy(tiny_videos["tiny-h264-odd"], folder / "good.mp4")
    if broken:
        (folder / "notes.mp4").write_text("a text file with a video's name\n" * 20)
    return folder


def _bench(folder: Path, out: Path, *extra: str) -> list[str]:
    return ["--quick", "--videos", str(folder), "--out", str(out), "--loaders", BASELINE, "--measures", "per_frame",
            "--patterns", "sequential", "--min-time", "0", "--min-rounds", "1", "--frames", "2",
            "--stores", str(out / "stores"), *extra]


def test_a_bad_annotations_file_stops_the_run_before_it_starts(tmp_path: Path, tiny_videos: dict[str, Path]) -> None:
    folder = _folder(tmp_path, tiny_videos, broken=False)
    boxes = tmp_path / "boxes.json"
    boxes.write_text('{"good.mp4": {"3": [[0, 0, 5]]}}')
    with pytest.raises(SystemExit) as exit_:
        cli.main(_bench(folder, tmp_path / "results", "--annotations", str(boxes)))
    assert f"{boxes}: video 'good.mp4', frame 3: box 0 is 3 items" in str(exit_.value.code)
    assert not (tmp_path / "results").exists()  # nothing measured, nothing written
    boxes.write_text('{"good.mp4": {"3": [], "100000": [[0, 0, 5, 5]]}}')
    with pytest.raises(SystemExit) as exit_:
        cli.main(_bench(folder, tmp_path / "results", "--annotations", str(boxes)))
    assert "frame 100000: beyond the video" in str(exit_.value.code)
    assert not (tmp_path / "results" / "latest").exists()  # checked after probing, before measuring


# -- CSV cells --------------------------------------------------------------------------------------

FORMULAS = ["=HYPERLINK(\"http://x\")", "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "\tTAB", "\rCR"]


@pytest.mark.filterwarnings("ignore:Glyph:UserWarning")  # a tab in a chart label has no glyph
def test_csv_cells_never_start_a_formula_and_numbers_stay_numbers(tmp_path: Path) -> None:
    assert [csvsafe.cell(v) for v in FORMULAS] == ["'" + v for v in FORMULAS]
    assert [csvsafe.cell(v) for v in ["-3.2", "+4", "1e-3", "-.5", "plain", 7, -3.2, None]] == \
        ["-3.2", "+4", "1e-3", "-.5", "plain", 7, -3.2, None]
    run = []
    for i, name in enumerate([*FORMULAS, "-3.2"]):
        run.append(dataclasses.replace(GOOD, profile=name, reason=name if i == 0 else None, cell=f"c{i}",
                                       env={"=key": "-1+1", "cores": -2}))
    for r in run:
        records.append(tmp_path / "records.jsonl", r)
    written = reports.build(tmp_path)
    for name in ("summary", "environment"):
        text = written[name].read_text()
        with written[name].open(newline="") as f:
            rows = list(csv.reader(f))
        cells = [c for row in rows for c in row]
        assert not [c for c in cells if c.startswith(csvsafe.TRIGGERS) and c != "-3.2" and c != "-2"], name
        if name == "summary":
            assert {"'" + v for v in FORMULAS} | {"-3.2"} <= set(cells)
            assert '"-3.2"' in text  # the profile named -3.2, text kept as the number it reads as
        else:
            assert "'=key" in rows[0] and ",-2" in text  # a numeric cell stays an unquoted number


# -- runs with nothing to measure -------------------------------------------------------------------

def test_probe_messages_carry_no_errno(tmp_path: Path) -> None:
    path = tmp_path / "text.mp4"
    path.write_text("not a video\n" * 20)
    with pytest.raises(Exception) as err:
        probe(path)
    assert str(err.value) == f"{path}: not a readable video: Invalid data found when processing input"


def test_missing_empty_and_videoless_folders_are_told_apart(tmp_path: Path) -> None:
    for folder, expected in [(tmp_path / "nope", "does not exist"), (tmp_path, "the folder is empty")]:
        with pytest.raises(SystemExit) as exit_:
            cli.main(_bench(folder, tmp_path / "results"))
        assert f"{folder}: " in str(exit_.value.code) and expected in str(exit_.value.code)
        assert not (tmp_path / "results").exists()  # no run directory left behind
    (tmp_path / "readme.txt").write_text("hi")
    with pytest.raises(videos.NothingToMeasure, match="its 1 files have other suffixes"):
        videos.find(tmp_path)


def test_no_readable_video_fails_and_leaves_latest_alone(tmp_path: Path, tiny_videos: dict[str, Path]) -> None:
    folder = _folder(tmp_path, tiny_videos, good=False)
    out = tmp_path / "results"
    (out / "old").mkdir(parents=True)
    (out / "latest").symlink_to("old")
    done = subprocess.run([sys.executable, "-m", "benchmarks", *_bench(folder, out)], capture_output=True,
                          text=True, check=False)
    assert done.returncode != 0
    assert "Traceback" not in done.stderr and "Errno" not in done.stderr
    assert "no readable video" in done.stderr
    assert f"{folder / 'notes.mp4'}: not a readable video: Invalid data found" in done.stderr
    assert (out / "latest").resolve() == (out / "old").resolve()


def test_unreadable_videos_are_skipped_aloud_and_the_report_warns(tmp_path: Path, tiny_videos: dict[str, Path],
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    folder = _folder(tmp_path, tiny_videos)
    out = tmp_path / "results"
    assert cli.main(_bench(folder, out, "--run-id", "r1")) == 0
    assert f"skipping {folder / 'notes.mp4'}: not a readable video" in capsys.readouterr().err
    assert (out / "latest").resolve() == (out / "r1").resolve()
    page = reports.build(out / "r1")["report"].read_text()
    warning = page[page.index('<section id="warnings">'):]
    assert page.index('<section id="warnings">') < page.index('<section id="advice">')
    assert "1 video could not be read" in warning and "notes.mp4" in warning.split("</section>")[0]


def test_a_report_of_a_run_that_measured_nothing_is_refused(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "records.jsonl").touch()
    with pytest.raises(tables.NothingToReport, match="no records in it"):
        reports.build(run_dir)
    # What a run over a folder of unreadable files used to leave: zero-frame records marked ok.
    for r in [dataclasses.replace(GOOD, frames=0, seconds=[0.0001], fps_median=0.0),
              dataclasses.replace(GOOD, measure="extraction", loader=None, kind=None, frames=0, bytes=0),
              Record(measure="per_frame", loader="decord", kind="decode", stack="main", profile="p",
                     status="unavailable", reason="no module named decord"),
              Record(measure="per_frame", loader=None, kind=None, stack="main", profile="notes",
                     status="error", reason="notes.mp4: not a readable video")]:
        records.append(run_dir / "records.jsonl", r)
    done = subprocess.run([sys.executable, "-m", "reports", str(run_dir)], capture_output=True, text=True,
                          check=False)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "nothing was measured in this run (4 records, none with frames read)" in done.stderr
    assert "decord: no module named decord" in done.stderr and "video notes: notes.mp4" in done.stderr
    assert not (run_dir / "summary.csv").exists() and not (run_dir / "report.html").exists()
