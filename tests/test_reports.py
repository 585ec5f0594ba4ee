"""Reports: CSV tables checked against the fixture's arithmetic, the HTML's escaping and
self-containment, runs that lack a stack or a loader, and ``--compare`` percentages."""

from __future__ import annotations

import csv
import re
import subprocess
import sys
from pathlib import Path

import pytest
import report_fixture as fx

import reports
from benchmarks import records
from benchmarks.records import Record, append
from loaders.vocabulary import BASELINE
from reports import advice, tables


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def _one(rows: list[dict[str, str]], **match: str) -> dict[str, str]:
    found = [r for r in rows if all(r[k] == v for k, v in match.items())]
    assert len(found) == 1, (match, found)
    return found[0]


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    run_dir = fx.make_run(tmp_path_factory.mktemp("run") / "fixture")
    reports.build(run_dir)
    return run_dir


def test_summary_has_one_row_per_loader_pattern_profile_workers(run: Path) -> None:
    rows = _csv(run / "summary.csv")
    per_frame = len(fx.PER_FRAME) * len(fx.PATTERNS) * len(fx.PROFILES)
    epoch = len(fx.EPOCH) * len(fx.PATTERNS)
    # + cv2-seek wrong on 2 patterns, decord unavailable, a video that could not be probed
    assert len(rows) == per_frame + epoch + 2 + 1 + 1
    keys = {(r["stack"], r["loader"], r["measure"], r["pattern"], r["profile"], r["workers"]) for r in rows}
    assert len(keys) == len(rows)
    assert set(rows[0]) >= {"fps_median", "fps_p25", "fps_p75", "frames", "rounds", "seconds_per_frame",
                            "open_seconds", "peak_rss_bytes", "exact", "stack", "library"}


def test_summary_figures_follow_from_the_rounds(run: Path) -> None:
    rows = _csv(run / "summary.csv")
    # torchcodec, sequential, 360p: 100 frames in 0.05/0.1/0.2 s -> 2000/1000/500 fps.
    row = _one(rows, loader="torchcodec", measure="per_frame", pattern="sequential", profile="h264-360p")
    assert float(row["fps_median"]) == pytest.approx(1000)
    assert float(row["fps_p25"]) == pytest.approx(750)
    assert float(row["fps_p75"]) == pytest.approx(1500)
    assert float(row["seconds_per_frame"]) == pytest.approx(0.001)
    assert (row["frames"], row["rounds"], row["workers"]) == ("100", "3", "")
    assert float(row["open_seconds"]) == pytest.approx(fx.OPEN_SECONDS["torchcodec"])
    assert (row["exact"], row["stack"], row["library"]) == ("True", "main", "torchcodec 0.13.0")
    lossy = _one(rows, loader="simplejpeg", measure="per_frame", pattern="sequential", profile="h264-360p")
    assert (lossy["status"], lossy["exact"], float(lossy["fps_median"])) == ("ok", "False", 2500)
    # The 720p profile and the random pattern each halve the speed.
    slower = _one(rows, loader="torchcodec", measure="per_frame", pattern="random", profile="h264-720p")
    assert float(slower["fps_median"]) == pytest.approx(250)
    epoch = _one(rows, loader="pyav", measure="epoch", pattern="random", workers="2")
    assert float(epoch["fps_median"]) == pytest.approx(fx.EPOCH_FRAMES / 7.0)
    assert int(epoch["peak_rss_bytes"]) == fx.PEAK_RSS[2]
    pil = _one(rows, loader="pil", pattern="random", profile="h264-360p")
    assert (pil["stack"], pil["format"], pil["quality"]) == ("pillow-simd", "jpeg", "90")


def test_summary_keeps_wrong_and_unavailable_loaders_untimed_with_reasons(run: Path) -> None:
    rows = _csv(run / "summary.csv")
    wrong = _one(rows, loader="cv2-seek", pattern="random")
    assert (wrong["status"], wrong["exact"], wrong["fps_median"]) == ("wrong", "False", "")
    assert wrong["reason"] == fx.WRONG_REASON
    probe = _one(rows, profile="broken-clip")
    assert (probe["loader"], probe["status"], probe["reason"]) == ("", "error", fx.PROBE_REASON)
    missing = _one(rows, loader="decord")
    assert (missing["status"], missing["reason"]) == ("unavailable", fx.DECORD_REASON)
    assert missing["fps_median"] == ""


