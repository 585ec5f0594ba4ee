"""One self-contained HTML file: styles inline, charts as inline SVG, nothing fetched.

The page's structure is the Jinja2 template ``templates/report.html.j2``, with autoescaping on:
every string that comes from records (loader names, paths, reasons, environment values) is
escaped there. This module prepares the data: tables as rows of :class:`Cell`, sentences as
plain text. Only the SVG that matplotlib wrote is passed on as markup.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Iterable
from html import escape
from typing import Any

import jinja2
import pandas as pd
from markupsafe import Markup

from benchmarks.analysis import epochs as epochs_model
from benchmarks.analysis import verdict
from reports.advice import Advice, epoch_range, headline, loader_label, refused
from reports.charts import Chart
from reports.fmt import bytes_, number, percent, seconds
from reports.results import BASELINE, loader_note
from reports.tables import HIGHER_IS_BETTER, SIGNIFICANCE


def _escape(value: Any) -> Any:
    """Autoescaping as :func:`html.escape` writes it (``&#x27;`` for a quote, as reports always
    had), not markupsafe's ``&#39;``; markup (macros, the charts' SVG) passes through."""
    return value if hasattr(value, "__html__") else Markup(escape(str(value)))


_TEMPLATES = jinja2.Environment(
    loader=jinja2.PackageLoader("reports", "templates"), autoescape=True, finalize=_escape,
    trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined)


@dataclasses.dataclass(frozen=True)
class Cell:
    """A table cell: its text, styled by ``css``, then an optional remark styled ``extra_css``
    (``12% (not significant)``, ``npy over budget``)."""

    text: str = ""
    css: str = ""
    extra: str = ""
    extra_css: str = "muted"


@dataclasses.dataclass
class Table:
    headers: list[str]
    numeric: list[bool]
    rows: list[list[Cell]]
    css: str = ""


Column = tuple[str, Callable[[dict[str, Any]], Cell], bool]  # header, row -> cell, numeric


def _text(value: Any) -> str:
    if value is None or (not isinstance(value, str | list | dict) and pd.isna(value)):
        return ""
    return str(value)


def _table(rows: Iterable[dict[str, Any]], columns: list[Column], css: str = "") -> Table:
    return Table([h for h, _, _ in columns], [n for _, _, n in columns],
                 [[cell(r) for _, cell, _ in columns] for r in rows], css)


def _field(name: str, fmt: Callable[[Any], str] | None = None) -> Callable[[dict[str, Any]], Cell]:
    """A cell showing one field of the row, formatted as plain text by ``fmt``."""
    if fmt is None:
        return lambda r: Cell(_text(r.get(name)))
    return lambda r: Cell(fmt(r.get(name)))


def _kind(r: dict[str, Any]) -> Cell:
    kind = _text(r.get("kind"))
    return Cell(kind, f"kind-{kind}" if kind else "")


def _chart(chart: Chart | None) -> dict[str, Any] | None:
    if chart is None:
        return None
    return {"id": chart.id, "title": chart.title, "marks": chart.marks, "svg": Markup(chart.svg)}


def _advice(items: list[Advice]) -> list[dict[str, Any]]:
    return [{"pattern": a.pattern, "extract": a.extract, "headline": headline(a), "sentences": a.sentences}
            for a in items]


def _training(plan: pd.DataFrame, chart: Chart | None) -> dict[str, Any]:
    """What follows the verdict in "Your dataset": with a training step, whether loading or the model
    bounds training and by how much, the recommendation per pattern, and the chart of delivered
    frames/s against the target; without one (``step`` None), that the plan covers loading alone."""
    said = plan.attrs.get("training") or {}
    several = len(said) > 1
    return {"step": plan.attrs.get("step"),
            "bound": [(f"{p}: " if several else "") + b for p, (_, b) in sorted(said.items())],
            "why": [(p, (f"{p}: " if several else "") + w) for p, (w, _) in sorted(said.items())],
            "bandwidth": plan.attrs.get("bandwidth"), "chart": _chart(chart)}


def _dataset(plan: pd.DataFrame, advice: list[Advice], charts: dict[str, Chart],
             verdict_chart: Chart | None = None, training_chart: Chart | None = None) -> dict[str, Any]:
    """The plan for the user's dataset: the dataset in one line, the winner per pattern, every
    strategy ranked by total time (those over the disk budget marked), the best few's hours."""
    # Every file and folder left out of the dataset, with why: first, since every figure lacks them.
    skipped = _table(plan.attrs.get("skipped") or [], [("path", _field("path"), False),
                                                       ("why", _field("reason"), False)], css="skipped")
    if plan.empty:
        return {"empty": True, "skipped": skipped}
    epochs, budget = plan.attrs.get("epochs"), plan.attrs.get("disk_budget")
    winners = {a.pattern: a for a in advice}
    patterns = []
    for pattern, group in plan.groupby("pattern", sort=True):
        rows = [{**r, "rank": i, "refused": refused(plan, r)} for i, r in enumerate(group.to_dict("records"), start=1)]
        shown = {r["decode_loader"] for r in rows} | {r["frame_loader"] for r in rows}
        # A loader that refused sampled videos and has no epoch to project still has its row: named, not ranked.
        rows += [{**dict.fromkeys(group.columns), "rank": "", "name": f"{r.loader}: not projected (no epoch timed)",
                  "refused": r} for r in (plan.attrs.get("refused") or {}).values() if r.loader not in shown]
        a = winners.get(str(pattern))
        table = _table(rows, [
            ("#", _field("rank"), True),
            ("strategy", _strategy, False),
            ("workers", _field("workers"), True),
            ("extraction", lambda r: Cell("none" if r["kind"] == "decode" else seconds(r["extraction_seconds"])),
             True),
            ("epoch (low-high)", lambda r: Cell(_with_spread(r)), True),
            (f"total, {epochs} epochs", _field("total_seconds", seconds), True),
            ("disk", _field("disk_bytes", bytes_), True),
            ("fits disk", lambda r: _yes_no(r["fits_disk"], "bad"), False),
            ("fits RAM", lambda r: _yes_no(r["fits_ram"]), False),
            ("epochs timed", _field("cache"), False)], css="plan")
        patterns.append({"pattern": str(pattern), "table": table, "chart": _chart(charts.get(str(pattern))),
                         "verdict": a.sentences[0] if a is not None and a.sentences else ""})
    chosen = plan.attrs.get("pattern")
    verdicts = [v for v in plan.attrs.get("verdicts") or [] if chosen is None or v.pattern == chosen]
    headers, cells = verdict.table(verdicts)
    said = plan.attrs.get("budgets") or {}
    return {"empty": False, "skipped": skipped, "line": plan.attrs.get("dataset"), "epochs": epochs,
            "training": _training(plan, training_chart),
            "verdict": verdict.headline(verdicts, plan.attrs.get("dataset")),
            "verdict_chart": _chart(verdict_chart),
            "refused": [(r.loader, r.words()) for r in (plan.attrs.get("refused") or {}).values()]
            if len(verdicts) != 1 else [],  # one pattern: its sentence says it
            "verdict_table": Table(list(headers), [h in ("total", "disk") for h in headers],
                                   [[Cell(c) for c in row] for row in cells], "verdict-table"),
            # What the time budget dropped, in one line; the detail follows below, under #budget.
            "budget_line": "; ".join(f"{stack}: {line}" for stack, line in sorted(said.items())),
            "given": "your disk budget" if plan.attrs.get("budget_given") else "the free disk where the stores go",
            "repeats": f"x{epochs_model.REPEATS:g}",
            "budget": bytes_(budget) if budget is not None else "",
            # What was measured is less than a full run: say how, before any figure.
            "budgets": sorted((plan.attrs.get("budgets") or {}).items()),
            "patterns": patterns}


