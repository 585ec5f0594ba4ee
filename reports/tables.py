"""Records -> the tables behind every CSV file and every chart of a report.

A run's ``records.jsonl`` holds one line per measurement from every dependency stack. Records
are read defensively: a field may be missing or ``None`` (an unavailable loader was never
timed, a harness may not fill every field), and such a value stays empty in the tables rather
than becoming a zero that would look like a measurement.
"""

from __future__ import annotations

import json
import statistics
from pathlib import Path
from typing import Any

import pandas as pd
from scipy.stats import mannwhitneyu

from benchmarks.analysis import drift as drift_
from benchmarks.analysis import verdict
from benchmarks.analysis.refusals import refusals
from reports import results
from reports.results import (
    DEFAULT_EPOCHS,
    PLAN_COLUMNS,
    Dataset,
    Record,
    Step,
    gop_of,
    latest,
    measured,
    overhead_rows,
    pairs,
    project,
    record_fps,
    sample_model,
    skipped,
    step_of,
    training,
    unreadable,
    valid_seconds,
)

SUMMARY_COLUMNS = [
    "stack", "loader", "kind", "measure", "pattern", "profile", "workers", "batch_size",
    "extractor", "format", "quality", "store_size", "gop", "cache", "status", "reason", "exact",
    "fps_median", "fps_p25", "fps_p75", "frames", "rounds", "seconds_per_frame", "first_epoch_seconds",
    "open_seconds", "peak_rss_bytes", "library", "threads",
]
EXTRACTION_COLUMNS = [
    "stack", "extractor", "format", "quality", "store_size", "gop", "profile", "status", "reason", "seconds",
    "frames",
    "fps", "bytes", "bytes_per_frame", "source_bytes", "size_vs_source",
]
CROSSOVER_COLUMNS = [
    "profile", "pattern", "workers", "batch_size", "decode_loader", "decode_stack", "frame_loader",
    "frame_stack", "extractor", "format", "quality", "store_size", "gop", "cache", "decode_format",
    "decode_store_size", "decode_gop", "decode_extraction_seconds", "extraction_seconds", "epoch_seconds_decode",
    "epoch_seconds_frames", "crossover_epochs", "crossover_epochs_low", "crossover_epochs_high",
]
OVERHEAD_COLUMNS = [
    "pattern", "profile", "baseline_seconds_per_frame", "fastest_loader", "fastest_seconds_per_frame",
    "share_of_fastest", "fastest_decode_loader", "fastest_decode_seconds_per_frame", "share_of_fastest_decode",
]
COMPARE_COLUMNS = ["table", "row", "metric", "old", "new", "change_pct", "p_value", "significant"]
# A change is reported as one when the two runs' rounds differ at this level (Mann-Whitney U).
SIGNIFICANCE = 0.05
# Which direction is better for each compared metric, so a report can tell a regression.
HIGHER_IS_BETTER = {"fps_median": True, "open_seconds": False, "peak_rss_bytes": False,
                    "seconds": False, "bytes": False}


def records_path(run: str | Path) -> Path:
    """``records.jsonl`` of a run directory (or the file itself when given one)."""
    path = Path(run)
    return path if path.is_file() else path / "records.jsonl"


class NothingToReport(ValueError):
    """The run measured nothing: a report would be built on zero frames."""


def load(run: str | Path, skipped: list[results.Malformed] | None = None) -> list[Record]:
    """Every record of a run; raises FileNotFoundError naming the path when there is none, and
    NothingToReport, saying why, when none of them is a measurement. Lines that are not records
    (bad JSON, a wrong type, NaN, Infinity, 10^400, negative seconds) are skipped with a warning
    naming them, and added to ``skipped`` for the report to say so too."""
    path = records_path(run)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no records (run `nox -s bench` first)")
    found, malformed = results.scan(path)
    if malformed:
        results.log.warning("%s", results.describe_malformed(path, malformed))
        if skipped is not None:
            skipped.extend(malformed)
    if not any(measured(r) for r in found):
        why = nothing_measured(path, found)
        if malformed:
            why += f"\n  ({results.describe_malformed(path, malformed)})"
        raise NothingToReport(why)
    return found


