"""Reports: aggregate a run's records, write report.md and a self-contained report.html with
plots (matplotlib, embedded as PNG), and compare two runs case by case."""

from __future__ import annotations

import base64
import html
import io
import json
import math
from pathlib import Path
from typing import Any

from .metrics import percentile

STAGES = ("embed_ms", "search_ms", "fuse_ms", "generate_ms", "latency_ms")


def load_records(run_dir: str | Path) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    run = Path(run_dir)
    path = run / "results.jsonl"
    if not path.is_file():
        raise FileNotFoundError(f"{run} holds no results.jsonl (is it an eval output folder?)")
    records = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    meta = json.loads((run / "run.json").read_text()) if (run / "run.json").is_file() else {}
    return records, meta


def _mean(values: list[float]) -> float | None:
    vals = [v for v in values if v is not None and not math.isnan(v)]
    return sum(vals) / len(vals) if vals else None


def group_of(rec: dict[str, Any]) -> str:
    if rec.get("group"):
        return str(rec["group"])
    return "unanswerable" if rec.get("unanswerable") else rec["modality"]


def summarize(records: list[dict[str, Any]]) -> dict[str, Any]:
    """{'overall': {metric: mean}, 'by_group': {group: {metric: mean}}, 'counts', 'latency',
    'tokens', 'errors'}. A metric's mean is over the cases it applies to."""
    names = sorted({k for r in records for k in r["metrics"]})
    groups = sorted({group_of(r) for r in records})

    def agg(rs: list[dict[str, Any]]) -> dict[str, float | None]:
        return {n: _mean([r["metrics"].get(n) for r in rs if n in r["metrics"]]) for n in names}

    latency = {}
    for stage in STAGES:
        vals = [r["latency_ms"] if stage == "latency_ms" else r.get("timings_ms", {}).get(stage)
                for r in records]
        vals = [v for v in vals if v is not None]
        if vals:
            latency[stage] = {"p50": percentile(vals, 50), "p90": percentile(vals, 90),
                              "p99": percentile(vals, 99), "n": len(vals)}
    tokens = {k: sum(int(r.get("usage", {}).get(k) or 0) for r in records)
              for k in ("prompt_tokens", "completion_tokens")}
    return {"overall": agg(records),
            "by_group": {g: agg([r for r in records if group_of(r) == g]) for g in groups},
            "counts": {g: sum(group_of(r) == g for r in records) for g in groups},
            "latency": latency, "tokens": tokens,
            "errors": sum(1 for r in records if r.get("error"))}


def _fmt(v: float | None, metric: str = "") -> str:
    if v is None:
        return "–"
    return f"{v:.1f}" if metric == "bleu" else f"{v:.3f}"


def _png(fig: Any) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode()


