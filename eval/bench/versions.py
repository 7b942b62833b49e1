"""A version of mmrag run as a server for the benchmarks: its own tree (a git worktree of
another revision, or this one), its own data dir built by its own code, its process, its
start-up times, RSS and CPU."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from eval.bench.corpus import WORDS
from eval.bench.replicas import free_port, wait

ROOT = Path(__file__).resolve().parents[2]

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


def worktree(rev: str, work: Path) -> Path:
    path = work / f"tree-{rev}"
    subprocess.run(["git", "worktree", "add", "--detach", "-f", str(path), rev], cwd=ROOT,
                   check=True, capture_output=True)
    return path