def skipped_lines(path: Path, malformed: list[results.Malformed]) -> pd.DataFrame:
    """The lines of ``path`` skipped as not records, for the report: file, line, reason."""
    return pd.DataFrame([(str(path), m.line, m.why) for m in malformed], columns=["file", "line", "reason"])


def nothing_measured(path: Path, records: list[Record], shown: int = 8) -> str:
    """Why a run has nothing to report: its records, and the distinct reasons they give."""
    if not records:
        return f"{path}: no records in it (run `nox -s bench` first)"
    reasons = list(dict.fromkeys(f"{r.loader or r.extractor or 'video ' + r.profile}: {r.reason}"
                                 for r in records if r.reason))
    listed = "".join(f"\n  {reason}" for reason in reasons[:shown])
    more = f"\n  and {len(reasons) - shown} more reasons" if len(reasons) > shown else ""
    count = f"{len(records)} record{'s' if len(records) != 1 else ''}"
    return (f"{path}: nothing was measured in this run ({count}, none with frames read), "
            f"so there is no report to make{'; why:' if reasons else ''}{listed}{more}")


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def _open_rounds(records: list[Record]) -> dict[tuple[Any, ...], list[float]]:
    """Every round's seconds of each open measurement, by loader and store (and by loader alone)."""
    costs: dict[tuple[Any, ...], list[float]] = {}
    for r in records:
        seconds = valid_seconds(r)
        if r.measure == "open" and r.status == "ok" and seconds:
            costs[(r.stack, r.loader, r.profile, r.store)] = seconds
            costs.setdefault((r.stack, r.loader, r.profile), seconds)
    return costs


def summary(records: list[Record]) -> pd.DataFrame:
    """One row per loader x pattern x profile x workers (per-frame rows have no workers)."""
    return _summary_and_rounds(records)[0]


def _summary_and_rounds(records: list[Record]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The summary table, and beside it every row's rounds (frames/s of each round, seconds of
    each open) for :func:`compare`'s test; the rounds are no CSV column."""
    records = latest(records)
    opens = _open_rounds(records)
    rows, rounds = [], []
    for r in records:
        if r.measure not in ("per_frame", "epoch"):
            continue
        fps_median, fps_p25, fps_p75 = record_fps(r)
        open_rounds = opens.get((r.stack, r.loader, r.profile, r.store),
                                opens.get((r.stack, r.loader, r.profile), []))
        open_seconds = statistics.median(open_rounds) if open_rounds else None
        seconds = valid_seconds(r)
        rows.append({
            "stack": r.stack, "loader": r.loader, "kind": r.kind, "measure": r.measure,
            "pattern": r.pattern, "profile": r.profile, "workers": r.workers,
            "batch_size": r.batch_size, "extractor": r.extractor, "format": r.format,
            "quality": r.quality, "store_size": r.store_size, "gop": gop_of(r), "cache": r.cache,
            "status": r.status, "reason": r.reason, "exact": r.exact,
            "fps_median": fps_median, "fps_p25": fps_p25, "fps_p75": fps_p75,
            "frames": r.frames or None, "rounds": len(valid_seconds(r)) or None,
            "seconds_per_frame": 1 / fps_median if fps_median else None,
            # An epoch's first is kept in the median and also shown alone: it pays for cold caches.
            "first_epoch_seconds": seconds[0] if r.measure == "epoch" and seconds else None,
            "open_seconds": open_seconds, "peak_rss_bytes": r.peak_rss_bytes,
            "library": r.library,
            "threads": json.dumps(r.threads, sort_keys=True) if r.threads else None,
        })
        rounds.append({"fps_median": [r.frames / s for s in seconds] if r.status == "ok" and r.frames else [],
                       "open_seconds": open_rounds})
    table = pd.DataFrame(rows, columns=SUMMARY_COLUMNS)
    table["_rounds"] = rounds
    for column in ("workers", "batch_size", "quality", "store_size", "gop", "frames", "rounds", "peak_rss_bytes"):
        table[column] = table[column].astype("Int64")
    table["exact"] = table["exact"].astype("boolean")
    table = table.sort_values(["pattern", "profile", "measure", "workers", "kind", "fps_median"],
                              ascending=[True, True, False, True, True, False], na_position="last",
                              kind="stable").reset_index(drop=True)
    return table.drop(columns="_rounds"), table[[*SUMMARY_KEY, "_rounds"]]