def plots(summary: dict[str, Any], records: list[dict[str, Any]]) -> dict[str, str]:
    """Base64 PNGs: metric bars per modality, latency distributions."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = {}
    metrics = [n for n in ("hit@5", "mrr", "ndcg@5", "containment", "token_f1",
                           "refusal_correct", "groundedness") if n in summary["overall"]]
    metrics += [n for n in summary["overall"] if n.startswith(("hit@", "ndcg@"))
                and n not in metrics]
    groups = list(summary["by_group"])
    if metrics and groups:
        fig, ax = plt.subplots(figsize=(max(6, 1.3 * len(metrics)), 3.6))
        width = 0.8 / len(groups)
        for i, g in enumerate(groups):
            vals = [summary["by_group"][g].get(n) or 0 for n in metrics]
            ax.bar([x + i * width for x in range(len(metrics))], vals, width, label=g)
        ax.set_xticks([x + width * (len(groups) - 1) / 2 for x in range(len(metrics))], metrics)
        ax.set_ylim(0, 1.05)
        ax.set_title("Metrics by modality")
        ax.legend(fontsize=8, ncol=len(groups))
        out["metrics"] = _png(fig)
    stages = [s for s in STAGES if s in summary["latency"]]
    if stages:
        data = [[r["latency_ms"] if s == "latency_ms" else r.get("timings_ms", {}).get(s)
                 for r in records] for s in stages]
        data = [[v for v in d if v is not None] for d in data]
        fig, ax = plt.subplots(figsize=(7, 3.2))
        ax.boxplot(data, tick_labels=[s.removesuffix("_ms") for s in stages], showfliers=True)
        ax.set_yscale("log")
        ax.set_ylabel("ms")
        ax.set_title("Latency per stage")
        out["latency"] = _png(fig)
    return out


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def _html_table(header: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>"
                   for r in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


CSS = ("body{font-family:system-ui,sans-serif;max-width:1000px;margin:2em auto;color:#222}"
       "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;"
       "text-align:right}th{background:#f4f4f4}td:first-child,th:first-child{text-align:left}"
       "img{max-width:100%}code{background:#f4f4f4;padding:1px 4px}")


def _sections(summary: dict[str, Any], meta: dict[str, Any]) -> list[tuple[str, list[str],
                                                                           list[list[str]]]]:
    settings = [[k, str(v)] for k, v in meta.items()]
    groups = list(summary["by_group"])
    metric_rows = [[n, _fmt(summary["overall"][n], n)]
                   + [_fmt(summary["by_group"][g].get(n), n) for g in groups]
                   for n in summary["overall"]]
    lat_rows = [[s.removesuffix("_ms"), f"{v['p50']:.1f}", f"{v['p90']:.1f}", f"{v['p99']:.1f}",
                 str(v["n"])] for s, v in summary["latency"].items()]
    counts = ", ".join(f"{g}: {n}" for g, n in summary["counts"].items())
    cost = meta.get("cost_usd")
    totals = [["cases", f"{sum(summary['counts'].values())} ({counts})"],
              ["errors", str(summary["errors"])],
              ["prompt tokens", str(summary["tokens"]["prompt_tokens"])],
              ["completion tokens", str(summary["tokens"]["completion_tokens"])]]
    if cost is not None:
        totals.append(["cost (USD)", f"{cost:.4f}"])
    return [("Settings", ["setting", "value"], settings),
            ("Totals", ["", ""], totals),
            ("Metrics", ["metric", "overall", *groups], metric_rows),
            ("Latency (ms)", ["stage", "p50", "p90", "p99", "n"], lat_rows)]


def write_report(out: Path, records: list[dict[str, Any]], meta: dict[str, Any]) -> dict:
    summary = summarize(records)
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    (out / "run.json").write_text(json.dumps(meta, indent=2))
    sections = _sections(summary, meta)
    md = [f"# mmrag evaluation: {meta.get('dataset', '')}", ""]
    for title, header, rows in sections:
        md += [f"## {title}", "", _table(header, rows), ""]
    (out / "report.md").write_text("\n".join(md))
    images = plots(summary, records)
    body = [f"<h1>mmrag evaluation: {html.escape(str(meta.get('dataset', '')))}</h1>"]
    for title, header, rows in sections:
        body.append(f"<h2>{html.escape(title)}</h2>{_html_table(header, rows)}")
        if title == "Metrics" and "metrics" in images:
            body.append(f'<img alt="metrics by modality" '
                        f'src="data:image/png;base64,{images["metrics"]}">')
        if title.startswith("Latency") and "latency" in images:
            body.append(f'<img alt="latency per stage" '
                        f'src="data:image/png;base64,{images["latency"]}">')
    (out / "report.html").write_text(
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>mmrag evaluation</title>"
        f"<style>{CSS}</style></head><body>{''.join(body)}</body></html>")
    return summary


def compare(run_a: Path, run_b: Path, out: Path) -> dict[str, Any]:
    """Per-metric deltas (B - A) and, per metric, the cases B wins and loses."""
    a_recs, a_meta = load_records(run_a)
    b_recs, b_meta = load_records(run_b)
    a_sum, b_sum = summarize(a_recs), summarize(b_recs)
    b_by_id = {r["id"]: r for r in b_recs}
    rows, detail = [], {}
    for metric in sorted(set(a_sum["overall"]) | set(b_sum["overall"])):
        av, bv = a_sum["overall"].get(metric), b_sum["overall"].get(metric)
        wins: list[str] = []
        losses: list[str] = []
        for ra in a_recs:
            rb = b_by_id.get(ra["id"])
            if rb is None:
                continue
            x, y = ra["metrics"].get(metric), rb["metrics"].get(metric)
            if x is None or y is None or x == y:
                continue
            better = y > x if not metric.startswith("ocr_") else y < x
            (wins if better else losses).append(ra["id"])
        delta = None if av is None or bv is None else bv - av
        rows.append([metric, _fmt(av, metric), _fmt(bv, metric),
                     "–" if delta is None else f"{delta:+.3f}", str(len(wins)), str(len(losses))])
        detail[metric] = {"a": av, "b": bv, "delta": delta, "wins": wins, "losses": losses}
    out.mkdir(parents=True, exist_ok=True)
    header = ["metric", "A", "B", "B − A", "cases B wins", "cases B loses"]
    title = f"{run_a} (A) vs {run_b} (B)"
    md = [f"# mmrag comparison: {title}", "", _table(header, rows), ""]
    for metric, d in detail.items():
        if d["wins"] or d["losses"]:
            md.append(f"- **{metric}**: B wins {', '.join(d['wins']) or '–'}; "
                      f"B loses {', '.join(d['losses']) or '–'}")
    (out / "compare.md").write_text("\n".join(md) + "\n")
    img = _delta_plot(detail)
    (out / "compare.html").write_text(
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>mmrag comparison</title>"
        f"<style>{CSS}</style></head><body><h1>{html.escape(title)}</h1>"
        f"<p>A: {html.escape(json.dumps(a_meta))}<br>B: {html.escape(json.dumps(b_meta))}</p>"
        f"{_html_table(header, rows)}"
        + (f'<img alt="deltas" src="data:image/png;base64,{img}">' if img else "")
        + "</body></html>")
    (out / "compare.json").write_text(json.dumps(detail, indent=2))
    return detail


def _delta_plot(detail: dict[str, Any]) -> str | None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    items = [(k, v["delta"]) for k, v in detail.items()
             if v["delta"] is not None and k != "bleu"]
    if not items:
        return None
    fig, ax = plt.subplots(figsize=(7, 0.35 * len(items) + 1))
    ax.barh([k for k, _ in items], [d for _, d in items],
            color=["#2a7" if d >= 0 else "#c44" for _, d in items])
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_title("B − A per metric")
    return _png(fig)


GROUP_METRICS = ("hit@5", "containment", "refusal_correct", "ocr_cer", "ocr_wer")


def ablation_table(out: Path, runs: dict[str, dict[str, Any]]) -> str:
    """One row per setting, one column per headline metric; written as ablation.md/html."""
    metrics = sorted({m for s in runs.values() for m in s["overall"]})
    header = ["setting", *metrics, "p50 ms"]
    rows = [[name, *[_fmt(s["overall"].get(m), m) for m in metrics],
             f"{s['latency'].get('latency_ms', {}).get('p50', float('nan')):.1f}"]
            for name, s in runs.items()]
    # per group: what each group is for (retrieval, the fact in the answer, refusing)
    groups = sorted({g for s in runs.values() for g in s["by_group"]})
    cols = [(g, m) for g in groups for m in GROUP_METRICS
            if any(s["by_group"].get(g, {}).get(m) is not None for s in runs.values())]
    g_header = ["setting", *[f"{g} {m}" for g, m in cols]]
    g_rows = [[name, *[_fmt(s["by_group"].get(g, {}).get(m), m) for g, m in cols]]
              for name, s in runs.items()]
    md = ("# mmrag ablation\n\n" + _table(header, rows) + "\n\n## By group\n\n"
          + _table(g_header, g_rows) + "\n")
    (out / "ablation.md").write_text(md)
    (out / "ablation.html").write_text(
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>mmrag ablation</title>"
        f"<style>{CSS}</style></head><body><h1>Ablation</h1>{_html_table(header, rows)}"
        f"<h2>By group</h2>{_html_table(g_header, g_rows)}</body></html>")
    return md
