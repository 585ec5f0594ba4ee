"""Training against the plan: will the GPU wait? Records are made by hand, so every figure can be
worked out on paper (see the comments). No speed is measured here."""

from __future__ import annotations

import csv
import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest
from report_fixture import make_run, write_dataset

from benchmarks import records
from benchmarks.analysis import plan, training
from benchmarks.analysis.training import Step
from benchmarks.records import Record, append

# Every epoch returns 1,000 frames: 100 samples of 10 frames, in batches of 10 (100 frames a step).
FRAMES, SAMPLES, BATCH = 1000, 100, 10
MB = 10**6


def _epoch(loader: str, workers: int, seconds: float, cpu: float | None = None, **store: object) -> Record:
    options: dict[str, object] = {"samples": SAMPLES}
    if cpu is not None:
        options["cpu_seconds"] = [cpu, cpu]
    kind = "frames" if store else "decode"
    return records.parse(dict(measure="epoch", loader=loader, kind=kind, stack="main", profile="sample",
                              pattern="random-clip", frames=FRAMES, seconds=[seconds, seconds], workers=workers,
                              batch_size=BATCH, cache="warm", options=options, env={"cores": 16}, **store))


def _extraction(fmt: str, seconds: float, size: int) -> Record:
    return records.parse(dict(measure="extraction", loader=None, kind=None, stack="main", profile="sample",
                              frames=FRAMES, seconds=[seconds], extractor="ffmpeg", format=fmt, bytes=size,
                              source_bytes=20 * MB))


NPY = {"extractor": "ffmpeg", "format": "npy"}
JPEG = {"extractor": "ffmpeg", "format": "jpeg"}


def _records(jpeg_extraction: float | None = None) -> list[Record]:
    """pyav delivers 100, 200 and 400 frames/s with 1, 2 and 4 workers (1,000 frames in 10, 5 and
    2.5 s), 4 CPU seconds an epoch with 2 workers; npy 1,000 frames/s with one worker, its store
    100 MB (100 KB a frame), extracted in 50 s."""
    out = [_epoch("pyav", 0, 10.0), _epoch("pyav", 1, 10.0), _epoch("pyav", 2, 5.0, cpu=4.0),
           _epoch("pyav", 4, 2.5, cpu=4.0),
           _epoch("npy", 1, 1.0, cpu=1.0, **NPY), _extraction("npy", 50.0, 100 * MB)]
    if jpeg_extraction is not None:  # 10 KB a frame, as fast as npy to read
        out += [_epoch("simplejpeg", 1, 1.0, cpu=1.0, **JPEG), _extraction("jpeg", jpeg_extraction, 10 * MB)]
    return out


def _assess(step: Step, epochs: int = 10, records: list[Record] | None = None) -> dict[str, training.Training]:
    records = records if records is not None else _records()
    strategies = plan.project(records, None, epochs)
    return {t.strategy.kind + ":" + str(t.strategy.decode_loader or t.strategy.frame_loader): t
            for t in training.assess(strategies, records, None, step)}


def test_the_target_comes_from_the_step_the_batch_and_the_frames_per_sample() -> None:
    # 100 frames a step every 0.5 s is 200 frames/s per GPU; two GPUs consume 400.
    assert Step(step_ms=500).target(BATCH, 10) == pytest.approx(200)
    assert Step(step_ms=500, gpus=2).target(BATCH, 10) == pytest.approx(400)
    assert Step(target_fps=300, gpus=2).target(BATCH, 10) == pytest.approx(600)
    assert Step().target(BATCH, 10) is None and not Step().given


def test_workers_needed_are_the_fewest_measured_that_reach_the_target() -> None:
    got = _assess(Step(step_ms=500))  # 200 frames/s
    pyav = got["decode:pyav"]
    assert [r.workers for r in pyav.rates] == [0, 1, 2, 4]
    assert [r.delivered for r in pyav.rates] == pytest.approx([100, 100, 200, 400])
    assert pyav.chosen.workers == 2 and pyav.keeps_up and pyav.row()["workers_needed"] == 2
    assert got["extract:npy"].chosen.workers == 1
    # Two GPUs share the machine: 400 frames/s takes 4 workers, 2 per GPU.
    two = _assess(Step(step_ms=500, gpus=2))["decode:pyav"]
    assert (two.chosen.workers, two.workers_per_gpu, two.keeps_up) == (4, 2, True)
    assert [r.workers for r in two.rates] == [2, 4]  # fewer workers than GPUs cannot be shared


