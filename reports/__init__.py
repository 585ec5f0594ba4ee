"""Results -> CSV tables and one self-contained HTML report (``python -m reports RUN_DIR``)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd

from benchmarks import finished
from reports import advice as advice_
from reports import charts, csvsafe, html, results, tables

PLAN_LINES = 4  # strategies drawn in the plan's cumulative chart: the best few within the disk budget
CSV_FILES = ("summary", "extraction", "crossover", "overhead", "environment", "plan")


def build(run_dir: str | Path, compare: str | Path | None = None, pattern: str | None = None,
          step: dict[str, Any] | None = None) -> dict[str, Path]:
    """Write the CSV files and ``report.html`` into ``run_dir``; returns name -> path written.

    ``compare`` is another run (its directory or its records.jsonl): the change per row goes
    into ``compare.csv`` and the report. Raises FileNotFoundError when a run has no records, and
    tables.NothingToReport when none of them is a measurement, and results.DatasetError when the
    run's ``dataset.json`` cannot be read (the message names the file and the field). Record
    lines that are not records are skipped, with a warning and a note at the top of the report.
    ``pattern``: the access pattern the verdict is for (default: the run's ``--pattern``, else
    every pattern); ValueError when the run has no strategy for it (verdict.UnknownPattern).
    ``step``: the training step's options given (``step_ms``, ``target_fps``, ``gpus``,
    ``storage_bandwidth``; None: not given), each in place of the one stored with the run
    (:func:`benchmarks.analysis.training.step_of`).
    """
    run_dir = Path(run_dir)
    out = run_dir if run_dir.is_dir() else run_dir.parent
    skipped: list[results.Malformed] = []
    dataset = results.load_dataset(out)
    run_tables = tables.build(tables.load(run_dir, skipped), dataset, pattern, results.step_of(dataset, **(step or {})))
    run_tables["skipped_lines"] = tables.skipped_lines(tables.records_path(run_dir), skipped)
    written = {}
    for name in CSV_FILES:
        written[name] = out / f"{name}.csv"
        table = run_tables[name]
        csvsafe.write(table[tables.PLAN_CSV] if name == "plan" else table, written[name])
    changes = None
    if compare is not None:
        changes = tables.compare(run_tables, tables.build(tables.load(compare)))
        written["compare"] = out / "compare.csv"
        csvsafe.write(changes, written["compare"])
    written["report"] = out / "report.html"
    stopped = finished.unfinished(out)
    written["report"].write_text(_html(run_tables, changes, str(compare or ""), stopped), encoding="utf-8")
    return written


def _html(run_tables: dict[str, pd.DataFrame], changes: pd.DataFrame | None, other: str,
          stopped: dict[str, str]) -> str:
    advice = advice_.recommend(run_tables)
    summary = run_tables["summary"]
    throughput = []
    for i, pattern in enumerate(sorted(summary["pattern"].dropna().unique())):
        rows = summary[(summary["pattern"] == pattern) & summary["status"].isin(["ok", "wrong"])]
        if (rows["measure"] == "per_frame").any():
            rows = rows[rows["measure"] == "per_frame"]
        else:  # a run with per-epoch measurements only: one bar per loader and workers
            rows = rows.assign(profile=[f"{p}, {w} workers" for p, w in zip(rows["profile"], rows["workers"],
                                                                             strict=True)])
        if not rows[rows["loader"] != results.BASELINE].empty:
            throughput.append(charts.throughput(f"throughput-{i}", str(pattern), rows))
    cumulative = [charts.cumulative(f"cumulative-{i}", a.pattern, a.chart_row)
                  for i, a in enumerate(advice)
                  if a.chart_row is not None and not pd.isna(a.chart_row["extraction_seconds"])]
    rss = summary[summary["peak_rss_bytes"].notna()]
    if (rss["measure"] == "epoch").any():
        rss = rss[rss["measure"] == "epoch"]
    memory = charts.memory("memory", rss) if not rss.empty else None
    plan = run_tables["plan"]
    verdicts = {v.pattern: v for v in plan.attrs.get("verdicts") or []}
    plan_charts, verdict_chart = {}, None
    for i, (pattern, group) in enumerate(plan.groupby("pattern", sort=True)):
        rows = [r for r in group.to_dict("records") if advice_.refused(plan, r) is None]
        drawn = [r for r in rows if r["fits_disk"]][:PLAN_LINES]
        v = verdicts.get(str(pattern))
        # The best decoder is always drawn (decode or extract is the question), and the verdict's contrast;
        # rows are ranked (within the disk budget first, then by total), so the first decoder is the best.
        contrast = v.contrast.name if v is not None and v.contrast is not None else None
        extra = [next((r for r in rows if r["kind"] == "decode"), None),
                 next((r for r in rows if r["name"] == contrast), None)]
        for r in extra:
            if r is not None and r["name"] not in {d["name"] for d in drawn}:
                drawn.append(r)
        if not drawn:
            continue
        cross = None
        if v is not None and v.crossover is not None and v.crossover.epochs is not None:
            cross = (v.crossover.epochs, v.crossover.phrase().split(":")[0])  # "extraction pays ... after k epochs"
        epochs = int(plan.attrs["epochs"])
        plan_charts[str(pattern)] = charts.plan_hours(f"plan-{i}", str(pattern), drawn, epochs, cross)
        if plan.attrs.get("pattern") == pattern:  # the verdict's pattern: its chart opens the report too
            verdict_chart = charts.plan_hours("verdict-chart", str(pattern), drawn, epochs, cross,
                                              title=f"The verdict, cumulative time: {pattern}")
    return html.render(run_tables, advice, throughput, cumulative, memory, changes, other, plan_charts, stopped,
                       verdict_chart, _training_chart(plan))


def _training_chart(plan: pd.DataFrame) -> charts.Chart | None:
    """Delivered frames/s per strategy against the step's target, per pattern; None without a step."""
    if not plan.attrs.get("step") or plan.empty:
        return None
    panels = {}
    for pattern, group in plan.groupby("pattern", sort=True):
        rows = [r for r in group.to_dict("records") if not pd.isna(r["most_fps"]) and not pd.isna(r["target_fps"])
                and math.isfinite(r["most_fps"])]
        if rows:
            panels[str(pattern)] = (max(float(r["target_fps"]) for r in rows), rows)
    return charts.training("training", panels, int(plan.attrs.get("gpus") or 1)) if panels else None