def test_extraction_table(run: Path) -> None:
    rows = _csv(run / "extraction.csv")
    assert len(rows) == len(fx.EXTRACTIONS)
    jpeg = _one(rows, format="jpeg")
    seconds, size = fx.EXTRACTIONS[("ffmpeg", "jpeg", 90)]
    assert (jpeg["extractor"], jpeg["quality"], int(jpeg["bytes"])) == ("ffmpeg", "90", size)
    assert float(jpeg["seconds"]) == seconds
    assert float(jpeg["fps"]) == pytest.approx(fx.EXTRACTION_FRAMES / seconds)
    assert float(jpeg["bytes_per_frame"]) == pytest.approx(size / fx.EXTRACTION_FRAMES)
    assert float(jpeg["size_vs_source"]) == pytest.approx(size / fx.SOURCE_BYTES)


def test_crossover_table(run: Path) -> None:
    rows = _csv(run / "crossover.csv")
    decoders = {loader for (loader, _) in fx.EPOCH if fx.PER_FRAME[loader][0] == "decode"}
    frames = {loader for (loader, _) in fx.EPOCH} - decoders
    decoders.remove(BASELINE)  # the harness's overhead baseline is no decoder to compare against
    assert not [r for r in rows if r["decode_loader"] == BASELINE]
    assert len(rows) == len(decoders) * len(frames) * len(fx.PATTERNS) * len(fx.WORKERS)
    row = _one(rows, decode_loader="torchcodec", frame_loader="simplejpeg", pattern="random", workers="2")
    # X = 40 s, T_decode = median(5, 5, 6) = 5 s, T_frames = median(2, 3, 4) = 3 s -> 20 epochs.
    assert (float(row["extraction_seconds"]), float(row["epoch_seconds_decode"]),
            float(row["epoch_seconds_frames"])) == (40.0, 5.0, 3.0)
    assert float(row["crossover_epochs"]) == pytest.approx(20.0)
    # The range from the epochs' quartiles: decode 5-5.5 s, frames 2.5-3.5 s -> 40/3 to 40/1.5 epochs.
    assert float(row["crossover_epochs_low"]) == pytest.approx(40 / 3)
    assert float(row["crossover_epochs_high"]) == pytest.approx(40 / 1.5)
    assert (row["extractor"], row["format"]) == ("ffmpeg", "jpeg")
    pyav = _one(rows, decode_loader="pyav", frame_loader="simplejpeg", pattern="sequential", workers="0")
    assert float(pyav["crossover_epochs"]) == pytest.approx(40 / (12 - 5))
    never = _one(rows, decode_loader="torchcodec", frame_loader="npy", pattern="random", workers="0")
    assert never["crossover_epochs"] == ""  # npy reads slower than torchcodec decodes: never pays


def test_overhead_is_the_baseline_as_a_share_of_the_fastest(run: Path) -> None:
    rows = _csv(run / "overhead.csv")
    assert {(r["pattern"], r["profile"]) for r in rows} == {(p, q) for p in fx.PATTERNS for q in fx.PROFILES}
    row = _one(rows, pattern="sequential", profile="h264-360p")
    # Per frame: baseline 0.001/100 s, npy (the fastest) 0.008/100 s, torchcodec (fastest decoder) 0.1/100 s.
    assert (row["fastest_loader"], row["fastest_decode_loader"]) == ("npy", "torchcodec")
    assert float(row["share_of_fastest"]) == pytest.approx(0.001 / 0.008)
    assert float(row["share_of_fastest_decode"]) == pytest.approx(0.001 / 0.1)
    page = (run / "report.html").read_text()
    assert "Harness overhead" in page and "per-frame-seek worst case" in page
    assert "Throughput: sequential (consecutive clips" in page  # what each pattern asks, named


def test_environment_has_one_row_per_stack(run: Path) -> None:
    rows = _csv(run / "environment.csv")
    assert [r["stack"] for r in rows] == ["main", "pillow-simd"]
    assert rows[0]["cpu"] == fx.ENV["main"]["cpu"]
    assert rows[0]["libraries.torch"] == "2.13.0"
    assert rows[1]["libraries.pillow-simd"] == "9.5"
    assert rows[1]["loaders"] == "pil"