def test_an_epoch_is_the_longer_of_the_gpu_and_loading() -> None:
    # 1,000 frames/s per GPU: the GPU's epoch is 1 s. pyav delivers 400 at most: 2.5 s, the GPU
    # waits 60% of the time; its 10 epochs take 25 s. npy keeps up: 1 s an epoch, 50 + 10 = 60 s.
    got = _assess(Step(step_ms=100))
    pyav, npy = got["decode:pyav"], got["extract:npy"]
    assert pyav.gpu_seconds == pytest.approx(1.0)
    assert (pyav.chosen.workers, pyav.epoch_seconds) == (4, pytest.approx(2.5))
    assert pyav.gpu_wait_fraction == pytest.approx(0.6) and not pyav.keeps_up
    assert pyav.row()["workers_needed"] is None and pyav.most_fps == pytest.approx(400)
    assert pyav.training_seconds == pytest.approx(25.0)
    assert npy.keeps_up and npy.training_seconds == pytest.approx(60.0)
    assert training.recommend(list(got.values()))["random-clip"][0] is pyav
    # Over 100 epochs extracting pays: 250 s against 150 s.
    many = _assess(Step(step_ms=100), epochs=100)
    best, why = training.recommend(list(many.values()))["random-clip"]
    assert best is many["extract:npy"] and "GPU waits" not in why
    assert "Loading bounds" in training.bound(many["decode:pyav"])
    assert "60%" in training.bound(many["decode:pyav"]) and "2.5x short" in training.bound(many["decode:pyav"])


def test_workers_zero_load_between_steps() -> None:
    # Only the main process: loading (10 s) and the GPU (5 s at 200 frames/s) add up.
    records = [_epoch("pyav", 0, 10.0)]
    (pyav,) = _assess(Step(step_ms=500), records=records).values()
    assert pyav.epoch_seconds == pytest.approx(15.0)
    assert pyav.gpu_wait_fraction == pytest.approx(10 / 15)


def test_within_five_percent_the_least_disk_wins_and_the_sentence_says_so() -> None:
    # Both stores keep up at 200 frames/s (5 s an epoch, 50 s for 10): npy's 100 MB store is made
    # in 50 s (100 s in all), the 10 MB JPEG store in 52 s (102 s: within 5%). pyav also keeps up
    # and needs no store at all: 50 s, the least, so it is recommended.
    got = _assess(Step(step_ms=500), records=_records(jpeg_extraction=52.0))
    best, why = training.recommend(list(got.values()))["random-clip"]
    assert best is got["decode:pyav"]
    assert why.startswith("Decoding with pyav keeps 1 GPU fed with 2 workers") and "no extraction needed" in why
    assert "0.8 of 16 cores" in why  # 4 CPU seconds per 1,000 frames, at 200 frames/s
    # Without pyav: npy is the fastest, JPEG within 5% with a tenth of the disk.
    records = [r for r in _records(jpeg_extraction=52.0) if r.loader != "pyav"]
    got = _assess(Step(step_ms=500), records=records)
    best, why = training.recommend(list(got.values()))["random-clip"]
    assert best is got["extract:simplejpeg"]
    assert "within 5% of the fastest" in why and "less disk" in why
    # 60 s to extract is more than 5% slower: npy again.
    records = [r for r in _records(jpeg_extraction=60.0) if r.loader != "pyav"]
    got = _assess(Step(step_ms=500), records=records)
    assert training.recommend(list(got.values()))["random-clip"][0] is got["extract:npy"]


def test_read_bandwidth_from_the_store_bytes_and_a_bandwidth_that_caps_it() -> None:
    npy = _assess(Step(step_ms=500))["extract:npy"]
    # 100 KB a frame at 200 frames/s.
    assert npy.bytes_per_frame == pytest.approx(100_000)
    assert npy.read_bytes_per_second == pytest.approx(20 * MB)
    assert npy.exceeds(10 * MB) and not npy.exceeds(30 * MB)
    # 10 MB/s feeds 100 frames/s of it: the GPU waits half the time.
    capped = _assess(Step(step_ms=500, storage_bandwidth=10 * MB))["extract:npy"]
    assert capped.delivered_fps == pytest.approx(100) and capped.gpu_wait_fraction == pytest.approx(0.5)
    words = training.bandwidth_words([npy], Step(step_ms=500, storage_bandwidth=10 * MB), [])
    assert "Need more than" in words and npy.strategy.name in words
    assert "No storage bandwidth given" in training.bandwidth_words([npy], Step(step_ms=500), [])


