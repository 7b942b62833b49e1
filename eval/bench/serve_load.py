"""Questions per second of `mmrag serve` under load: the code of another revision (before)
side by side with this tree (after), same machine, same corpus, interleaved rounds.

    python -m eval.bench.serve_load --before REV [--rounds 3] [--seconds 15] [--clip base]

Each version gets its own data dir, built by its own code: `mmrag ingest` of a generated
corpus (prose and pictures, OCR off) into the default collection and, text only, into
"textonly"; both then padded to --pad-chunks / --pad-images items with random unit vectors
(and prose for the padded text items, in the full-text index too where the version has one).
Both servers run at once (one idle while the other is loaded) on the extractive generator.
Load is closed-loop: ``c`` client threads each send the next question as soon as the last
is answered, POST /v1/query with top_k 5; every question in the whole run is distinct. A
round loads each version in turn at each setting; the table gives the median over rounds of
req/s and of p50/p99, with the range of req/s, and the server's CPU (its process and
children, in cores). Start-up is the time from launching `mmrag serve` (ONNX encoders
already exported by an earlier start) to /readyz answering 200. RSS (the server's process
and children) is taken when it is ready and after each load; with ``--ready-seconds``, a
last fresh start is loaded at 16 clients at once, and its first seconds compared with the
same span from 60 s on."""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import statistics
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from eval.bench.corpus import WORDS, make_corpus
from eval.bench.versions import ROOT, Version, worktree

SETTINGS = [("default", 1), ("default", 4), ("default", 16), ("textonly", 16)]

class Questions:
    """Distinct questions of the corpus's words, thread-safe, never repeated in a run."""

    def __init__(self) -> None:
        self.rng = random.Random(1)
        self.seen: set[str] = set()
        self.lock = threading.Lock()

    def next(self) -> str:
        with self.lock:
            while True:
                q = " ".join(self.rng.choice(WORDS) for _ in range(self.rng.randint(4, 12))) + "?"
                if q not in self.seen:
                    self.seen.add(q)
                    return q


def load(version: Version, collection: str, concurrency: int, seconds: float,
         questions: Questions) -> dict[str, float]:
    """Closed loop: each client sends its next question when the last is answered."""
    host, port = version.url.removeprefix("http://").split(":")
    lat: list[float] = []
    errors = 0
    lock = threading.Lock()
    stop = time.perf_counter() + seconds

    def client() -> None:
        nonlocal errors
        conn = http.client.HTTPConnection(host, int(port), timeout=120)
        while time.perf_counter() < stop:
            body = json.dumps({"question": questions.next(), "collection": collection,
                               "top_k": 5})
            t0 = time.perf_counter()
            try:
                conn.request("POST", "/v1/query", body, {"Content-Type": "application/json"})
                resp = conn.getresponse()
                resp.read()
                ok = resp.status == 200
            except (OSError, http.client.HTTPException):
                ok = False
                conn.close()
                conn = http.client.HTTPConnection(host, int(port), timeout=120)
            with lock:
                if ok:
                    lat.append(time.perf_counter() - t0)
                else:
                    errors += 1
        conn.close()

    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    cpu0, t0 = version.cpu_seconds(), time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    took = time.perf_counter() - t0
    cpu = (version.cpu_seconds() - cpu0) / took
    lat.sort()
    at = lambda q: 1000 * lat[min(len(lat) - 1, int(q * len(lat)))] if lat else float("nan")  # noqa: E731
    return {"rps": len(lat) / took, "p50": at(0.5), "p99": at(0.99), "errors": errors,
            "cpu": cpu}


def _arguments() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--before", required=True, help="the revision to compare with (git rev)")
    ap.add_argument("--clip", default="base", help="base or tiny (random weights, real "
                    "shapes), or a CLIP model path")
    ap.add_argument("--chunks", type=int, default=1500, help="ingested text chunks (target)")
    ap.add_argument("--images", type=int, default=100, help="ingested pictures")
    ap.add_argument("--pad-chunks", type=int, default=10_000)
    ap.add_argument("--pad-images", type=int, default=1_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=15, help="per setting per round")
    ap.add_argument("--work", type=Path, help="a work dir of an earlier run: its model, corpus "
                    "and data dirs are used again (data dirs must suit both versions' code)")
    ap.add_argument("--clients", type=int, nargs="*", help="only these concurrency settings")
    ap.add_argument("--ready-seconds", type=float, default=0, help="after the last start: "
                    "req/s at 16 clients in the first this many seconds after /readyz, "
                    "against the same span from 60 s on, and RSS after that")
    return ap.parse_args()


def _versions(args: argparse.Namespace, work: Path) -> list[Version]:
    """Before (a worktree of ``--before``) and after (this tree), with the CLIP model and
    corpus of the work dir (made when it has none)."""
    from rag.testing.models import TRAINING_TEXT, build_random_clip

    vocab = TRAINING_TEXT + "\n" + "\n".join(" ".join(WORDS[i:i + 12])
                                             for i in range(0, len(WORDS), 12))
    clip = args.clip if args.clip not in ("base", "tiny") else str(
        work / "clip" if (work / "clip").is_dir()
        else build_random_clip(work / "clip", args.clip, text=vocab))
    if not (work / "corpus").is_dir():
        make_corpus(work / "corpus", args.chunks, args.images)
    env = {**os.environ, "MMRAG_CLIP_MODEL": clip, "MMRAG_DEVICE": "cpu",
           "MMRAG_INGEST__OCR": "off", "HF_HUB_OFFLINE": "1",
           "MMRAG_CACHE_DIR": str(work / "cache"), "TOKENIZERS_PARALLELISM": "false"}
    return [Version("before", worktree(args.before, work), work, env),
            Version("after", ROOT, work, env)]