def test_advice_per_pattern() -> None:
    found = advice.recommend(tables.build(fx.make_records()))
    assert [a.pattern for a in found] == sorted(fx.PATTERNS)
    for a in found:
        assert (a.decode, a.frames, a.extract) == ("torchcodec", "simplejpeg", "yes")
        # With its range from the spread of the epoch times, as "pays after 1.8 epochs (1.5-2.3)".
        assert any(re.search(r"pays for itself after \d+\.\d epochs \(\d+\.\d-(\d+\.\d|never)\)", s)
                   for s in a.sentences), a.sentences
        assert a.crossover_epochs == pytest.approx(20.0)
        text = " ".join(a.sentences)
        assert "20.0 epochs" in text and "300 MiB on disk" in text and "3.0x the source videos" in text
    # Without simplejpeg, the only frame reader (npy) is slower than decoding: extraction never pays.
    no_jpeg = [r for r in fx.make_records() if r.loader != "simplejpeg"]
    for a in advice.recommend(tables.build(no_jpeg)):
        assert (a.frames, a.extract, a.crossover_epochs) == ("npy", "no", None)
        assert "never pays" in " ".join(a.sentences)


def test_report_is_self_contained_and_escapes_record_text(run: Path) -> None:
    page = (run / "report.html").read_text()
    assert "<script" not in page  # nothing to run, and the reason's script tag stays text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in page
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert "<link" not in page and "@import" not in page
    assert page.count('class="chart"') == 7  # 2 plan, 2 throughput, 2 cumulative, 1 memory
    assert "video broken-clip" in page and fx.PROBE_REASON in page
    # Right but not pixel-identical (a JPEG store) is no wrong frame; wrong frames are named.
    exact = page.split('id="exact"')[1].split("</section>")[0]
    assert re.search(r"simplejpeg \(jpeg q90\)</td>.*?right frames, not pixel-identical", exact)
    # ... and says by how much and why, from the per-frame verdicts.
    assert re.search(r"simplejpeg \(jpeg q90\)</td>.*?" + re.escape(fx.LOSSY_REASON), exact)
    assert re.search(r"cv2-seek</td>.*?wrong frames", exact)
    assert re.search(r"torchcodec</td>.*?pixel-exact", exact)
    # Readers 50x faster than decoders: a log axis, labelled in plain numbers (no mathtext).
    assert "log scale" in page and "mathdefault" not in page and "wrong: not timed" in page
    # The baseline is named under its panel, not drawn as a bar that squashes the others.
    assert "harness overhead alone: 100,000 frames/s" in page
    assert f"{BASELINE} (harness overhead)" not in page.split('id="throughput-0"')[1].split("</figure>")[0]
    for pattern in fx.PATTERNS:
        assert f'data-pattern="{pattern}"' in page


def test_markup_in_names_is_escaped_in_tables_and_charts(tmp_path: Path) -> None:
    run_dir = fx.make_run(tmp_path / "odd", stacks=("main",))
    odd = 'clips/<b>bold</b> & "q" $x$'
    for seconds in ([0.1, 0.1], []):  # a record without rounds must not break anything either
        append(run_dir / "records.jsonl", Record(measure="per_frame", loader="pyav", kind="decode",
                                                  stack="main", profile=odd + str(len(seconds)),
                                                  pattern="random", frames=10, seconds=seconds))
    reports.build(run_dir)
    page = (run_dir / "report.html").read_text()
    assert "<b>bold</b>" not in page
    assert "&lt;b&gt;bold&lt;/b&gt; &amp;" in page
    row = _one(_csv(run_dir / "summary.csv"), profile=odd + "0")
    assert (row["status"], row["fps_median"], row["rounds"]) == ("ok", "", "")


@pytest.mark.parametrize("variant", ["one stack", "epochs only"])
def test_partial_runs_still_render(tmp_path: Path, variant: str) -> None:
    records = fx.make_records(stacks=("main",))
    if variant == "epochs only":
        records = [r for r in records if r.measure in ("epoch", "extraction")]
    (tmp_path / "records.jsonl").touch()
    for record in records:
        append(tmp_path / "records.jsonl", record)
    written = reports.build(tmp_path)
    page = written["report"].read_text()
    assert set(written) == {"summary", "extraction", "crossover", "overhead", "environment", "plan", "report"}
    assert [r["stack"] for r in _csv(tmp_path / "environment.csv")] == ["main"]
    # The stacks that sent nothing are named, with why, not silently left out.
    for stack in ("pillow-simd", "torchvision"):
        assert f"no records from the {stack} stack in this run" in page
    if variant == "one stack":
        assert "No module named &#x27;decord&#x27;" in page
    if variant == "epochs only":
        assert page.count('class="chart"') == 7  # plan, epoch throughput, cumulative, memory
        assert "20.0 epochs" in page