def extraction(records: list[Record]) -> pd.DataFrame:
    """One row per extractor x format x quality (x corpus profile) with time and disk."""
    rows = []
    for r in latest(records):
        if r.measure != "extraction":
            continue
        seconds = _median(valid_seconds(r))
        frames = r.frames or None
        rows.append({
            "stack": r.stack, "extractor": r.extractor, "format": r.format, "quality": r.quality,
            "store_size": r.store_size, "gop": gop_of(r), "profile": r.profile,
            "status": r.status, "reason": r.reason, "seconds": seconds,
            "frames": frames, "fps": frames / seconds if frames and seconds else None,
            "bytes": r.bytes, "bytes_per_frame": r.bytes / frames if r.bytes is not None and frames
            else None,
            "source_bytes": r.source_bytes,
            "size_vs_source": r.bytes / r.source_bytes if r.bytes is not None and r.source_bytes
            else None,
        })
    table = pd.DataFrame(rows, columns=EXTRACTION_COLUMNS)
    for column in ("quality", "store_size", "gop", "frames", "bytes", "source_bytes"):
        table[column] = table[column].astype("Int64")
    return table.sort_values(["extractor", "format", "quality", "store_size", "gop", "profile"], na_position="last",
                             kind="stable").reset_index(drop=True)


def crossover(records: list[Record], dataset: Dataset | None = None) -> pd.DataFrame:
    """Every decode loader against every frame loader, per pattern, profile and workers, from
    per-epoch measurements: after how many epochs extraction has paid for itself (empty: never,
    or no extraction measured). With the run's ``dataset``, the epochs are the epoch model's over
    the whole measured videos (:func:`benchmarks.analysis.plan.sample_model`)."""
    rows = [{
        "profile": p.profile, "pattern": p.pattern, "workers": p.workers, "batch_size": p.batch_size,
        "decode_loader": p.decode, "decode_stack": p.decode_stack, "frame_loader": p.frames,
        "frame_stack": p.frames_stack, "extractor": p.extractor or None, "format": p.format or None,
        "quality": p.quality, "store_size": p.store_size, "gop": p.gop, "cache": p.cache,
        "decode_format": p.decode_format, "decode_store_size": p.decode_store_size, "decode_gop": p.decode_gop,
        "decode_extraction_seconds": p.decode_extract_seconds, "extraction_seconds": p.extract_seconds,
        "epoch_seconds_decode": p.epoch_decode,
        "epoch_seconds_frames": p.epoch_frames, "crossover_epochs": p.epochs,
        "crossover_epochs_low": p.epochs_low, "crossover_epochs_high": p.epochs_high,
    } for p in pairs(latest(records), unextracted=True, model=sample_model(latest(records), dataset))]
    table = pd.DataFrame(rows, columns=CROSSOVER_COLUMNS)
    for column in ("workers", "batch_size", "quality", "store_size", "gop", "decode_store_size", "decode_gop"):
        table[column] = table[column].astype("Int64")
    for column in ("crossover_epochs", "crossover_epochs_low", "crossover_epochs_high"):
        table[column] = table[column].astype("Float64")
    return table.sort_values(["pattern", "profile", "workers", "epoch_seconds_decode",
                              "epoch_seconds_frames"], kind="stable").reset_index(drop=True)


