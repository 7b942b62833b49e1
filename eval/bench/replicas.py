"""Query throughput of one and of two `mmrag serve` replicas over one Chroma server, and
what a replica costs in memory.

    python -m eval.bench.replicas [--clip base|tiny|PATH] [--seconds 20] [--concurrency 8]

It starts a Chroma server (`chroma run`) on a free port, ingests the sample knowledge base
(examples/kb, OCR off) through `mmrag ingest`, then starts the replicas as processes, each
with its own data dir, sharing the Chroma server, a SQLite database file and an image folder
(one machine; on several, PostgreSQL and S3 take those two roles, see deploy/). Load is
closed-loop: ``concurrency`` threads each send the next question as soon as the last is
answered (extractive answers, so the model work is retrieval: embedding the question with
MiniLM and CLIP's text encoder, and the Chroma queries), round-robin over the replicas."""

from __future__ import annotations

import argparse
import itertools
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
QUESTIONS = [
    "How many days do I have to submit my travel expenses?", "What is the guest Wi-Fi password?",
    "How long must passwords be?", "When is salary paid?", "Where do employees park?",
    "Which hotels can I book?", "How many vacation days do I get?", "Who do I call for IT help?",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait(url: str, proc: subprocess.Popen, what: str, timeout: float = 300) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{what} exited with {proc.returncode}")
        try:
            if httpx.get(url, timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)  # start-up times are read to 0.05 s
    raise SystemExit(f"{what} did not become ready")


def rss_mib(pid: int) -> float:
    import psutil

    p = psutil.Process(pid)
    return sum(q.memory_info().rss for q in [p, *p.children(recursive=True)]) / 2**20


def load(urls: list[str], seconds: float, concurrency: int) -> dict[str, float]:
    lat: list[float] = []
    errors = 0
    stop = time.time() + seconds
    targets = itertools.cycle(urls)
    questions = itertools.cycle(QUESTIONS)
    lock = threading.Lock()

    def worker() -> None:
        nonlocal errors
        with httpx.Client(timeout=60) as client:
            while time.time() < stop:
                with lock:
                    url, q = next(targets), next(questions)
                t0 = time.perf_counter()
                r = client.post(url + "/v1/query", json={"question": q})
                with lock:
                    if r.status_code == 200:
                        lat.append(time.perf_counter() - t0)
                    else:
                        errors += 1

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    took = time.perf_counter() - t0
    lat.sort()
    return {"qps": len(lat) / took, "p50_ms": 1000 * lat[len(lat) // 2],
            "p95_ms": 1000 * lat[int(len(lat) * 0.95)], "answered": len(lat), "errors": errors}


def _replica(env: dict[str, str], data: Path) -> tuple[str, subprocess.Popen]:
    """``mmrag serve`` on a free port with its own data dir, once ready: (url, process)."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "mmrag", "serve", "--port", str(port)],
                            env={**env, "MMRAG_DATA_DIR": str(data)}, cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        wait(f"http://127.0.0.1:{port}/readyz", proc, "mmrag serve")
    except BaseException:
        os.killpg(proc.pid, signal.SIGTERM)
        raise
    return f"http://127.0.0.1:{port}", proc


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clip", default="base", help="base or tiny (random weights, real "
                    "shapes), or a CLIP model path")
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--concurrency", type=int, default=8)
    args = ap.parse_args()

    from rag.testing.models import build_random_clip

    work = Path(tempfile.mkdtemp(prefix="mmrag-replicas-"))
    clip = (str(build_random_clip(work / "clip", args.clip)) if args.clip in ("base", "tiny")
            else args.clip)
    chroma_port = free_port()
    procs: list[subprocess.Popen] = []
    chroma = subprocess.Popen(
        [str(Path(sys.executable).parent / "chroma"), "run", "--path", str(work / "chroma"),
         "--host", "127.0.0.1", "--port", str(chroma_port)], stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL, start_new_session=True)
    procs.append(chroma)
    env = {**os.environ, "MMRAG_CHROMA_URL": f"http://127.0.0.1:{chroma_port}",
           "MMRAG_DATABASE_URL": f"sqlite:///{work}/shared.db",
           "MMRAG_BLOBS_URL": str(work / "images"), "MMRAG_CLIP_MODEL": clip,
           "MMRAG_DEVICE": "cpu", "MMRAG_INGEST__OCR": "off", "HF_HUB_OFFLINE": "1",
           "MMRAG_CACHE_DIR": str(work / "cache")}
    try:
        wait(f"http://127.0.0.1:{chroma_port}/api/v2/heartbeat", chroma, "chroma run")
        subprocess.run([sys.executable, "-m", "mmrag", "ingest", "-q", str(ROOT / "examples/kb")],
                       env={**env, "MMRAG_DATA_DIR": str(work / "ingest")}, cwd=ROOT,
                       check=True, stdout=subprocess.DEVNULL)
        import torch

        print(f"machine: {os.cpu_count()} cores, torch {torch.__version__}; CLIP {args.clip}; "
              f"{args.concurrency} clients for {args.seconds:.0f} s per run; examples/kb, "
              "extractive answers")
        print("\n| replicas | queries/s | p50 ms | p95 ms | answered | errors | "
              "RSS per replica MiB |")
        print("| --- | --- | --- | --- | --- | --- | --- |")
        replicas: list[tuple[str, subprocess.Popen]] = []
        for n in (1, 2):
            while len(replicas) < n:
                replicas.append(_replica(env, work / f"replica{len(replicas)}"))
                procs.append(replicas[-1][1])
            urls = [u for u, _ in replicas]
            load(urls, 3, args.concurrency)  # warm-up
            got = load(urls, args.seconds, args.concurrency)
            mem = " / ".join(f"{rss_mib(p.pid):.0f}" for _, p in replicas)
            print(f"| {n} | {got['qps']:.1f} | {got['p50_ms']:.0f} | {got['p95_ms']:.0f} | "
                  f"{got['answered']:.0f} | {got['errors']:.0f} | {mem} |")
    finally:
        for p in reversed(procs):
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
                p.wait(30)


if __name__ == "__main__":
    main()