def test_cpu_cores_come_from_the_epochs_cpu_time_or_stay_unknown() -> None:
    got = _assess(Step(step_ms=500))
    assert got["decode:pyav"].cpu_cores == pytest.approx(0.8)  # 4 s / 1,000 frames x 200 frames/s
    slow = _assess(Step(step_ms=100))["decode:pyav"]  # loading bounds: 400 frames/s consumed
    assert slow.cpu_cores == pytest.approx(1.6)
    no_cpu = _assess(Step(step_ms=500), records=[_epoch("pyav", 1, 1.0)])["decode:pyav"]
    assert no_cpu.cpu_cores is None


def test_bad_steps_and_bandwidths_are_refused() -> None:
    for bad in ({"step_ms": 0}, {"step_ms": -1.0}, {"target_fps": float("nan")}, {"gpus": 0},
                {"step_ms": 10, "target_fps": 10}, {"storage_bandwidth": 0}):
        with pytest.raises(ValueError):
            Step(**bad)  # type: ignore[arg-type]
    assert training.parse_bandwidth("500MB/s") == 500 * 2**20
    assert training.parse_bandwidth("1G") == 2**30
    for bad_text in ("fast", "0MB/s", "-1G"):
        with pytest.raises(ValueError):
            training.parse_bandwidth(bad_text)


def test_without_a_step_nothing_is_assessed() -> None:
    assert training.assess(plan.project(_records(), None), _records(), None, Step()) == []


def _reports(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "reports", *args], capture_output=True, text=True, timeout=300,
                          check=False)


def test_with_a_step_the_verdict_names_the_training_recommendation_and_its_crossover_follows() -> None:
    from benchmarks.analysis import verdict

    # pyav at its 1-worker pace alone (10 s an epoch): loading alone, npy wins, 50 s + 10 x 1 s =
    # 60 s against 10 x 10 s = 100 s of decoding.
    records = [r for r in _records() if not (r.loader == "pyav" and r.workers != 1)]
    strategies = plan.project(records, None, 10)
    (alone,) = verdict.decide(strategies)
    assert alone.best is not None and alone.best.kind == "extract"  # 60 s against 100 s of decoding
    assert alone.crossover is not None and alone.crossover.pays_from == 6  # 50 + 6 x 1 <= 6 x 10 (56 <= 60; 55 > 50)
    # A step slow enough that pyav's 100 frames/s keep the GPU fed (a 10 s step of 100 frames: 10
    # frames/s): an epoch of training is the GPU's 100 s for both, so the store never pays.
    trainings = training.assess(strategies, records, None, Step(step_ms=10_000))
    (v,) = verdict.with_training(strategies, trainings)
    chosen, _ = training.recommend(trainings)["random-clip"]
    assert v.best is chosen.strategy and v.best.kind == "decode"
    assert v.total(v.best) == pytest.approx(chosen.training_seconds)
    assert v.crossover is not None and v.crossover.pays_from is None
    text = v.sentence()
    assert "with the step given" in text and "never pays" in text and "extract if you train" not in text


def test_a_step_every_strategy_keeps_up_with_recommends_no_extraction(tmp_path: Path) -> None:
    run = make_run(tmp_path / "run")
    write_dataset(run)
    done = _reports(str(run), "--step-ms", "100000", "--gpus", "2")
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader((run / "plan.csv").open()))
    assert rows and all(r["target_fps"] and r["training_seconds"] for r in rows)
    assert all(float(r["gpu_wait_fraction"]) == 0 for r in rows)
    html = (run / "report.html").read_text()
    assert "The model bounds training" in html
    assert "keeps 2 GPUs fed" in html and "no extraction needed" in html
    # Remade without the step: the columns are empty and the plan covers loading alone.
    done = _reports(str(run))
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader((run / "plan.csv").open()))
    assert all(r["target_fps"] == "" and r["training_seconds"] == "" for r in rows)
    assert "covers loading alone" in (run / "report.html").read_text()


@pytest.mark.parametrize("bad", [["--step-ms", "0"], ["--step-ms", "x"], ["--gpus", "0"],
                                 ["--storage-bandwidth", "fast"], ["--step-ms", "5", "--target-fps", "5"]])
