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
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from eval.bench.ingest_retrieval import WORDS, make_corpus
from eval.bench.replicas import free_port, wait

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = [("default", 1), ("default", 4), ("default", 16), ("textonly", 16)]

# run with the version's own code: pads a collection with random unit vectors and prose
PAD = """
import random, sys
import numpy as np
from rag import items
from rag.parts import Parts
from rag.settings import Settings
collection, chunks, images = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
parts = Parts.from_settings(Settings())
lexical = getattr(parts, "lexical", None)
rng, prng = np.random.default_rng(0), random.Random(2)
words = sys.argv[4].split()
def meta(modality, i):
    # as a knowledge base holds them: text in documents of 20 chunks, 20 documents to a
    # folder; each picture its own file (one huge document would make every question search
    # deeper past the retriever's per-document cap)
    if modality == "image":
        return {items.SOURCE: f"padding/{i}.png", items.DOC_ID: f"padding-image-{i}",
                items.MODALITY: modality}
    return {items.SOURCE: f"padding/{i // 400}/{i // 20}.txt",
            items.DOC_ID: f"padding-text-{i // 20}", items.MODALITY: modality}
for modality, target in (("text", chunks), ("image", images)):
    n = target - parts.store.count(collection, modality)
    dim = parts.text.dimension if modality == "text" else parts.images.get().dimension
    for start in range(0, max(n, 0), 2000):
        m = min(2000, n - start)
        v = rng.normal(size=(m, dim)).astype(np.float32)
        v /= np.linalg.norm(v, axis=1, keepdims=True)
        ids = [f"pad-{modality}-{start + i}" for i in range(m)]
        docs = [" ".join(" ".join(prng.choice(words) for _ in range(prng.randint(8, 22))) + "."
                         for _ in range(5)) for _ in range(m)]
        parts.store.upsert(collection, modality, ids, v,
                           [meta(modality, start + i) for i in range(m)],
                           docs if modality == "text" else None)
        if modality == "text" and lexical is not None:
            lexical.upsert(collection, ids, docs)
print(collection, parts.store.count(collection, "text"), parts.store.count(collection, "image"))
"""


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


class Version:
    def __init__(self, name: str, tree: Path, work: Path, env: dict[str, str]):
        self.name, self.tree = name, tree
        self.env = {**env, "PYTHONPATH": str(tree), "MMRAG_DATA_DIR": str(work / name)}
        self.proc: subprocess.Popen | None = None
        self.url = ""
        self.startups: list[float] = []
        self.rss: dict[str, float] = {}  # "ready", "loaded" (the most after any load)

    def run(self, *args: str) -> str:
        out = subprocess.run([sys.executable, *args], env=self.env, cwd=self.tree, check=True,
                             capture_output=True, text=True)
        return out.stdout.strip()

    def build(self, corpus: Path, chunks: int, images: int) -> None:
        self.run("-m", "mmrag", "ingest", "-q", str(corpus))
        self.run("-m", "mmrag", "ingest", "-q", "--collection", "textonly", str(corpus / "texts"))
        for collection, n_images in (("default", images), ("textonly", 0)):
            counts = self.run("-c", PAD, collection, str(chunks), str(n_images), " ".join(WORDS))
            print(f"  {self.name}: {counts} (collection, text items, images)")

    def start(self) -> None:
        port = free_port()
        t0 = time.perf_counter()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "mmrag", "serve", "--port", str(port)], env=self.env,
            cwd=self.tree, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True)
        self.url = f"http://127.0.0.1:{port}"
        wait(self.url + "/readyz", self.proc, f"mmrag serve ({self.name})")
        self.startups.append(time.perf_counter() - t0)
        self.rss["ready"] = self.rss_mib()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(30)

    def rss_mib(self) -> float:
        """The server's resident memory (its process and children), MiB."""
        import psutil

        p = psutil.Process(self.proc.pid)  # type: ignore[union-attr]
        return sum(q.memory_info().rss for q in [p, *p.children(recursive=True)]) / 2**20

    def cpu_seconds(self) -> float:
        import psutil

        p = psutil.Process(self.proc.pid)  # type: ignore[union-attr]
        total = 0.0
        for q in [p, *p.children(recursive=True)]:
            t = q.cpu_times()
            total += t.user + t.system
        return total


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


def worktree(rev: str, work: Path) -> Path:
    path = work / f"tree-{rev}"
    subprocess.run(["git", "worktree", "add", "--detach", "-f", str(path), rev], cwd=ROOT,
                   check=True, capture_output=True)
    return path


def main() -> None:
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
    args = ap.parse_args()

    from rag.testing.models import TRAINING_TEXT, build_random_clip

    work = args.work or Path(tempfile.mkdtemp(prefix="mmrag-serve-load-"))
    vocab = TRAINING_TEXT + "\n" + "\n".join(" ".join(WORDS[i:i + 12])
                                             for i in range(0, len(WORDS), 12))
    clip = args.clip if args.clip not in ("base", "tiny") else str(
        work / "clip" if (work / "clip").is_dir()
        else build_random_clip(work / "clip", args.clip, text=vocab))
    if not (work / "corpus").is_dir():
        make_corpus(work / "corpus", args.chunks, args.images)
    settings = [s for s in SETTINGS if not args.clients or s[1] in args.clients]
    env = {**os.environ, "MMRAG_CLIP_MODEL": clip, "MMRAG_DEVICE": "cpu",
           "MMRAG_INGEST__OCR": "off", "HF_HUB_OFFLINE": "1",
           "MMRAG_CACHE_DIR": str(work / "cache"), "TOKENIZERS_PARALLELISM": "false"}
    before = Version("before", worktree(args.before, work), work, env)
    after = Version("after", ROOT, work, env)
    versions = [before, after]
    rev = subprocess.run(["git", "rev-parse", "--short", args.before], cwd=ROOT, check=True,
                         capture_output=True, text=True).stdout.strip()
    head = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=ROOT, check=True,
                          capture_output=True, text=True).stdout.strip()
    import torch

    print(f"machine: {os.cpu_count()} cores, torch {torch.__version__}; CLIP {args.clip}; "
          f"before {rev}, after {head}; {args.rounds} rounds of {args.seconds:.0f} s per "
          f"setting; work dir {work}")
    results: dict[tuple[str, str, int], list[dict[str, float]]] = {}
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
        subprocess.run(["git", "worktree", "remove", "--force", str(before.tree)], cwd=ROOT,
                       capture_output=True)

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


if __name__ == "__main__":
    main()