def _yes_no(value: Any, no_css: str = "") -> Cell:
    if value is None or pd.isna(value):
        return Cell("")
    return Cell("yes") if value else Cell("no", no_css)


def _strategy(r: dict[str, Any]) -> Cell:
    """The strategy's name, marked when its store is over the disk budget or its loader refused
    sampled videos (in the plan, never recommended), or when the verdict cannot rank it against the
    best: from another stack, within the machine's drift of it."""
    if r["refused"] is not None:
        return Cell(str(r["name"]), extra=f"{r['refused'].words()}: never recommended", extra_css="bad")
    over = r["fits_disk"] is not None and not pd.isna(r["fits_disk"]) and not r["fits_disk"]
    if not over and isinstance(r.get("unranked"), str):
        return Cell(str(r["name"]), extra=r["unranked"])
    return Cell(str(r["name"]), extra="over budget" if over else "", extra_css="bad")


def _with_spread(row: dict[str, Any]) -> str:
    """``9.6 s (9.1 s-10.2 s)``, or the figure alone where the range reads the same."""
    low, high = seconds(row["epoch_seconds_low"]), seconds(row["epoch_seconds_high"])
    return seconds(row["epoch_seconds"]) + ("" if low == high else f" ({low}-{high})")


def _exactness(summary: pd.DataFrame) -> Table | None:
    checked = summary[summary["status"].isin(["ok", "wrong"])]
    checked = checked.assign(label=[loader_label(r) for r in checked.to_dict("records")])
    rows = []
    for (stack, label), group in checked.groupby(["stack", "label"], sort=True):
        exact = group["exact"].astype("object")
        wrong = group[group["status"] == "wrong"]
        if not wrong.empty:
            verdict = Cell("wrong frames", "bad")
            reason = "; ".join(dict.fromkeys(str(x) for x in wrong["reason"].dropna()))
        elif (exact == True).all():  # noqa: E712 - elementwise, and NA is not True
            verdict, reason = Cell("pixel-exact", "good"), ""
        elif (exact == False).any():  # noqa: E712
            verdict = Cell("right frames, not pixel-identical")
            # The per-frame verdicts say how far off and why (lossy store, or another colour conversion).
            labels = group.loc[exact == False, "reason"].dropna()  # noqa: E712
            reason = "; ".join(dict.fromkeys(str(x) for x in labels)) or \
                "within the tolerance of the reference (a lossy store or another colour conversion)"
        else:
            verdict, reason = Cell("not checked", "muted"), ""
        rows.append({"stack": stack, "loader": label, "kind": group["kind"].iloc[0],
                     "verdict": verdict, "reason": reason,
                     "patterns": ", ".join(sorted(str(p) for p in group["pattern"].dropna().unique()))})
    if not rows:
        return None
    return _table(rows, [("loader", _field("loader"), False), ("kind", _kind, False),
                         ("stack", _field("stack"), False), ("frames", lambda r: r["verdict"], False),
                         ("why", _field("reason"), False), ("patterns", _field("patterns"), False)])