def test_compare_gives_the_change_per_row_in_percent(tmp_path: Path) -> None:
    new = fx.make_run(tmp_path / "new")
    old = fx.make_run(tmp_path / "old", speed=0.8)
    written = reports.build(new, compare=old)
    rows = _csv(written["compare"])
    fps = _one(rows, table="summary", metric="fps_median",
               row="main | torchcodec | per_frame | random | h264-360p")
    assert float(fps["old"]) == pytest.approx(400)
    assert float(fps["new"]) == pytest.approx(500)
    assert float(fps["change_pct"]) == pytest.approx(25.0)
    open_cost = _one(rows, table="summary", metric="open_seconds",
                     row="main | torchcodec | per_frame | random | h264-360p")
    assert float(open_cost["change_pct"]) == pytest.approx(0.0)
    assert "+25.0%" in written["report"].read_text()
    # The other way round the same rows lost a fifth.
    back = _one(_csv(reports.build(old, compare=new)["compare"]), table="summary", metric="fps_median",
                row="main | torchcodec | per_frame | random | h264-360p")
    assert float(back["change_pct"]) == pytest.approx(-20.0)


def _rounds_run(folder: Path, scale: float) -> Path:
    """A run of one per-frame row with 12 rounds spread over 1.0-2.1 s, times ``scale``."""
    seconds = [scale * (1.0 + 0.1 * i) for i in range(12)]
    record = Record(measure="per_frame", loader="pyav", kind="decode", stack="main", profile="p", pattern="sequential",
                    frames=100, seconds=seconds).with_fps()
    folder.mkdir()
    append(folder / "records.jsonl", record)
    return folder


def test_compare_calls_a_change_significant_only_when_the_rounds_differ(tmp_path: Path) -> None:
    base = _rounds_run(tmp_path / "base", 1.0)
    for scale, significant in ((1.06, False), (0.5, True)):
        rows = _csv(reports.build(_rounds_run(tmp_path / f"x{scale}", scale), compare=base)["compare"])
        fps = _one(rows, table="summary", metric="fps_median")
        assert abs(float(fps["change_pct"])) >= 5  # a fixed 5% threshold would call both a change
        assert fps["significant"] == str(significant) and float(fps["p_value"]) > 0
    # Three rounds a side can never differ at p < 0.05: a 25% change is reported, not called one.
    new, old = fx.make_run(tmp_path / "new"), fx.make_run(tmp_path / "old", speed=0.8)
    fps = _one(_csv(reports.build(new, compare=old)["compare"]), table="summary", metric="fps_median",
               row="main | torchcodec | per_frame | random | h264-360p")
    assert fps["significant"] == "False"
    extraction = [r for r in _csv(new / "compare.csv") if r["table"] == "extraction" and r["change_pct"]]
    assert extraction and all(r["significant"] == "" for r in extraction)  # one measurement: no test


def test_compare_marks_rows_present_in_one_run_only(tmp_path: Path) -> None:
    new = fx.make_run(tmp_path / "new")
    old = fx.make_run(tmp_path / "old", stacks=("main",))
    rows = _csv(reports.build(new, compare=old)["compare"])
    pil = [r for r in rows if r["row"].startswith("pillow-simd | pil")]
    assert pil and all(r["old"] == "" and r["change_pct"] == "" and r["new"] for r in pil)


