"""The record schema reports rely on, and the run directory's bookkeeping."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from benchmarks import cli, records
from benchmarks.records import Record

# Fields the reports and --resume read: renaming or dropping one breaks them.
SCHEMA = {"measure", "loader", "kind", "stack", "profile", "pattern", "frames", "seconds", "fps_median", "fps_p25",
          "fps_p75", "workers", "batch_size", "threads", "extractor", "format", "quality", "bytes", "source_bytes",
          "peak_rss_bytes", "exact", "status", "reason", "library", "options", "run_id", "cell", "time", "env"}
# The store's fields, nested in one "store" object, and read through the record as before.
STORE = {"extractor", "format", "quality", "store_size"}


def test_schema() -> None:
    assert {f.name for f in dataclasses.fields(Record)} | STORE >= SCHEMA and "store" in {
        f.name for f in dataclasses.fields(Record)}
    assert all(isinstance(getattr(Record, name), property) for name in STORE)


def test_append_and_read_round_trip_and_torn_line(tmp_path: Path) -> None:
    path = tmp_path / "records.jsonl"
    a = Record(measure="per_frame", loader="pyav", kind="decode", stack="main", profile="p", pattern="sequential",
               frames=10, seconds=[0.5, 1.0, 2.0]).with_fps()
    records.append(path, a)
    with open(path, "a") as f:
        f.write('{"measure": "epoch", "load')  # a run killed mid-write
    assert list(records.read(path)) == [a]
    assert (a.fps_median, a.fps_p25, a.fps_p75) == (10.0, 7.5, 15.0)


def test_fps_stats_edge_cases() -> None:
    assert records.fps_stats(10, []) == (None, None, None)
    assert records.fps_stats(10, [2.0]) == (5.0, 5.0, 5.0)


def test_run_fills_identity_and_latest(tmp_path: Path) -> None:
    (tmp_path / "r0").mkdir()
    (tmp_path / "latest").symlink_to("r0")  # the last run that measured something
    run = cli.Run(tmp_path, "r1", resume=False)
    unavailable = Record(measure="per_frame", loader="decord", kind="decode", stack="main", profile="p",
                         status="unavailable", reason="no module named decord")
    run.add("unavailable|main|decord", unavailable)
    # Nothing measured yet: latest still names the run before, so a report or --resume finds it.
    assert (tmp_path / "latest").resolve() == (tmp_path / "r0").resolve()
    rec = run.add("per_frame|main|pyav|p|sequential", Record(measure="per_frame", loader="pyav", kind="decode",
                                                             stack="main", profile="p", frames=4, seconds=[0.1],
                                                             threads={"ffmpeg": 2}))
    line = json.loads((tmp_path / "r1" / "records.jsonl").read_text().splitlines()[-1])
    assert line["cell"] == rec.cell == "per_frame|main|pyav|p|sequential"
    assert line["run_id"] == "r1" and line["time"]
    env = line["env"]
    for key in ("cpu", "cores", "os", "python", "versions", "ffmpeg", "git_commit", "stack", "threads"):
        assert key in env
    assert env["threads"] == {"ffmpeg": 2}
    assert (tmp_path / "latest").resolve() == (tmp_path / "r1").resolve()
    # --resume without a run id continues the latest run and knows its cells.
    again = cli.Run(tmp_path, None, resume=True)
    assert again.id == "r1" and again.done == {"unavailable|main|decord", rec.cell}
    # Resuming a run by its id points latest at it again, as it has measurements.
    (tmp_path / "latest").unlink()
    cli.Run(tmp_path, "r1", resume=True)
    assert (tmp_path / "latest").resolve() == (tmp_path / "r1").resolve()


OLD_LINE = (  # a record of an older run: the store in flat fields, its gop and crf in the options
    '{"measure": "epoch", "loader": "pyav", "kind": "decode", "stack": "main", "profile": "set", '
    '"pattern": "sequential", "frames": 100, "seconds": [1.0, 2.0], "extractor": "ffmpeg", "format": "mp4", '
    '"quality": null, "store_size": 256, "cache": "warm", "options": {"epochs": 3, "gop": 8, "crf": 18}}\n'
    '{"measure": "per_frame", "loader": "pyav", "kind": "decode", "stack": "main", "profile": "set", '
    '"pattern": "sequential", "frames": 10, "seconds": [0.5], "extractor": null, "format": null, "quality": null}\n'
)


def test_old_records_are_read_with_their_store_nested(tmp_path: Path) -> None:
    from benchmarks.spec import Store, Target

    path = tmp_path / "records.jsonl"
    path.write_text(OLD_LINE)
    transcoded, plain = list(records.read(path))
    assert transcoded.store == Store("ffmpeg", "mp4", None, 256, 8, 18)
    assert transcoded.options == {"epochs": 3}  # the gop and crf moved into the store
    assert (transcoded.format, transcoded.store_size, transcoded.quality) == ("mp4", 256, None)
    assert Target("pyav", "decode", transcoded.store).key == "pyav@ffmpeg-mp4-s256-g8"
    assert plain.store is None and plain.format is None
    # Written again, the store is one object and the flat fields are gone.
    records.append(tmp_path / "new.jsonl", transcoded)
    line = json.loads((tmp_path / "new.jsonl").read_text())
    assert line["store"] == {"extractor": "ffmpeg", "format": "mp4", "quality": None, "store_size": 256, "gop": 8,
                             "crf": 18}
    assert not {"extractor", "format", "quality", "store_size"} & set(line)
    assert list(records.read(tmp_path / "new.jsonl")) == [transcoded]


def test_a_store_that_is_not_one_is_named(tmp_path: Path) -> None:
    import pytest

    good = json.loads(OLD_LINE.splitlines()[0])
    for store, why in (({"format": 5}, "store.format"), ({"extractor": "ffmpeg"}, "no format"),
                       ({"format": "jpeg", "quality": "90"}, "store.quality")):
        data = {k: v for k, v in good.items() if k not in ("extractor", "format", "quality", "store_size")}
        with pytest.raises(ValueError, match=why):
            records.parse({**data, "store": store})