def _unavailable(table: pd.DataFrame) -> Table | None:
    if table.empty:
        return None
    return _table(table.to_dict("records"), [
        ("loader", _field("loader"), False), ("kind", _kind, False), ("stack", _field("stack"), False),
        ("status", _field("status"), False), ("where", _field("where"), False),
        ("reason", _field("reason"), False)], css="unavailable")


def _extraction(table: pd.DataFrame) -> Table | None:
    if table.empty:
        return None
    return _table(table.to_dict("records"), [
        ("extractor", _field("extractor"), False), ("format", _field("format"), False),
        ("quality", _field("quality"), True),
        # Two stores of one format differ by size or keyframe interval: the rows must say which.
        ("store size", _field("store_size", lambda v: "full" if pd.isna(v) else f"{v} px"), True),
        ("GOP", _field("gop"), True), ("corpus", _field("profile"), False),
        ("status", _field("status"), False), ("time", _field("seconds", seconds), True),
        ("frames/s", _field("fps", number), True), ("frames", _field("frames", number), True),
        ("on disk", _field("bytes", bytes_), True), ("per frame", _field("bytes_per_frame", bytes_), True),
        ("x source videos", _field("size_vs_source", lambda v: "" if pd.isna(v) else f"{v:.2f}x"), True),
        ("reason", _field("reason"), False)])


def _store(r: dict[str, Any]) -> str:
    return (f"{_text(r.get('format'))} " + ("" if pd.isna(r.get("quality")) else f"q{r['quality']}")
            + ("" if pd.isna(r.get("store_size")) else f" s{r['store_size']}")
            + ("" if pd.isna(r.get("gop")) else f" g{r['gop']}"))