def _flatten(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{name}."))
        elif isinstance(value, list | tuple):
            flat[name] = ", ".join(str(v) for v in value)
        else:
            flat[name] = value
    return flat


def environment(records: list[Record]) -> pd.DataFrame:
    """One row per dependency stack: what it ran on, with which libraries."""
    stacks: dict[str, list[Record]] = {}
    for r in records:
        stacks.setdefault(r.stack, []).append(r)
    rows = []
    for stack, group in stacks.items():
        env: dict[str, Any] = {}
        for r in group:  # the fullest environment any of its records carries
            flat = _flatten(r.env) if isinstance(r.env, dict) else {}
            if len(flat) > len(env):
                env = flat
        rows.append({
            "stack": stack,
            "run_id": ", ".join(sorted({r.run_id for r in group if r.run_id})),
            "records": len(group),
            "loaders": ", ".join(sorted({r.loader for r in group if r.loader and r.measure != drift_.ANCHOR})),
            "libraries": "; ".join(sorted({r.library for r in group if r.library})),
            **{k: v for k, v in env.items() if k not in ("stack", "run_id")},
        })
    return pd.DataFrame(rows, columns=None if rows else ["stack", "run_id", "records", "loaders",
                                                          "libraries"])


DRIFT_COLUMNS = ["stack", "start_fps", "end_fps", "timed", "within", "against_main"]


def drift(records: list[Record]) -> pd.DataFrame:
    """One row per stack with anchor records: its anchor's frames/s at its start and end, how many
    times it was timed in all, its slowest against its fastest (``within``, below 1 where the slowest
    came later), and its anchor against the main stack's (:mod:`benchmarks.analysis.drift`)."""
    drifts = drift_.drift(records)
    table = pd.DataFrame([{"stack": d.stack, "start_fps": d.start, "end_fps": d.end, "timed": len(d.timed),
                           "within": d.within, "against_main": d.against_reference} for d in drifts],
                         columns=DRIFT_COLUMNS)
    table.attrs["drifts"] = drifts  # for the advice's comparisons across stacks (drift_.between)
    return table


def unreadable_videos(records: list[Record]) -> pd.DataFrame:
    """The videos left out of the run because they could not be read, and why."""
    return pd.DataFrame(list(unreadable(latest(records)).items()), columns=["video", "reason"])


def unavailable(records: list[Record]) -> pd.DataFrame:
    """Loaders (and extractions, and videos that could not be probed) that could not run, with
    each distinct reason once."""
    seen: dict[tuple[Any, ...], dict[str, None]] = {}
    for r in latest(records):
        if r.status in ("unavailable", "error"):
            if r.loader:
                name = r.loader
            elif r.extractor:
                name = f"extraction {r.extractor} {r.format or ''}".rstrip()
            else:
                name = f"video {r.profile}"
            where = " ".join(str(x) for x in (r.measure, r.pattern, r.profile) if x)
            key = (r.stack, name, r.kind, r.status, r.reason or "no reason given")
            seen.setdefault(key, {})[where] = None
    rows = [(*key, ", ".join(where)) for key, where in seen.items()]
    rows += missing_stacks(records)
    return pd.DataFrame(rows, columns=["stack", "loader", "kind", "status", "reason", "where"])


def missing_stacks(records: list[Record]) -> list[tuple[str, str, None, str, str, str]]:
    """A row for every dependency stack with no record in a run that has some: its loaders were
    not measured because its environment failed to build or its session did not run."""
    present = {r.stack for r in records}
    return [(stack, ", ".join(names), None, "missing",
             f"no records from the {stack} stack in this run: its environment failed to build or "
             f"its session did not run (nox -s bench-{stack} -- --run-id RUN appends them)", "every measurement")
            for stack, names in results.STACKS.items() if present and stack not in present]


def label(row: dict[str, Any] | pd.Series, *fields: str) -> str:
    """A short, readable name for a table row: the non-empty values of ``fields``."""
    parts = []
    for field in fields:
        value = row.get(field)
        if value is None or (not isinstance(value, str) and pd.isna(value)):
            continue
        parts.append(f"{field} {value}" if field in ("workers", "quality") else str(value))
    return " | ".join(parts)


SUMMARY_KEY = ("stack", "loader", "extractor", "format", "quality", "store_size", "gop", "cache", "measure",
               "pattern", "profile", "workers")
EXTRACTION_KEY = ("stack", "extractor", "format", "quality", "store_size", "gop", "profile")


def _indexed(table: pd.DataFrame, key: tuple[str, ...]) -> dict[str, dict[str, Any]]:
    return {label(row, *key): row for row in table.to_dict("records")}


def _number(value: Any) -> float | None:
    if value is None or pd.isna(value):
        return None
    return float(value)


def significance(before: list[float], after: list[float]) -> float | None:
    """p-value of the two runs' rounds coming from one distribution (two-sided Mann-Whitney U),
    or None when either side has too few rounds for any difference to show (a single extraction,
    a memory peak)."""
    if len(before) < 2 or len(after) < 2:
        return None
    return float(mannwhitneyu(before, after, alternative="two-sided").pvalue)


def compare(new: dict[str, pd.DataFrame], old: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Change per row and metric from ``old`` to ``new`` in percent, and whether it is one: a
    change is ``significant`` only when the rounds of the two runs differ in distribution (p below
    :data:`SIGNIFICANCE`), never for its size alone; empty where it cannot be tested. Rows present
    in one run only keep an empty change."""
    rows = []
    for table, key, metrics in (("summary", SUMMARY_KEY, ("fps_median", "open_seconds", "peak_rss_bytes")),
                                ("extraction", EXTRACTION_KEY, ("seconds", "bytes"))):
        before, after = _indexed(old[table], key), _indexed(new[table], key)
        rounds_before, rounds_after = _rounds(old, table, key), _rounds(new, table, key)
        for name in list(after) + [n for n in before if n not in after]:
            for metric in metrics:
                a = _number(before.get(name, {}).get(metric))
                b = _number(after.get(name, {}).get(metric))
                if a is None and b is None:
                    continue
                change = (b - a) / a * 100 if a and b is not None else None
                p = None if change is None else significance(rounds_before.get(name, {}).get(metric, []),
                                                             rounds_after.get(name, {}).get(metric, []))
                rows.append({"table": table, "row": name, "metric": metric, "old": a, "new": b,
                             "change_pct": change, "p_value": p,
                             "significant": None if p is None else p < SIGNIFICANCE})
    return pd.DataFrame(rows, columns=COMPARE_COLUMNS).astype(
        {"change_pct": "Float64", "p_value": "Float64", "significant": "boolean"})


def _rounds(tables: dict[str, pd.DataFrame], table: str, key: tuple[str, ...]) -> dict[str, dict[str, list[float]]]:
    """Row label -> metric -> rounds, for the tables that keep rounds beside them (``summary``)."""
    kept = tables.get(f"{table}_rounds")
    if kept is None:
        return {}
    return {label(row, *key): row["_rounds"] for row in kept.to_dict("records")}


def overhead(records: list[Record]) -> pd.DataFrame:
    """The baseline's seconds per frame as a share of the fastest loader's, per pattern and
    profile (per-frame measurements): how much of a measured time is the harness's own."""
    return pd.DataFrame(overhead_rows(records), columns=OVERHEAD_COLUMNS)


# Beside plan.csv's columns, what the report needs of each strategy (written to no CSV);
# most_fps: the most any measured workers setting delivers, against the step.
PLAN_EXTRA = ["pattern", "name", "kind", "workers", "epoch_from", "read_bytes", "most_fps", "unranked"]
# plan.csv: the plan's columns, then what a machine needs apart from the strategy's words.
PLAN_CSV = [*PLAN_COLUMNS, "pattern", "workers"]


def plan(records: list[Record], dataset: Dataset | None, pattern: str | None = None,
         step: Step | None = None) -> pd.DataFrame:
    """One row per strategy and pattern, projected to the run's dataset for its epochs and ranked
    (per pattern: those within the disk budget first, then by total seconds); ``unranked`` marks one
    the verdict cannot rank against its pattern's best (another stack, within the drift). ``attrs`` holds
    what the plan is for: ``epochs``, ``disk_budget`` (bytes or None), ``dataset`` (one line or
    None: a run made before plans, projected to its measured videos), ``ram`` (bytes or None),
    ``budgets`` (stack -> what a time budget dropped from its measurements), ``skipped`` (every
    file and folder left out of the dataset: {"path", "reason"}), ``verdicts``
    (:func:`benchmarks.analysis.verdict.decide`, one per pattern, strategies of different stacks
    ranked only beyond the run's drift), ``pattern`` (the one the
    verdict is for: ``pattern``, else the dataset's ``--pattern``, else None for every pattern;
    verdict.UnknownPattern for one the run has no strategy for), ``refused`` (loader ->
    :class:`benchmarks.analysis.refusals.Refusal`); with a training step (``step``, else the one
    stored with the dataset), ``step`` (its line, None without one), ``training`` (pattern -> the
    recommendation's sentence and whether loading or the model bounds training) and
    ``bandwidth`` (what the read rates were compared against)."""
    epochs = dataset.epochs if dataset else DEFAULT_EPOCHS
    budget = dataset.disk_budget_bytes if dataset else None
    kept = latest(records)
    strategies = project(kept, dataset, epochs, budget)
    refused = refusals(kept)
    step = step if step is not None else step_of(dataset)
    trainings = training.assess(strategies, kept, dataset, step)
    against = {id(t.strategy): t for t in trainings}
    rows = [{**s.row(), **(against[id(s)].row() if id(s) in against else {}), "pattern": s.pattern, "name": s.name,
             "kind": s.kind, "workers": s.workers,
             "epoch_from": s.epoch_from, "read_bytes": s.read_bytes,
             "most_fps": against[id(s)].most_fps if id(s) in against else None} for s in strategies]
    table = pd.DataFrame(rows, columns=PLAN_COLUMNS + PLAN_EXTRA)
    for column in ("store_size", "quality", "dataset_videos", "dataset_frames", "disk_bytes", "workers",
                   "read_bytes", "workers_needed"):
        table[column] = table[column].astype("Int64")
    for column in ("fits_disk", "fits_ram"):
        table[column] = table[column].astype("boolean")
    pattern = pattern or (dataset.pattern if dataset else None)
    if strategies and pattern is not None:
        verdict.decide(strategies, pattern, refused)  # UnknownPattern for a pattern the run has no strategy for
    drifts = drift_.drift(kept)  # strategies of different stacks are ranked only beyond it
    verdicts = verdict.with_training(strategies, trainings, None, refused, drifts) if strategies else []
    # A strategy the verdict cannot rank against its pattern's best (another stack, within the drift): marked.
    apart = {id(u.strategy): u.words for v in verdicts for u in v.unranked}
    table["unranked"] = [apart.get(id(s)) for s in strategies]
    table.attrs.update(verdicts=verdicts, pattern=pattern,
                       refused=refused,
                       epochs=epochs, disk_budget=budget if budget is not None else
                       (dataset.disk_free_bytes if dataset else None),
                       budget_given=budget is not None, dataset=dataset.line() if dataset else None,
                       ram=dataset.ram_available_bytes if dataset else None,
                       budgets=dict(dataset.budgets) if dataset else {}, skipped=skipped(dataset, records),
                       step=step.line() if step.given else None, gpus=step.gpus,
                       training={p: (why, training.bound(t)) for p, (t, why) in training.recommend(trainings).items()},
                       bandwidth=training.bandwidth_words(trainings, step, kept) if trainings else None)
    return table


def build(records: list[Record], dataset: Dataset | None = None, pattern: str | None = None,
          step: Step | None = None) -> dict[str, pd.DataFrame]:
    """Every table of a report, by CSV name (without ``.csv``); ``summary_rounds`` holds the rounds
    behind the summary's figures for :func:`compare` and is written nowhere."""
    summary_table, rounds = _summary_and_rounds(records)
    return {"summary": summary_table, "summary_rounds": rounds, "extraction": extraction(records),
            "crossover": crossover(records, dataset), "overhead": overhead(records),
            "environment": environment(records), "unavailable": unavailable(records),
            "unreadable_videos": unreadable_videos(records), "plan": plan(records, dataset, pattern, step),
            "drift": drift(records)}