Results = dict[tuple[str, str, int], list[dict[str, float]]]


def _rounds(args: argparse.Namespace, versions: list[Version], settings: list[tuple[str, int]],
            questions: Questions) -> Results:
    """Each round loads each version at each setting, in alternating order, after 2 s of
    warm-up; prints every measurement."""
    results: Results = {}
    for r in range(args.rounds):
        for collection, c in settings:
            for v in (versions if r % 2 == 0 else versions[::-1]):
                load(v, collection, c, 2, questions)  # warm-up
                got = load(v, collection, c, args.seconds, questions)
                results.setdefault((v.name, collection, c), []).append(got)
                v.rss["loaded"] = max(v.rss.get("loaded", 0.0), v.rss_mib())
                print(f"  round {r + 1} {v.name:6} {collection:8} c={c:<2}: "
                      f"{got['rps']:6.1f} req/s p50 {got['p50']:5.0f} ms p99 "
                      f"{got['p99']:5.0f} ms cpu {got['cpu']:.2f} errors {got['errors']:.0f}",
                      flush=True)
    return results


def _report(args: argparse.Namespace, versions: list[Version], settings: list[tuple[str, int]],
            results: Results, ready: dict[str, tuple[float, float, float]]) -> None:
    print("\n| collection | clients | version | req/s (median, range) | p50 ms | p99 ms | "
          "server CPU (cores) | errors |")
    print("|---|---|---|---|---|---|---|---|")
    for collection, c in settings:
        medians = {}
        for v in versions:
            rs = results[(v.name, collection, c)]
            rps = [x["rps"] for x in rs]
            medians[v.name] = statistics.median(rps)
            med = lambda k: statistics.median(x[k] for x in rs)  # noqa: E731, B023
            print(f"| {collection} | {c} | {v.name} | {medians[v.name]:.1f} "
                  f"({min(rps):.1f}-{max(rps):.1f}) | {med('p50'):.0f} | {med('p99'):.0f} | "
                  f"{med('cpu'):.2f} | {sum(x['errors'] for x in rs):.0f} |")
        print(f"| {collection} | {c} | after/before | "
              f"**{medians['after'] / medians['before']:.2f}x** | | | | |")
    for v in versions:
        print(f"start-up ({v.name}, warm cache): "
              + ", ".join(f"{s:.1f} s" for s in v.startups)
              + f"; RSS ready {v.rss.get('ready', 0):.0f} MiB, after load "
              f"{v.rss.get('loaded', 0):.0f} MiB (its process and children)")
    for name, (early, steady, rss_then) in ready.items():
        print(f"first {args.ready_seconds:.0f} s after ready ({name}): {early:.1f} req/s, "
              f"from 60 s: {steady:.1f} req/s ({early / steady:.0%}); RSS then {rss_then:.0f} MiB")


def main() -> None:
    args = _arguments()
    work = args.work or Path(tempfile.mkdtemp(prefix="mmrag-serve-load-"))
    versions = _versions(args, work)
    settings = [s for s in SETTINGS if not args.clients or s[1] in args.clients]
    rev = subprocess.run(["git", "rev-parse", "--short", args.before], cwd=ROOT, check=True,
                         capture_output=True, text=True).stdout.strip()
    head = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=ROOT, check=True,
                          capture_output=True, text=True).stdout.strip()
    import torch

    print(f"machine: {os.cpu_count()} cores, torch {torch.__version__}; CLIP {args.clip}; "
          f"before {rev}, after {head}; {args.rounds} rounds of {args.seconds:.0f} s per "
          f"setting; work dir {work}")
    ready: dict[str, tuple[float, float, float]] = {}
    questions = Questions()
    try:
        for v in versions:
            if not Path(v.env["MMRAG_DATA_DIR"]).is_dir():
                v.build(work / "corpus", args.pad_chunks, args.pad_images)
        for v in versions:  # the first start exports the ONNX encoders; later starts are warm
            v.start()
            v.stop()
            v.startups.clear()
            v.start()
        results = _rounds(args, versions, settings, questions)
        for v in versions:  # start-up on a warm cache, once more each
            v.stop()
            v.start()
            if args.ready_seconds:  # the first seconds after ready against later ones
                first = load(v, "default", 16, args.ready_seconds, questions)
                load(v, "default", 16, 60 - args.ready_seconds, questions)
                later = load(v, "default", 16, args.ready_seconds, questions)
                ready[v.name] = (first["rps"], later["rps"], v.rss_mib())
    finally:
        for v in versions:
            v.stop()
        subprocess.run(["git", "worktree", "remove", "--force", str(versions[0].tree)],
                       cwd=ROOT, capture_output=True)
    _report(args, versions, settings, results, ready)


if __name__ == "__main__":
    main()
