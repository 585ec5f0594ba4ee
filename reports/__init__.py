"""Results -> CSV tables and one self-contained HTML report (``python -m reports RUN_DIR``)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from reports import advice as advice_
from reports import charts, csvsafe, html, results, tables

PLAN_LINES = 4  # strategies drawn in the plan's cumulative chart: the best few within the disk budget
CSV_FILES = ("summary", "extraction", "crossover", "overhead", "environment", "plan")


def build(run_dir: str | Path, compare: str | Path | None = None, pattern: str | None = None) -> dict[str, Path]:
    """Write the CSV files and ``report.html`` into ``run_dir``; returns name -> path written.

    ``compare`` is another run (its directory or its records.jsonl): the change per row goes
    into ``compare.csv`` and the report. Raises FileNotFoundError when a run has no records, and
    tables.NothingToReport when none of them is a measurement. ``pattern``: the access pattern the
    verdict is for (default: the run's ``--pattern``, else every pattern); ValueError when the run
    has no strategy for it (verdict.UnknownPattern).
    """
    run_dir = Path(run_dir)
    out = run_dir if run_dir.is_dir() else run_dir.parent
    run_tables = tables.build(tables.load(run_dir), results.load_dataset(out), pattern)
    written = {}
    for name in CSV_FILES:
        written[name] = out / f"{name}.csv"
        table = run_tables[name]
        csvsafe.write(table[results.PLAN_COLUMNS] if name == "plan" else table, written[name])
    changes = None
    if compare is not None:
        changes = tables.compare(run_tables, tables.build(tables.load(compare)))
        written["compare"] = out / "compare.csv"
        csvsafe.write(changes, written["compare"])
    written["report"] = out / "report.html"
    written["report"].write_text(_html(run_tables, changes, str(compare or "")), encoding="utf-8")
    return written


def _html(run_tables: dict[str, pd.DataFrame], changes: pd.DataFrame | None, other: str) -> str:
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
        if not rows[rows["loader"] != tables.BASELINE].empty:
            throughput.append(charts.throughput(f"throughput-{i}", str(pattern), rows))
    cumulative = [charts.cumulative(f"cumulative-{i}", a.pattern, a.chart_row)
                  for i, a in enumerate(advice)
                  if a.chart_row is not None and not pd.isna(a.chart_row["extraction_seconds"])]
    rss = summary[summary["peak_rss_bytes"].notna()]
    if (rss["measure"] == "epoch").any():
        rss = rss[rss["measure"] == "epoch"]
    memory = charts.memory("memory", rss) if not rss.empty else None
    plan = run_tables["plan"]
    best = {str(p): [r for r in g.to_dict("records") if r["fits_disk"]][:PLAN_LINES]
            for p, g in plan.groupby("pattern", sort=True)}
    plan_charts = {p: charts.plan_hours(f"plan-{i}", p, rows, int(plan.attrs["epochs"]))
                   for i, (p, rows) in enumerate(best.items()) if rows}
    return html.render(run_tables, advice, throughput, cumulative, memory, changes, other, plan_charts)