def _crossover(table: pd.DataFrame, charts: list[Chart]) -> dict[str, Any] | None:
    if table.empty:
        return None
    return {"charts": [_chart(c) for c in charts], "table": _table(table.to_dict("records"), [
        ("pattern", _field("pattern"), False), ("profile", _field("profile"), False),
        ("workers", _field("workers"), True), ("decode", _field("decode_loader"), False),
        ("frames", _field("frame_loader"), False), ("store", lambda r: Cell(_store(r)), False),
        ("decoding", lambda r: Cell("originals" if pd.isna(r.get("decode_format")) else
                                    f"{r['decode_format']} s{r['decode_store_size']} g{r['decode_gop']}"), False),
        ("cache", _field("cache"), False),
        ("extraction", _field("extraction_seconds", seconds), True),
        ("epoch, decode", _field("epoch_seconds_decode", seconds), True),
        ("epoch, frames", _field("epoch_seconds_frames", seconds), True),
        ("pays after (epochs)", lambda r: Cell(number(r["crossover_epochs"]) + epoch_range(r))
         if not pd.isna(r["crossover_epochs"]) else Cell("never", "muted"), True)])}


def _skipped_records(table: pd.DataFrame) -> dict[str, Any]:
    return {"count": len(table), "file": str(table["file"].iloc[0]),
            "table": _table(table.to_dict("records"), [("line", _field("line"), True),
                                                       ("why", _field("reason"), False)], css="unreadable")}


def _left_out(table: pd.DataFrame) -> dict[str, Any]:
    return {"count": len(table), "table": _table(table.to_dict("records"), [
        ("video", _field("video"), False), ("why", _field("reason"), False)], css="unreadable")}


def _throughput(charts: list[Chart], summary: pd.DataFrame, overhead: pd.DataFrame) -> dict[str, Any]:
    names = [n for n in dict.fromkeys(summary["loader"].dropna()) if loader_note(n) and n != BASELINE]
    return {"charts": [_chart(c) for c in charts], "notes": [(n, loader_note(n)) for n in names],
            "baseline": BASELINE, "overhead": _overhead(overhead)}


def _overhead(table: pd.DataFrame) -> Table | None:
    if table.empty:
        return None
    share = lambda v: "" if pd.isna(v) else f"{100 * v:.2g}%"  # noqa: E731
    return _table(table.to_dict("records"), [
        ("pattern", _field("pattern"), False), ("profile", _field("profile"), False),
        ("harness per frame", _field("baseline_seconds_per_frame", seconds), True),
        ("fastest", _field("fastest_loader"), False),
        ("share", _field("share_of_fastest", share), True),
        ("fastest decoder", _field("fastest_decode_loader"), False),
        ("share", _field("share_of_fastest_decode", share), True)], css="overhead")


def _environment(table: pd.DataFrame, drift: pd.DataFrame | None = None) -> dict[str, Any] | None:
    if table.empty:
        return None
    stacks = table.to_dict("records")
    return {"stacks": [_text(s["stack"]) for s in stacks],
            "fields": [(str(field), [_text(s.get(field)) for s in stacks])
                       for field in table.columns if field != "stack"],
            "drift": _drift(drift)}


def _drift(table: pd.DataFrame | None) -> list[str]:
    """The "Drift" note: per stack, its anchor's slowest against its fastest, and against the main stack's."""
    if table is None or table.empty:
        return []
    ratio = lambda v: "not measured" if pd.isna(v) else f"{v:.2f}x"  # noqa: E731
    lines = []
    for r in table.to_dict("records"):
        line = f"{r['stack']}: slowest against fastest {ratio(r['within'])}"
        if r["stack"] != "main":
            line += f", against the main stack {ratio(r['against_main'])}"
        lines.append(line)
    return lines


def _significant(r: dict[str, Any]) -> bool:
    return r["significant"] is True


def _change(r: dict[str, Any]) -> Cell:
    value = r["change_pct"]
    if pd.isna(value):
        return Cell("only in one run", "muted")
    if not _significant(r):
        why = "not tested: too few rounds" if pd.isna(r["significant"]) else "not significant"
        return Cell(percent(value), extra=f"({why})")
    better = (value > 0) == HIGHER_IS_BETTER.get(r["metric"], True)
    return Cell(percent(value), "good" if better else "bad")


