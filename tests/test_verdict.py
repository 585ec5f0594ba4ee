"""The verdict: one answer per pattern, the same in the terminal and the report, and advice that
follows from the cumulative totals it stands beside."""

from __future__ import annotations

import html
import math
import re
import subprocess
import sys
from pathlib import Path

import pytest
import report_fixture as fx

import reports
from benchmarks.analysis import verdict
from benchmarks.analysis.crossover import crossover_epochs, cumulative
from benchmarks.analysis.plan import Store, Strategy
from benchmarks.records import Record

SHOWN = 30  # epoch counts checked: every one from 1 to this


@pytest.mark.parametrize(("extract", "decode", "frames", "kind"), [
    (24.0, 10.0, 0.0, "fractional"),  # k* = 2.4: from 3 epochs
    (3.0, 10.0, 0.0, "below one"),  # k* = 0.3: from the first epoch
    (30.0, 10.0, 0.0, "integer"),  # k* = 3: a tie at 3 epochs, which counts
    (0.7, 0.3, 0.2, "integer, inexact"),  # k* = 7 in decimals, 6.99999... or 7.00000...1 in binary
    (5.0, 2.0, 2.0, "never: as fast"),
    (5.0, 2.0, 3.0, "never: slower"),
])
def test_the_advice_agrees_with_the_cumulative_totals_at_every_epoch(extract: float, decode: float, frames: float,
                                                                     kind: str) -> None:
    k = crossover_epochs(extract, decode, frames)
    n = verdict.pays_from(extract, decode, frames)
    said = verdict.phrase(k, k, k, n, "pyav")
    decoding, extracting = cumulative(extract, decode, frames, SHOWN)
    for epochs, (d, f) in enumerate(zip(decoding, extracting, strict=True), start=1):
        pays = f <= d * (1 + 1e-9)
        assert pays == (n is not None and epochs >= n), (kind, epochs, d, f, said)
    if kind.startswith("never"):
        assert n is None and said == "extraction never pays for itself here: decode with pyav"
    else:
        assert f"extract if you train for {n} epoch{'s' if n != 1 else ''} or more" in said
        assert f"after {k:.1f} epochs (one epoch timed)" in said  # one figure, written once
        assert n == {"fractional": 3, "below one": 1, "integer": 3, "integer, inexact": 7}[kind]


def test_a_range_is_written_once_when_it_is_one_figure() -> None:
    assert verdict.epoch_range(0.31, 0.31) == " (one epoch timed)"
    assert verdict.epoch_range(0.31, 0.34) == ""  # reads as one figure, but several epochs were timed
    assert verdict.epoch_range(1.5, 2.3) == " (1.5-2.3)"
    assert verdict.epoch_range(1.5, None) == " (1.5-never)"
    assert verdict.epoch_range(None, None) == ""


def _strategy(pattern: str, loader: str, epoch: float, store: Store | None = None, extraction: float = 0.0,
              disk: int = 0, fits: bool = True, spread: float = 0.1) -> Strategy:
    return Strategy(pattern=pattern, workers=2, decode_loader=None if store else loader,
                    frame_loader=loader if store else None, store=store, dataset_videos=10, dataset_frames=1000,
                    extraction_seconds=extraction, epoch_seconds=epoch, epoch_seconds_low=epoch * (1 - spread),
                    epoch_seconds_high=epoch * (1 + spread), epochs=20, disk_bytes=disk, read_bytes=disk,
                    fits_disk=fits, fits_ram=True, cache="warm", epoch_from="epoch timings of the sample (warm)")


JPEG = Store("ffmpeg", "jpeg", 90, 256)
NPY = Store("ffmpeg", "npy", None, 256)


