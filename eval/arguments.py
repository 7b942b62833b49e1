"""The arguments of ``mmrag eval``, apart from the harness: the command line builds its
parser from this light module and imports the harness (eval.cli) only to run it."""

from __future__ import annotations

import argparse

from rag.schema import FUSIONS


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("target", nargs="+", metavar="DATASET",
                   help="a JSONL dataset, or: compare RUN_A RUN_B")
    p.add_argument("--server", help="URL of a running mmrag (default: run in-process)")
    p.add_argument("--api", choices=["native", "openai"], default="native",
                   help="with --server: /v1/query (native) or /v1/chat/completions (openai)")
    p.add_argument("--api-key", help="with --server: the API key to send")
    p.add_argument("--collection", help="collection to ingest into and ask (default: "
                   "eval-<dataset name>)")
    p.add_argument("--generator", help="generator to answer with (default: settings)")
    p.add_argument("--fusion", choices=FUSIONS, help="fusion mode (default: settings)")
    p.add_argument("--top-k", type=int, help="hits per question (default: settings)")
    p.add_argument("--ablate", choices=["fusion", "features"],
                   help="run once per fusion mode, or with each answer feature (lexical "
                   "channel, per-document cap, in-corpus refusal) turned off in turn, and "
                   "tabulate")
    p.add_argument("--judge", metavar="GENERATOR",
                   help="also judge groundedness with this generator (in-process only)")
    p.add_argument("--limit", type=int, help="only the first N cases")
    p.add_argument("--no-ingest", action="store_true", help="skip ingesting the corpora")
    p.add_argument("--price-in", type=float, default=0.0, help="USD per 1M prompt tokens")
    p.add_argument("--price-out", type=float, default=0.0, help="USD per 1M completion tokens")
    p.add_argument("--out", help="output folder (default: eval-runs/<dataset>-<time>)")