def _compare(table: pd.DataFrame, other: str) -> dict[str, Any]:
    fmt = {"fps_median": number, "open_seconds": seconds, "peak_rss_bytes": bytes_,
           "seconds": seconds, "bytes": bytes_}
    cell = lambda name: lambda r: Cell(fmt.get(r["metric"], number)(r[name]))  # noqa: E731
    columns: list[Column] = [
        ("table", _field("table"), False), ("row", _field("row"), False),
        ("metric", _field("metric"), False), ("before", cell("old"), True),
        ("now", cell("new"), True), ("change", _change, True),
        ("p", _field("p_value", lambda v: "" if pd.isna(v) else f"{v:.3g}"), True)]
    rows = table.to_dict("records")

    # Worse is negative: a regression sorts first whatever the metric's direction.
    def gain(r: dict[str, Any]) -> float:
        return float(r["change_pct"]) * (1 if HIGHER_IS_BETTER.get(r["metric"], True) else -1)

    compared = [r for r in rows if not pd.isna(r["change_pct"])]
    moved = sorted((r for r in compared if _significant(r)), key=gain)
    return {"other": other, "worse": sum(gain(r) < 0 for r in moved), "better": sum(gain(r) > 0 for r in moved),
            "compared": len(compared), "significance": SIGNIFICANCE,
            "moved": _table(moved, columns, css="compare-moved") if moved else None,
            "every": _table(rows, columns, css="compare")}


def _summary(table: pd.DataFrame) -> Table:
    return _table(table.to_dict("records"), [
        ("loader", lambda r: Cell(loader_label(r)), False), ("kind", _kind, False),
        ("measure", _field("measure"), False), ("pattern", _field("pattern"), False),
        ("profile", _field("profile"), False), ("workers", _field("workers"), True),
        ("status", _field("status"), False), ("fps", _field("fps_median", number), True),
        ("p25", _field("fps_p25", number), True), ("p75", _field("fps_p75", number), True),
        ("first epoch", _field("first_epoch_seconds", seconds), True),
        ("open", _field("open_seconds", seconds), True),
        ("peak RSS", _field("peak_rss_bytes", bytes_), True),
        ("library", _field("library"), False)])


def render(tables: dict[str, pd.DataFrame], advice: list[Advice], throughput: list[Chart],
           cumulative: list[Chart], memory: Chart | None, compare: pd.DataFrame | None = None,
           compare_with: str = "", plan_charts: dict[str, Chart] | None = None,
           stopped: dict[str, str] | None = None, verdict_chart: Chart | None = None,
           training_chart: Chart | None = None) -> str:
    """The whole report as one HTML string; ``stopped``: stack -> when it started, for the stacks
    that did not finish (:func:`benchmarks.finished.unfinished`); ``training_chart``: delivered
    frames/s against the training step's target."""
    stopped = stopped or {}
    env = tables["environment"]
    sections: list[tuple[str, str, Any]] = [
        ("advice", "Which loader, and does extraction pay?", _advice(advice)),
        ("throughput", "Throughput per access pattern", _throughput(throughput, tables["summary"],
                                                                    tables["overhead"])),
        ("crossover", "When extraction pays", _crossover(tables["crossover"], cumulative)),
        ("extraction", "Extraction: time and disk", _extraction(tables["extraction"])),
        ("exact", "Exact frames", _exactness(tables["summary"])),
        ("memory", "Memory", _chart(memory)),
        ("unavailable", "Unavailable loaders and errors", _unavailable(tables["unavailable"])),
        ("environment", "Environment", _environment(env, tables.get("drift"))),
    ]
    skipped_lines = tables.get("skipped_lines")
    if skipped_lines is not None and not skipped_lines.empty:  # first: the figures below lack these records
        sections.insert(0, ("skipped-records", "Records skipped", _skipped_records(skipped_lines)))
    left_out = tables.get("unreadable_videos")
    if left_out is not None and not left_out.empty:  # first: every figure below lacks these videos
        sections.insert(0, ("warnings", "Videos left out", _left_out(left_out)))
    plan = tables.get("plan")
    if plan is not None:  # the answer at the user's scale opens the report
        sections.insert(0, ("dataset", "Your dataset", _dataset(plan, advice, plan_charts or {}, verdict_chart,
                                                                training_chart)))
    if compare is not None:
        sections.insert(-1, ("compare", "Change against another run", _compare(compare, compare_with)))
    sections.append(("all", "All measurements", _summary(tables["summary"])))
    return _TEMPLATES.get_template("report.html.j2").render(
        runs=", ".join(sorted({str(r) for r in env["run_id"] if r})) if not env.empty else "",
        stacks=", ".join(str(s) + (" (did not finish)" if s in stopped else "") for s in env["stack"])
        if not env.empty else "none", stopped=sorted(stopped.items()),
        made=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        sections=[{"id": a, "title": t, "data": d} for a, t, d in sections]) + "\n"