def test_bad_step_options_are_usage_errors(tmp_path: Path, bad: list[str]) -> None:
    run = make_run(tmp_path / "run")
    done = _reports(str(run), *bad)
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr


def test_records_written_by_a_run_read_back_with_cpu_time(tmp_path: Path) -> None:
    record = _epoch("pyav", 2, 5.0, cpu=4.0)
    append(tmp_path / "records.jsonl", record)
    from benchmarks.records import read

    (back,) = read(tmp_path / "records.jsonl")
    assert training._cpu_per_frame(back) == pytest.approx(0.004)


def test_the_terminal_summary_says_what_bounds_training(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from benchmarks import cli

    run = make_run(tmp_path / "run")
    data = write_dataset(run)
    cli.summary(run / "records.jsonl", data)
    assert "loading alone: give --step-ms" in capsys.readouterr().out
    # 1 ms a step of 16 frames on 4 GPUs: 64,000 frames/s, more than any strategy delivers.
    cli.summary(run / "records.jsonl", dataclasses.replace(data, step_ms=1.0, gpus=4))
    printed = capsys.readouterr().out
    assert "training with a 1 ms step on 4 GPUs:" in printed
    assert printed.count("Loading bounds training") == 2 and "GPU waits" in printed


def test_the_step_is_stored_with_the_run_and_replaced_by_what_is_given() -> None:
    from benchmarks.dataset import Dataset

    data = dataclasses.replace(Dataset("/v", {}, 0, {}, 1, 1, 1), step_ms=50.0, gpus=2,
                               storage_bandwidth=10 * MB)
    assert training.step_of(data) == Step(step_ms=50.0, gpus=2, storage_bandwidth=10 * MB)
    assert training.step_of(data, target_fps=300) == Step(target_fps=300, gpus=2, storage_bandwidth=10 * MB)
    assert training.step_of(data, gpus=8).gpus == 8
    assert training.step_of(Dataset.from_json({**data.to_json(), "step_ms": None})) == \
        Step(gpus=2, storage_bandwidth=10 * MB)
    assert not training.step_of(None).given


@pytest.mark.parametrize("bad", [["--step-ms", "0"], ["--step-ms", "nan"], ["--target-fps", "-3"], ["--gpus", "1.5"],
                                 ["--storage-bandwidth", "0"], ["--step-ms", "5", "--target-fps", "5"]])
def test_bad_step_options_of_the_benchmarks_are_usage_errors(bad: list[str],
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    from benchmarks import cli

    with pytest.raises(SystemExit) as exc:
        cli.parser().parse_args(bad)
    assert exc.value.code == 2 and bad[0] in capsys.readouterr().err
    args = cli.parser().parse_args(["--step-ms", "40", "--gpus", "2", "--storage-bandwidth", "500MB/s"])
    assert training.step_of(None, **training.given(args)) == Step(step_ms=40, gpus=2, storage_bandwidth=500 * 2**20)


def test_without_a_bandwidth_reads_are_compared_with_the_fastest_cold_read_measured() -> None:
    npy = _assess(Step(step_ms=500))["extract:npy"]  # needs 20 MB/s
    cold = [dataclasses.replace(_epoch("npy", 1, seconds, **NPY), cache="cold", options={"files_bytes": 10 * MB})
            for seconds in (1.0, 2.0)]
    assert training.measured_read_rate(cold) == pytest.approx(10 * MB)  # 10 MB in its shortest epoch, 1 s
    words = training.bandwidth_words([npy], Step(step_ms=500), cold)
    assert "fastest cold read measured here" in words and npy.strategy.name in words
    fast = [dataclasses.replace(cold[0], options={"files_bytes": 100 * MB})]
    assert training.bandwidth_words([npy], Step(step_ms=500), fast).startswith("Every strategy reads within")


def test_a_stored_step_that_cannot_be_planned_with_is_named(tmp_path: Path) -> None:
    import json

    run = make_run(tmp_path / "run")
    write_dataset(run)
    path = run / "dataset.json"
    for field, value in (("step_ms", 0), ("gpus", 0), ("storage_bandwidth", -5)):
        data = json.loads(path.read_text())
        path.write_text(json.dumps({**data, field: value}))
        done = _reports(str(run))
        assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
        assert field in done.stderr and "dataset.json" in done.stderr
        path.write_text(json.dumps(data))
