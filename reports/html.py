"""One self-contained HTML file: styles inline, charts as inline SVG, nothing fetched.

Every string that comes from records (loader names, paths, reasons, environment values) goes
through :func:`html.escape`; only the SVG that matplotlib wrote is inserted as markup.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from html import escape
from typing import Any

import pandas as pd

from reports.advice import Advice, epoch_range, headline, loader_label
from reports.charts import Chart
from reports.fmt import bytes_, number, percent, seconds
from reports.results import BASELINE, loader_note
from reports.tables import HIGHER_IS_BETTER, SIGNIFICANCE

CSS = """
:root { --decode: #2f6db5; --frames: #e07b24; --bad: #c0392b; --good: #1e8449; --line: #d9dde3; }
* { box-sizing: border-box; }
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
       margin: 0; color: #1d2330; background: #f6f7f9; }
header { background: #1d2330; color: #fff; padding: 18px 32px; }
header h1 { margin: 0 0 4px; font-size: 22px; }
header p { margin: 0; color: #c9cfda; font-size: 13px; }
nav { position: sticky; top: 0; background: #fff; border-bottom: 1px solid var(--line);
      padding: 8px 32px; font-size: 13px; z-index: 1; }
nav a { margin-right: 14px; color: #2f6db5; text-decoration: none; }
main { max-width: 1180px; margin: 0 auto; padding: 8px 32px 48px; }
section { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 16px 20px;
          margin: 18px 0; }
h2 { font-size: 18px; margin: 0 0 10px; }
h3 { font-size: 15px; margin: 16px 0 6px; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(320px, 1fr)); gap: 14px; }
.card { border: 1px solid var(--line); border-left: 5px solid var(--decode); border-radius: 6px;
        padding: 10px 14px; }
.card.extract-yes { border-left-color: var(--frames); }
.card h3 { margin: 0 0 4px; }
.card .headline { font-weight: 600; margin: 0 0 6px; }
.card p { margin: 4px 0; font-size: 14px; }
.chart { margin: 8px 0 18px; }
table { border-collapse: collapse; font-size: 13px; margin: 6px 0; }
th, td { border-bottom: 1px solid var(--line); padding: 4px 10px; text-align: left; vertical-align: top; }
th { background: #f0f2f5; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.bad { color: var(--bad); font-weight: 600; }
.good { color: var(--good); }
.muted { color: #6b7380; }
.kind-decode { color: var(--decode); font-weight: 600; }
.kind-frames { color: var(--frames); font-weight: 600; }
details summary { cursor: pointer; color: #2f6db5; margin: 6px 0; }
.scroll { overflow-x: auto; }
#warnings { border-left: 5px solid var(--bad); }
"""

Cell = Callable[[dict[str, Any]], str]


def _text(value: Any) -> str:
    if value is None or (not isinstance(value, str | list | dict) and pd.isna(value)):
        return ""
    return escape(str(value))


def _table(rows: Iterable[dict[str, Any]], columns: list[tuple[str, Cell, bool]],
           css: str = "") -> str:
    """Columns are (header, cell -> escaped html, numeric)."""
    head = "".join(f"<th>{escape(h)}</th>" for h, _, _ in columns)
    body = "".join(
        "<tr>" + "".join(f'<td class="num">{cell(r)}</td>' if numeric else f"<td>{cell(r)}</td>"
                         for _, cell, numeric in columns) + "</tr>"
        for r in rows)
    return (f'<div class="scroll"><table class="{css}"><thead><tr>{head}</tr></thead>'
            f"<tbody>{body}</tbody></table></div>")


def _field(name: str, fmt: Callable[[Any], str] | None = None) -> Cell:
    """A cell showing one field of the row, formatted as plain text by ``fmt``, escaped."""
    if fmt is None:
        return lambda r: _text(r.get(name))
    return lambda r: escape(fmt(r.get(name)))


def _kind(r: dict[str, Any]) -> str:
    kind = _text(r.get("kind"))
    return f'<span class="kind-{kind}">{kind}</span>' if kind else ""


def _section(anchor: str, title: str, body: str) -> str:
    return f'<section id="{anchor}"><h2>{escape(title)}</h2>{body}</section>'


def _chart(chart: Chart) -> str:
    return (f'<figure class="chart" id="{escape(chart.id)}" data-marks="{chart.marks}">'
            f"<figcaption><h3>{escape(chart.title)}</h3></figcaption>{chart.svg}</figure>")


def _advice(items: list[Advice]) -> str:
    if not items:
        return '<p class="muted">No access pattern was measured in this run.</p>'
    cards = []
    for a in items:
        sentences = "".join(f"<p>{escape(s)}</p>" for s in a.sentences)
        cards.append(f'<div class="card extract-{escape(a.extract)}" data-pattern="{escape(a.pattern)}">'
                     f"<h3>{escape(a.pattern)}</h3><p class=\"headline\">{escape(headline(a))}</p>"
                     f"{sentences}</div>")
    return '<div class="cards">' + "".join(cards) + "</div>"


def _skipped(rows: list[dict[str, str]]) -> str:
    """Every file and folder left out of the dataset, with why: first, since every figure lacks them."""
    if not rows:
        return ""
    count = len(rows)
    return (f'<div class="skipped"><p class="bad">{count} file{"s" if count != 1 else ""} or folder'
            f'{"s" if count != 1 else ""} left out of the dataset, and of every figure below:</p>'
            + _table(rows, [("path", _field("path"), False), ("why", _field("reason"), False)], css="skipped")
            + "</div>")


def _dataset(plan: pd.DataFrame, advice: list[Advice], charts: dict[str, Chart]) -> str:
    """The plan for the user's dataset: the dataset in one line, the winner per pattern, every
    strategy ranked by total time (those over the disk budget marked), the best few's hours."""
    left_out = _skipped(plan.attrs.get("skipped") or [])
    if plan.empty:
        return left_out + ('<p class="muted">No plan: the run has no epoch timing of a strategy (and, for a '
                           "store, of its extraction) to project.</p>")
    epochs, budget = plan.attrs.get("epochs"), plan.attrs.get("disk_budget")
    line = plan.attrs.get("dataset")
    what = (f'<p class="dataset-line"><b>{escape(line)}</b></p>' if line else
            '<p class="dataset-line muted">This run has no dataset summary (it was made before plans): the plan '
            "covers the measured videos, and disk fits are not checked.</p>")
    given = "your disk budget" if plan.attrs.get("budget_given") else "the free disk where the stores go"
    intro = (f"<p>Every strategy measured, projected to the whole dataset for {escape(str(epochs))} epochs: "
             f"total = extraction + {escape(str(epochs))} x epoch. Stores that do not fit {given}"
             + (f" ({escape(bytes_(budget))})" if budget is not None else "") + " are marked and never "
             "recommended. Epochs are cold (the page cache emptied first) where what an epoch reads exceeds "
             "the memory available, warm otherwise.</p>")
    budgets = plan.attrs.get("budgets") or {}
    if budgets:  # what was measured is less than a full run: say how, before any figure
        said = "".join(f"<li>{escape(stack)} stack: {escape(line)}</li>" for stack, line in sorted(budgets.items()))
        intro += (f'<div class="budget"><p>Measured under a time budget (<code>--budget</code> or '
                  f"<code>--quick</code>), which dropped, as the run said before measuring:</p><ul>{said}</ul></div>")
    winners = {a.pattern: a for a in advice}
    parts = [left_out, what, intro]
    for pattern, group in plan.groupby("pattern", sort=True):
        rows = [{**r, "rank": i} for i, r in enumerate(group.to_dict("records"), start=1)]
        a = winners.get(str(pattern))
        verdict = escape(a.sentences[0]) if a is not None and a.sentences else ""
        table = _table(rows, [
            ("#", _field("rank"), True),
            ("strategy", lambda r: escape(str(r["name"])) + ("" if r["fits_disk"] else
                                                            ' <span class="bad">over budget</span>'), False),
            ("workers", _field("workers"), True),
            ("extraction", lambda r: "none" if r["kind"] == "decode" else escape(seconds(r["extraction_seconds"])),
             True),
            ("epoch (low-high)", lambda r: escape(_with_spread(r)), True),
            (f"total, {epochs} epochs", _field("total_seconds", seconds), True),
            ("disk", _field("disk_bytes", bytes_), True),
            ("fits disk", lambda r: "yes" if r["fits_disk"] else '<span class="bad">no</span>', False),
            ("fits RAM", lambda r: "yes" if r["fits_ram"] else "no", False),
            ("epochs timed", _field("cache"), False)], css="plan")
        chart = charts.get(str(pattern))
        parts.append(f'<h3>{escape(str(pattern))}</h3><p class="winner">{verdict}</p>{table}'
                     + (_chart(chart) if chart else ""))
    return "".join(parts)


def _with_spread(row: dict[str, Any]) -> str:
    """``9.6 s (9.1 s-10.2 s)``, or the figure alone where the range reads the same."""
    low, high = seconds(row["epoch_seconds_low"]), seconds(row["epoch_seconds_high"])
    return seconds(row["epoch_seconds"]) + ("" if low == high else f" ({low}-{high})")


def _exactness(summary: pd.DataFrame) -> str:
    checked = summary[summary["status"].isin(["ok", "wrong"])]
    checked = checked.assign(label=[loader_label(r) for r in checked.to_dict("records")])
    rows = []
    for (stack, label), group in checked.groupby(["stack", "label"], sort=True):
        exact = group["exact"].astype("object")
        wrong = group[group["status"] == "wrong"]
        if not wrong.empty:
            verdict = '<span class="bad">wrong frames</span>'
            reason = "; ".join(dict.fromkeys(str(x) for x in wrong["reason"].dropna()))
        elif (exact == True).all():  # noqa: E712 - elementwise, and NA is not True
            verdict, reason = '<span class="good">pixel-exact</span>', ""
        elif (exact == False).any():  # noqa: E712
            verdict = "right frames, not pixel-identical"
            # The per-frame verdicts say how far off and why (lossy store, or another colour conversion).
            labels = group.loc[exact == False, "reason"].dropna()  # noqa: E712
            reason = "; ".join(dict.fromkeys(str(x) for x in labels)) or \
                "within the tolerance of the reference (a lossy store or another colour conversion)"
        else:
            verdict, reason = '<span class="muted">not checked</span>', ""
        rows.append({"stack": stack, "loader": label, "kind": group["kind"].iloc[0],
                     "verdict": verdict, "reason": reason,
                     "patterns": ", ".join(sorted(str(p) for p in group["pattern"].dropna().unique()))})
    if not rows:
        return '<p class="muted">No loader was checked against the reference decode.</p>'
    return ("<p>Every loader is checked against a reference decode before it is timed; one that "
            "returns the wrong frames is reported, not timed.</p>"
            + _table(rows, [("loader", _field("loader"), False), ("kind", _kind, False),
                            ("stack", _field("stack"), False), ("frames", lambda r: r["verdict"], False),
                            ("why", _field("reason"), False), ("patterns", _field("patterns"), False)]))


def _unavailable(table: pd.DataFrame) -> str:
    if table.empty:
        return '<p class="good">Every loader ran in its stack.</p>'
    return _table(table.to_dict("records"), [
        ("loader", _field("loader"), False), ("kind", _kind, False), ("stack", _field("stack"), False),
        ("status", _field("status"), False), ("where", _field("where"), False),
        ("reason", _field("reason"), False)], css="unavailable")


def _extraction(table: pd.DataFrame) -> str:
    if table.empty:
        return '<p class="muted">No extraction was measured in this run.</p>'
    return _table(table.to_dict("records"), [
        ("extractor", _field("extractor"), False), ("format", _field("format"), False),
        ("quality", _field("quality"), True), ("corpus", _field("profile"), False),
        ("status", _field("status"), False), ("time", _field("seconds", seconds), True),
        ("frames/s", _field("fps", number), True), ("frames", _field("frames", number), True),
        ("on disk", _field("bytes", bytes_), True), ("per frame", _field("bytes_per_frame", bytes_), True),
        ("x source videos", _field("size_vs_source", lambda v: "" if pd.isna(v) else f"{v:.2f}x"), True),
        ("reason", _field("reason"), False)])


def _crossover(table: pd.DataFrame, charts: list[Chart]) -> str:
    if table.empty:
        return ('<p class="muted">Crossover needs per-epoch measurements of a decoder and a frame '
                "reader; this run has none.</p>")
    rows = table.to_dict("records")
    full = _table(rows, [
        ("pattern", _field("pattern"), False), ("profile", _field("profile"), False),
        ("workers", _field("workers"), True), ("decode", _field("decode_loader"), False),
        ("frames", _field("frame_loader"), False), ("store", lambda r: escape(
            f"{_text(r.get('format'))} " + ("" if pd.isna(r.get("quality")) else f"q{r['quality']}")
            + ("" if pd.isna(r.get("store_size")) else f" s{r['store_size']}")
            + ("" if pd.isna(r.get("gop")) else f" g{r['gop']}")), False),
        ("decoding", lambda r: escape("originals" if pd.isna(r.get("decode_format")) else
                                      f"{r['decode_format']} s{r['decode_store_size']} g{r['decode_gop']}"), False),
        ("cache", _field("cache"), False),
        ("extraction", _field("extraction_seconds", seconds), True),
        ("epoch, decode", _field("epoch_seconds_decode", seconds), True),
        ("epoch, frames", _field("epoch_seconds_frames", seconds), True),
        ("pays after (epochs)", lambda r: escape(number(r["crossover_epochs"]) + epoch_range(r))
         if not pd.isna(r["crossover_epochs"]) else '<span class="muted">never</span>', True)])
    return ("<p>After <i>k</i> epochs decoding costs <i>k</i> x T<sub>decode</sub>; extracting costs "
            "X + <i>k</i> x T<sub>frames</sub>. Each chart shows the fastest decoder against the "
            "fastest frame reader at the best DataLoader setting. The range in brackets comes from "
            "the spread of the epoch times (their quartiles); the two sides' epochs ran interleaved.</p>"
            + "".join(_chart(c) for c in charts)
            + f"<details><summary>Every pair ({len(rows)} rows)</summary>{full}</details>")


def _skipped_records(table: pd.DataFrame) -> str:
    count = len(table)
    return (f'<p class="bad">{count} line{"s" if count != 1 else ""} of {escape(str(table["file"].iloc[0]))} '
            f"{'are' if count != 1 else 'is'} not a record a run writes, and "
            f"{'are' if count != 1 else 'is'} left out of every figure below.</p>"
            + _table(table.to_dict("records"), [("line", _field("line"), True),
                                                ("why", _field("reason"), False)], css="unreadable"))


def _left_out(table: pd.DataFrame) -> str:
    count = len(table)
    return (f'<p class="bad">{count} video{"s" if count != 1 else ""} could not be read and '
            f"{'are' if count != 1 else 'is'} left out of every measurement below.</p>"
            + _table(table.to_dict("records"), [("video", _field("video"), False),
                                                ("why", _field("reason"), False)], css="unreadable"))


def _throughput(charts: list[Chart], summary: pd.DataFrame, overhead: pd.DataFrame) -> str:
    if not charts:
        return '<p class="muted">No throughput was measured in this run.</p>'
    names = [n for n in dict.fromkeys(summary["loader"].dropna()) if loader_note(n) and n != BASELINE]
    notes = "".join(f"<li><b>{escape(n)}</b>: {escape(loader_note(n))}</li>" for n in names)
    return ((f"<ul>{notes}</ul>" if notes else "") + "".join(_chart(c) for c in charts) + _overhead(overhead))


def _overhead(table: pd.DataFrame) -> str:
    if table.empty:
        return ""
    share = lambda v: "" if pd.isna(v) else f"{100 * v:.2g}%"  # noqa: E731
    return (f"<h3>Harness overhead</h3><p>The {escape(BASELINE)} loader does no decoding: its time per frame "
            "is the harness's own cost, here as a share of the fastest loader's (and the fastest decoder's) "
            "time per frame, measured with the same calibration.</p>"
            + _table(table.to_dict("records"), [
                ("pattern", _field("pattern"), False), ("profile", _field("profile"), False),
                ("harness per frame", _field("baseline_seconds_per_frame", seconds), True),
                ("fastest", _field("fastest_loader"), False),
                ("share", _field("share_of_fastest", share), True),
                ("fastest decoder", _field("fastest_decode_loader"), False),
                ("share", _field("share_of_fastest_decode", share), True)], css="overhead"))


def _memory(chart: Chart | None) -> str:
    if chart is None:
        return '<p class="muted">No per-epoch memory measurement in this run.</p>'
    return _chart(chart)


def _environment(table: pd.DataFrame) -> str:
    if table.empty:
        return '<p class="muted">No environment recorded.</p>'
    stacks = table.to_dict("records")
    head = "".join(f"<th>{_text(s['stack'])}</th>" for s in stacks)
    body = "".join(
        f"<tr><th>{escape(str(field))}</th>" + "".join(f"<td>{_text(s.get(field))}</td>" for s in stacks)
        + "</tr>" for field in table.columns if field != "stack")
    return (f'<div class="scroll"><table class="environment"><thead><tr><th></th>{head}</tr></thead>'
            f"<tbody>{body}</tbody></table></div>")


def _significant(r: dict[str, Any]) -> bool:
    return r["significant"] is True


def _change(r: dict[str, Any]) -> str:
    value = r["change_pct"]
    if pd.isna(value):
        return '<span class="muted">only in one run</span>'
    if not _significant(r):
        why = "not tested: too few rounds" if pd.isna(r["significant"]) else "not significant"
        return f'{escape(percent(value))} <span class="muted">({why})</span>'
    better = (value > 0) == HIGHER_IS_BETTER.get(r["metric"], True)
    return f'<span class="{"good" if better else "bad"}">{escape(percent(value))}</span>'


def _compare(table: pd.DataFrame, other: str) -> str:
    fmt = {"fps_median": number, "open_seconds": seconds, "peak_rss_bytes": bytes_,
           "seconds": seconds, "bytes": bytes_}
    cell = lambda name: lambda r: escape(fmt.get(r["metric"], number)(r[name]))  # noqa: E731
    columns = [("table", _field("table"), False), ("row", _field("row"), False),
               ("metric", _field("metric"), False), ("before", cell("old"), True),
               ("now", cell("new"), True), ("change", _change, True),
               ("p", _field("p_value", lambda v: "" if pd.isna(v) else f"{v:.3g}"), True)]
    rows = table.to_dict("records")
    # Worse is negative: a regression sorts first whatever the metric's direction.
    def gain(r: dict[str, Any]) -> float:
        return float(r["change_pct"]) * (1 if HIGHER_IS_BETTER.get(r["metric"], True) else -1)

    compared = [r for r in rows if not pd.isna(r["change_pct"])]
    moved = sorted((r for r in compared if _significant(r)), key=gain)
    worse = sum(gain(r) < 0 for r in moved)
    better = sum(gain(r) > 0 for r in moved)
    return (f"<p>Change from <code>{escape(other)}</code> to this run, per row: "
            f'<span class="bad">{worse} worse</span> and <span class="good">{better} better</span> '
            f"of {len(compared)} compared (worst first). A change counts only when the rounds of the two "
            f"runs differ in distribution (Mann-Whitney U, p &lt; {SIGNIFICANCE}), whatever its size; "
            "one-off figures (an extraction, a memory peak) cannot be tested.</p>"
            + (_table(moved, columns, css="compare-moved") if moved else "")
            + f"<details><summary>Every row ({len(rows)}, also in compare.csv)</summary>"
            + _table(rows, columns, css="compare") + "</details>")


def _summary(table: pd.DataFrame) -> str:
    return (f"<details><summary>All {len(table)} rows (also in summary.csv)</summary>"
            + _table(table.to_dict("records"), [
                ("loader", lambda r: escape(loader_label(r)), False), ("kind", _kind, False),
                ("measure", _field("measure"), False), ("pattern", _field("pattern"), False),
                ("profile", _field("profile"), False), ("workers", _field("workers"), True),
                ("status", _field("status"), False), ("fps", _field("fps_median", number), True),
                ("p25", _field("fps_p25", number), True), ("p75", _field("fps_p75", number), True),
                ("first epoch", _field("first_epoch_seconds", seconds), True),
                ("open", _field("open_seconds", seconds), True),
                ("peak RSS", _field("peak_rss_bytes", bytes_), True),
                ("library", _field("library"), False)])
            + "</details>")


def render(tables: dict[str, pd.DataFrame], advice: list[Advice], throughput: list[Chart],
           cumulative: list[Chart], memory: Chart | None, compare: pd.DataFrame | None = None,
           compare_with: str = "", plan_charts: dict[str, Chart] | None = None) -> str:
    """The whole report as one HTML string."""
    env = tables["environment"]
    runs = ", ".join(sorted({str(r) for r in env["run_id"] if r})) if not env.empty else ""
    stacks = ", ".join(str(s) for s in env["stack"]) if not env.empty else "none"
    made = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    sections = [
        ("advice", "Which loader, and does extraction pay?", _advice(advice)),
        ("throughput", "Throughput per access pattern", _throughput(throughput, tables["summary"],
                                                                    tables["overhead"])),
        ("crossover", "When extraction pays", _crossover(tables["crossover"], cumulative)),
        ("extraction", "Extraction: time and disk", _extraction(tables["extraction"])),
        ("exact", "Exact frames", _exactness(tables["summary"])),
        ("memory", "Memory", _memory(memory)),
        ("unavailable", "Unavailable loaders and errors", _unavailable(tables["unavailable"])),
        ("environment", "Environment", _environment(env)),
    ]
    skipped_lines = tables.get("skipped_lines")
    if skipped_lines is not None and not skipped_lines.empty:  # first: the figures below lack these records
        sections.insert(0, ("skipped-records", "Records skipped", _skipped_records(skipped_lines)))
    left_out = tables.get("unreadable_videos")
    if left_out is not None and not left_out.empty:  # first: every figure below lacks these videos
        sections.insert(0, ("warnings", "Videos left out", _left_out(left_out)))
    plan = tables.get("plan")
    if plan is not None:  # the answer at the user's scale opens the report
        sections.insert(0, ("dataset", "Your dataset", _dataset(plan, advice, plan_charts or {})))
    if compare is not None:
        sections.insert(-1, ("compare", "Change against another run", _compare(compare, compare_with)))
    sections.append(("all", "All measurements", _summary(tables["summary"])))
    nav = "".join(f'<a href="#{a}">{escape(t.split(":")[0])}</a>' for a, t, _ in sections)
    body = "".join(_section(a, t, b) for a, t, b in sections)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>vidbench report {escape(runs)}</title><style>{CSS}</style></head><body>"
        f"<header><h1>vidbench: decode on the fly or extract frames?</h1>"
        f"<p>run {escape(runs or 'unnamed')} | stacks: {escape(stacks)} | report made {made}</p></header>"
        f"<nav>{nav}</nav><main>{body}</main></body></html>\n")