def test_cli(tmp_path: Path) -> None:
    new = fx.make_run(tmp_path / "new")
    old = fx.make_run(tmp_path / "old", speed=0.5)
    done = subprocess.run([sys.executable, "-m", "reports", str(new), "--compare", str(old)],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    for name in ("summary.csv", "extraction.csv", "crossover.csv", "environment.csv", "compare.csv",
                 "report.html"):
        assert str(new / name) in done.stdout
        assert (new / name).stat().st_size > 0
    missing = tmp_path / "no-such-run"
    done = subprocess.run([sys.executable, "-m", "reports", str(missing)], capture_output=True, text=True,
                          check=False)
    assert done.returncode == 2
    assert str(missing) in done.stderr and "Traceback" not in done.stderr


def test_a_range_that_reads_as_one_figure_is_written_once() -> None:
    from reports import advice, html

    row = {"epoch_seconds": 9.61, "epoch_seconds_low": 9.61, "epoch_seconds_high": 9.612}
    assert html._with_spread(row) == "9.61 s"  # one epoch timed: no range to show
    assert html._with_spread({**row, "epoch_seconds_low": 9.1, "epoch_seconds_high": 10.2}) == "9.61 s (9.1 s-10.2 s)"
    assert advice.spread(192.0, 192.0) == "3.2 min" and advice.spread(150.0, 300.0) == "2.5 min-5.0 min"


def test_a_budgeted_run_says_what_its_budget_dropped(tmp_path: Path) -> None:
    import html as html_lib

    run_dir = fx.make_run(tmp_path / "budgeted")
    data = fx.write_dataset(run_dir)
    data.budgets = {"main": "budget 3 min: videos 4 -> 1 (a seeded sample: <b>)"}
    data.save(run_dir)
    page = reports.build(run_dir)["report"].read_text(encoding="utf-8")
    said = page[page.index('id="dataset"'):]
    assert "Measured under a time budget" in said and "main stack: budget 3 min: videos 4 -&gt; 1" in said
    assert html_lib.escape("<b>") in said  # record text is escaped
    fx.write_dataset(run_dir)  # no budget: nothing said
    assert "Measured under a time budget" not in reports.build(run_dir)["report"].read_text(encoding="utf-8")


def test_time_axes_read_in_the_unit_the_figures_need() -> None:
    from reports import charts

    assert charts.time_unit(90.0) == ("seconds", 1.0)
    assert charts.time_unit(600.0) == ("minutes", 60.0)
    assert charts.time_unit(4 * 3600.0) == ("hours", 3600.0)


def test_tables_a_machine_can_read(tmp_path: Path) -> None:
    """plan.csv has the pattern and workers in columns of their own; extraction rows of one format
    are told apart by store size and keyframe interval, in extraction.csv and in the report."""
    run_dir = fx.make_run(tmp_path / "run")
    for size in (256, 128):
        append(run_dir / "records.jsonl", records.parse(dict(measure="extraction", loader=None, kind=None, stack="main",
                                                             profile="corpus", frames=100, seconds=[2.0],
                                                             extractor="ffmpeg", format="jpeg", quality=90, bytes=10**6,
                                                             store_size=size)))
    for gop in (2, 8):
        append(run_dir / "records.jsonl", records.parse(dict(measure="extraction", loader=None, kind=None, stack="main",
                                                             profile="corpus", frames=100, seconds=[3.0],
                                                             extractor="ffmpeg", format="mp4", bytes=10**6,
                                                             store_size=128, options={"gop": gop})))
    fx.write_dataset(run_dir)
    written = reports.build(run_dir)
    plan_rows = _csv(written["plan"])
    assert plan_rows and list(plan_rows[0])[-2:] == ["pattern", "workers"]
    for row in plan_rows:
        assert row["strategy"].startswith(f"{row['pattern']}: ")
        assert row["strategy"].endswith(f", {row['workers']} workers")
    extraction = _csv(written["extraction"])
    assert {(r["format"], r["store_size"], r["gop"]) for r in extraction} >= {
        ("jpeg", "256", ""), ("jpeg", "128", ""), ("mp4", "128", "2"), ("mp4", "128", "8")}
    page = written["report"].read_text(encoding="utf-8")
    table = page[page.index('id="extraction"'):page.index("</section>", page.index('id="extraction"'))]
    assert "<th>store size</th><th>GOP</th>" in table
    cells = re.findall(r"<tr><td>ffmpeg</td><td>(\w+)</td><td[^>]*>\d*</td><td[^>]*>([^<]*)</td><td[^>]*>([^<]*)</td>",
                       table)
    assert ("jpeg", "256 px", "") in cells and ("jpeg", "128 px", "") in cells and ("jpeg", "full", "") in cells
    assert ("mp4", "128 px", "2") in cells and ("mp4", "128 px", "8") in cells
    assert len(set(cells)) == len(cells)  # no two rows alike
