"""``python -m reports`` given a malformed ``dataset.json`` or records out of range: a message
naming the file and the field (exit 2, no traceback), or the bad lines skipped with a warning
naming them, and the report saying so at its top; never an empty plan in silence."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import pytest
import report_fixture as fx

from benchmarks import dataset, records

ROOT = Path(__file__).resolve().parent.parent


def _reports(run_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "reports", str(run_dir)], cwd=ROOT, capture_output=True, text=True,
                          timeout=300, check=False)


def _edit(run_dir: Path, **changes: object) -> None:
    path = run_dir / dataset.FILE
    data = json.loads(path.read_text())
    path.write_text(json.dumps({**data, **changes}))


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    fx.make_run(tmp_path / "run")
    fx.write_dataset(tmp_path / "run")
    return tmp_path / "run"


BAD_DATASETS = {  # what the file holds -> words the message gives
    "bad-json": (b'{"root": "/videos", ', "not JSON"),
    "null": (b"null", "a JSON null, not an object"),
    "binary": (b"\x89PNG\r\n\x1a\n\xff\xd8\xff\xe0" * 64, "not UTF-8 text"),
    "empty": (b"", "not JSON"),
}
BAD_FIELDS = {  # field -> (value, words the message gives)
    "epochs": ("abc", "field 'epochs' is a JSON string (\"abc\"), expected an integer"),
    "classes": (["720p h264"], "field 'classes' is a JSON array"),
    "disk_budget_bytes": (float("inf"), "field 'disk_budget_bytes' is a JSON number (Infinity)"),
    "unreadable": (-1, "field 'unreadable' is negative (-1)"),
    "ram_total_bytes": (10**400, "field 'ram_total_bytes' holds a 401-digit number, beyond 2^63"),
}


@pytest.mark.parametrize("kind", sorted(BAD_DATASETS))
def test_a_dataset_json_that_is_not_one_stops_the_report_naming_it(kind: str, run_dir: Path) -> None:
    content, words = BAD_DATASETS[kind]
    (run_dir / dataset.FILE).write_bytes(content)
    run = _reports(run_dir)
    assert run.returncode == 2 and "Traceback" not in run.stderr, run.stderr
    assert f"{run_dir / dataset.FILE}: not a dataset summary: " in run.stderr and words in run.stderr, run.stderr
    assert not (run_dir / "report.html").exists()


@pytest.mark.parametrize("field", sorted(BAD_FIELDS))
def test_a_field_of_the_wrong_type_or_range_is_named(field: str, run_dir: Path) -> None:
    value, words = BAD_FIELDS[field]
    _edit(run_dir, **{field: value})
    with pytest.raises(dataset.DatasetError) as caught:
        dataset.load(run_dir)
    assert str(caught.value).startswith(f"{run_dir / dataset.FILE}: not a dataset summary: ")
    assert words in str(caught.value)


def test_a_wrong_field_deep_in_a_class_is_named_with_its_path(run_dir: Path) -> None:
    data = json.loads((run_dir / dataset.FILE).read_text())
    name = sorted(data["classes"])[0]
    data["classes"][name]["frames"] = "many"
    (run_dir / dataset.FILE).write_text(json.dumps(data))
    run = _reports(run_dir)
    assert run.returncode == 2 and f"field 'classes.{name}.frames' is a JSON string" in run.stderr, run.stderr


def test_a_good_dataset_reads_back_as_written(run_dir: Path) -> None:
    assert dataset.load(run_dir) == fx.write_dataset(run_dir)


def _record_line(**changes: object) -> str:
    return json.dumps({**dataclasses.asdict(fx.make_records()[0]), **changes})


OUT_OF_RANGE = [  # a line of records.jsonl, and what the warning says of it
    (_record_line(bytes=10**400), "field 'bytes' holds a 401-digit number, beyond 2^63"),
    (_record_line(bytes=-5), "field 'bytes' is negative"),
    (_record_line(bytes=123456789).replace("123456789", "1e400"), "field 'bytes' is a JSON number (Infinity)"),
    (_record_line(seconds=[0.5, float("nan")]), "field 'seconds' holds NaN"),
    (_record_line(seconds=[float("inf")]), "field 'seconds' holds Infinity"),
    (_record_line(seconds=[0.5, -1.0]), "field 'seconds' is negative"),
    (_record_line(fps_median=float("-inf")), "field 'fps_median' holds -Infinity"),
]


def test_records_out_of_range_are_skipped_with_their_line_named() -> None:
    for line, words in OUT_OF_RANGE:
        with pytest.raises(ValueError, match="field") as caught:
            records.parse(json.loads(line))
        assert words in str(caught.value), (words, str(caught.value))
    records.parse(json.loads(_record_line()))  # the line they were made from is a record


def test_the_report_skips_them_says_so_and_goes_on(run_dir: Path) -> None:
    good = (run_dir / "records.jsonl").read_text().splitlines()
    first_bad = len(good) + 1
    (run_dir / "records.jsonl").write_text("\n".join(good + [line for line, _ in OUT_OF_RANGE]) + "\n")
    run = _reports(run_dir)
    assert run.returncode == 0 and "Traceback" not in run.stderr, run.stderr
    assert f"skipped {len(OUT_OF_RANGE)} lines that are not a record" in run.stderr
    assert all(f"line {first_bad + i}: " in run.stderr for i in range(len(OUT_OF_RANGE)))
    html = (run_dir / "report.html").read_text()
    assert "Records skipped" in html and f"{len(OUT_OF_RANGE)} lines of" in html
    assert html.index("Records skipped") < html.index("Which loader, and does extraction pay?")


def test_a_run_whose_every_record_is_out_of_range_names_them_not_an_empty_plan(run_dir: Path) -> None:
    (run_dir / "records.jsonl").write_text("\n".join(line for line, _ in OUT_OF_RANGE) + "\n")
    run = _reports(run_dir)
    assert run.returncode == 2 and "Traceback" not in run.stderr, run.stderr
    assert "nothing was measured" in run.stderr or "no records" in run.stderr
    assert "line 1: field 'bytes'" in run.stderr and not (run_dir / "report.html").exists()