def test_the_verdict_names_the_best_strategy_its_contrast_and_its_crossover() -> None:
    strategies = [
        _strategy("random", "pyav", 300.0), _strategy("random", "decord", 200.0),
        _strategy("random", "simplejpeg", 60.0, JPEG, extraction=600.0, disk=2**30),
        _strategy("random", "npy", 10.0, NPY, extraction=300.0, disk=40 * 2**30, fits=False),
        _strategy("sequential", "pyav", 30.0),
        _strategy("sequential", "simplejpeg", 25.0, JPEG, extraction=600.0, disk=2**30),
    ]
    both = verdict.decide(strategies)
    assert [v.pattern for v in both] == ["random", "sequential"]
    (v,) = verdict.decide(strategies, "random")
    assert v.best is not None and v.best.frame_loader == "simplejpeg"  # npy is faster but over the disk budget
    assert v.contrast is not None and v.contrast.decode_loader == "decord"  # the best decoder, for contrast
    assert [s.frame_loader for s in v.left_out] == ["npy"]
    assert v.crossover is not None and v.crossover.epochs == pytest.approx(600 / 140)
    assert v.crossover.pays_from == 5
    sentence = v.sentence("10 videos")
    assert sentence.startswith("For random, 20 epochs over 10 videos: extract to ffmpeg-jpeg-q90-s256, read with "
                               "simplejpeg, 30.0 min in all (1 GiB on disk, 10.0 min of it making the store once)")
    assert "decode the videos with decord would take 36.7 min more" in sentence
    assert "extract if you train for 5 epochs or more" in sentence
    assert sentence.endswith("Extract to ffmpeg-npy-s256, read with npy would take 8.3 min, but its store (40 GiB) "
                             "does not fit the disk budget.")
    headers, rows = verdict.table([v])
    assert [r[:3] for r in rows] == [["best", v.best.name, "30.0 min"], ["against", v.contrast.name, "66.7 min"]]
    # Sequential: decoding wins at 20 epochs, and the store would pay only from 120.
    (seq,) = verdict.decide(strategies, "sequential")
    assert seq.best is not None and seq.best.kind == "decode" and seq.crossover is not None
    assert seq.crossover.pays_from == 120 and "extract if you train for 120 epochs or more" in seq.sentence()
    with pytest.raises(verdict.UnknownPattern, match="'uniform-8'.*random, sequential"):
        verdict.decide(strategies, "uniform-8")


