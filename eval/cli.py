"""``mmrag eval DATASET ...`` and ``mmrag eval compare RUN_A RUN_B``."""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rag.errors import InvalidInput
from rag.extras import need
from rag.schema import FUSIONS
from rag.settings import Settings, check_collection

from . import report
from .dataset import load_dataset
from .runner import InProcess, OverHttp, run


def _commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, timeout=5, cwd=Path(__file__).parent).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def main(args: argparse.Namespace, settings: Settings) -> int:
    need("eval", "mmrag eval", "matplotlib", "sacrebleu")
    if args.target[0] == "compare":
        if len(args.target) != 3:
            raise InvalidInput("usage: mmrag eval compare RUN_A RUN_B [--out DIR]")
        out = Path(args.out or Path(args.target[2]) / f"compare-{Path(args.target[1]).name}")
        try:
            detail = report.compare(Path(args.target[1]), Path(args.target[2]), out)
        except FileNotFoundError as e:
            raise InvalidInput(str(e)) from e
        for metric, d in detail.items():
            delta = "–" if d["delta"] is None else f"{d['delta']:+.3f}"
            print(f"{metric:<22} {delta:>8}  wins {len(d['wins']):>3}  losses "
                  f"{len(d['losses']):>3}")
        print(f"report: {out / 'compare.html'}")
        return 0
    if len(args.target) != 1:
        raise InvalidInput("give one dataset (or: compare RUN_A RUN_B)")
    dataset = Path(args.target[0])
    cases = load_dataset(dataset, args.limit)
    stem = re.sub(r"[^A-Za-z0-9_-]", "-", dataset.stem)[:50]
    collection = check_collection(args.collection or f"eval-{stem}")
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    out = Path(args.out or Path("eval-runs") / f"{stem}-{stamp}")
    if args.server:
        backend: Any = OverHttp(args.server, args.api, args.api_key, args.generator)
    else:
        if args.api != "native":
            raise InvalidInput("--api needs --server")
        backend = InProcess(settings, args.generator)
    top_k = args.top_k or settings.top_k
    variants = _variants(args, settings)
    if any(v for _, _, v in variants) and args.server:
        raise InvalidInput("--ablate features runs in-process: the server's settings are "
                           "its own (leave out --server)")
    summaries = {}
    for i, (label, fusion, overrides) in enumerate(variants):
        run_out = out / re.sub(r"[^A-Za-z0-9]+", "-", label) if len(variants) > 1 else out
        if overrides:
            backend.configure(**overrides)
        meta = {"dataset": str(dataset), "cases": len(cases), "backend": backend.kind,
                "server": args.server or "", "collection": collection,
                "generator": args.generator or settings.generator, "fusion": fusion,
                "top_k": top_k, "min_relevance": settings.min_relevance,
                "text_model": settings.text_model, "clip_model": settings.clip_model,
                "variant": label, **{k: str(v) for k, v in overrides.items()},
                "commit": _commit(), "started": stamp}
        records = run(cases, backend, collection, top_k, fusion, run_out, judge=args.judge,
                      ingest=not args.no_ingest and i == 0, progress=_progress(label),
                      log=lambda s: print(s, file=sys.stderr))
        summary = report.summarize(records)
        meta["cost_usd"] = (summary["tokens"]["prompt_tokens"] * args.price_in
                            + summary["tokens"]["completion_tokens"] * args.price_out) / 1e6
        summaries[label] = report.write_report(run_out, records, meta)
        _print_summary(summary, run_out, label)
    if len(variants) > 1:
        print(report.ablation_table(out, summaries))
        print(f"ablation: {out / 'ablation.html'}")
    return 0


def _variants(args: argparse.Namespace, settings: Settings
              ) -> list[tuple[str, str, dict[str, Any]]]:
    """(label, fusion, setting overrides) of each run: one, a run per fusion mode, or the
    answer features each turned off in turn (every override is a setting of the same name)."""
    fusion = args.fusion or settings.fusion
    if args.ablate == "fusion":
        return [(f"fusion={f}", f, {}) for f in FUSIONS]
    if args.ablate == "features":
        on = {"lexical": True, "max_per_document": settings.max_per_document or 2,
              "refusal": "in-corpus", "answer_vectors": "words",
              "multilingual": "auto" if settings.multilingual == "off" else settings.multilingual}
        return [("all on", fusion, on),
                ("multilingual off", fusion, {**on, "multilingual": "off"}),
                ("lexical off", fusion, {**on, "lexical": False}),
                ("diversity off", fusion, {**on, "max_per_document": 0}),
                ("refusal old", fusion, {**on, "refusal": "background"}),
                ("sentences by model", fusion, {**on, "answer_vectors": "model"}),
                ("all off", fusion, {"lexical": False, "max_per_document": 0,
                                     "refusal": "background", "answer_vectors": "model",
                                     "multilingual": "off"})]
    return [(f"fusion={fusion}", fusion, {})]


def _progress(label: str) -> Any:
    from tqdm import tqdm

    return lambda cases: tqdm(cases, desc=f"eval ({label})", unit="case", file=sys.stderr)


def _print_summary(summary: dict[str, Any], out: Path, label: str) -> None:
    o = summary["overall"]
    keys = [k for k in ("hit@5", "mrr", "ndcg@5", "containment", "token_f1",
                        "citation_precision", "groundedness", "refusal_correct") if k in o]
    print(f"{label}: " + ", ".join(
        f"{k} {o[k]:.3f}" for k in keys if o[k] is not None))
    lat = summary["latency"].get("latency_ms")
    if lat:
        print(f"latency p50 {lat['p50']:.0f} ms, p99 {lat['p99']:.0f} ms; "
              f"errors {summary['errors']}; report: {out / 'report.html'}")