def test_the_terminal_and_the_report_give_the_same_verdict(tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    from benchmarks import cli

    run_dir = fx.make_run(tmp_path / "run")
    data = fx.write_dataset(run_dir, disk_budget=3 * 2**30)
    for pattern in (None, "random"):
        cli.summary(run_dir / "records.jsonl", data, pattern)
        printed = capsys.readouterr().out
        page = reports.build(run_dir, pattern=pattern)["report"].read_text(encoding="utf-8")
        said = page[page.index('id="verdict"'):page.index("</div>", page.index('id="verdict"'))]
        sentence = printed.split("verdict: ", 1)[1].splitlines()[0]
        assert html.escape(sentence) in said
        for line in printed.split("verdict: ", 1)[1].splitlines()[2:]:  # the table's rows
            assert all(html.escape(cell) in said for cell in line.split("  ") if cell.strip())
    assert sentence.startswith("For random, 6 epochs over 20 videos")
    assert "time budget" not in printed  # no budget: nothing said
    data.budgets = {"main": "budget 3 min: videos 4 -> 1"}
    cli.summary(run_dir / "records.jsonl", data, "random")
    last = capsys.readouterr().out.splitlines()[-1]
    assert last == "measured under a time budget (what it kept and dropped): main: budget 3 min: videos 4 -> 1"
    # The store would pay after k* epochs of the whole dataset (about 20 here), and the advice is ceil(k*);
    # its range may run to "never" (the two classes, each sampled once, take the spread of the codec's).
    said = re.search(r"extraction pays for itself after (\d+\.\d) epochs \([\d.]+-(?:[\d.]+|never)\): "
                     r"extract if you train for (\d+) epochs or more", sentence)
    assert said is not None, sentence
    assert 15 < float(said[1]) < 25 and int(said[2]) == math.ceil(float(said[1]))


def test_pattern_picks_the_verdict_on_the_command_line(tmp_path: Path) -> None:
    run_dir = fx.make_run(tmp_path / "run")
    fx.write_dataset(run_dir)
    done = subprocess.run([sys.executable, "-m", "reports", str(run_dir), "--pattern", "sequential"],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert "For sequential, 6 epochs" in (run_dir / "report.html").read_text(encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "reports", str(run_dir), "--pattern", "uniform-8"],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 2 and "'uniform-8'" in done.stderr and "Traceback" not in done.stderr


def _decoders(open_decord: float, threads: dict[str, int], first: float) -> list[Record]:
    """Four decoders: decord the fastest per frame and the slowest in epochs."""
    per_frame = {"decord": 0.01, "pyav": 0.02, "torchcodec": 0.03, "cv2-grab": 0.04}  # seconds per 100 frames
    epoch = {"decord": 40.0, "pyav": 10.0, "torchcodec": 12.0, "cv2-grab": 14.0}
    out = []
    for loader, s in per_frame.items():
        out.append(Record(measure="per_frame", loader=loader, kind="decode", stack="main", profile="v1",
                          pattern="random", frames=100, seconds=[s] * 3,
                          threads=threads if loader == "decord" else {"ffmpeg": 1}).with_fps())
        out.append(Record(measure="open", loader=loader, kind="decode", stack="main", profile="v1",
                          seconds=[open_decord if loader == "decord" else 0.01] * 3))
        seconds = [first if loader == "decord" else epoch[loader], epoch[loader], epoch[loader]]
        out.append(Record(measure="epoch", loader=loader, kind="decode", stack="main", profile="corpus",
                          pattern="random", frames=1000, seconds=seconds, workers=2, batch_size=16,
                          threads={"ffmpeg": 1}).with_fps())
    return out


def test_a_loader_fast_per_frame_and_slow_in_epochs_is_explained_from_the_records() -> None:
    from reports import advice, tables

    (found,) = advice.recommend(tables.build(_decoders(0.2, {"ffmpeg": 8}, 90.0)))
    said = [s for s in found.sentences if s.startswith("decord ranks")]
    assert said == [
        "decord ranks 1st of 4 per frame but 4th in epochs (2 workers): opening a video costs decord 200 ms "
        "against 10 ms for pyav, and each of the 2 DataLoader workers opens every video it reads again; "
        "decord's first epoch took 90 s against 40 s for a median one (start-up: workers starting, libraries "
        "loading); per frame decord ran with threads ffmpeg 8, in epochs with ffmpeg 1 in each worker."]
    # Nothing in the records stands out: the report says so rather than guess.
    (found,) = advice.recommend(tables.build(_decoders(0.01, {"ffmpeg": 1}, 40.0)))
    said = [s for s in found.sentences if s.startswith("decord ranks")]
    assert len(said) == 1 and "the records show no open cost, start-up or thread count" in said[0]
    assert "in batches of 16" in said[0]
    # Ranks within two places of each other need no word.
    close = [r for r in _decoders(0.2, {"ffmpeg": 8}, 90.0) if r.loader != "cv2-grab"]
    (found,) = advice.recommend(tables.build(close))
    assert not [s for s in found.sentences if "ranks" in s]


def _per_frame(loader: str, stack: str, seconds: list[float], kind: str = "decode") -> Record:
    return Record(measure="per_frame", loader=loader, kind=kind, stack=stack, profile="v1", pattern="random",
                  frames=100, seconds=seconds).with_fps()


def test_loaders_whose_ranges_overlap_are_tied_not_ranked() -> None:
    from reports import advice, tables

    overlapping = [_per_frame("pyav", "main", [0.10, 0.11, 0.12, 0.13]),
                   _per_frame("torchcodec", "main", [0.105, 0.115, 0.125, 0.135])]
    (found,) = advice.recommend(tables.build(overlapping))
    assert found.sentences[0].startswith("pyav and torchcodec are tied as the fastest decoder")
    assert "neither is ranked above the other" in found.sentences[0]
    apart = [_per_frame("pyav", "main", [0.10, 0.11, 0.12, 0.13]),
             _per_frame("torchcodec", "main", [0.20, 0.21, 0.22, 0.23])]
    (found,) = advice.recommend(tables.build(apart))
    assert found.sentences[0].startswith("pyav is the fastest decoder") and "tied" not in found.sentences[0]
    assert "different dependency stacks" not in found.sentences[0]
    # Across stacks, measured one after the other: the sentence says the difference may be the machine's.
    stacks = [_per_frame("pyav", "main", [0.10, 0.11, 0.12, 0.13]),
              _per_frame("torchvision-videoreader", "torchvision", [0.20, 0.21, 0.22, 0.23])]
    (found,) = advice.recommend(tables.build(stacks))
    assert "different dependency stacks (main, torchvision)" in found.sentences[0]
