"""Benchmark: `mmrag ingest` of one big folder of small files, its memory over the run, and a
run killed halfway then started again.

    python -m eval.bench.folder_ingest [--files 20000] [--kill-at 0.5] [--work DIR]

Writes ``--files`` small Markdown files of generated prose (a heading and a few sentences:
one chunk each) into 40 subfolders, then runs ``mmrag ingest`` on the folder as a user would
(its own process, embedded Chroma and SQLite in a fresh data dir, OCR off), sampling the
process's RSS twice a second against the number of documents the database holds. At
``--kill-at`` of the files it kills the process (SIGKILL), then runs the same command again
and reports what the second run found unchanged, what it ingested, and the store's counts at
the end: every file once, none twice. Documents count when their group is written whole
(``status = 'done'``), so the counts rise a group (``MMRAG_INGEST__GROUP_CHUNKS``) at a
time. Prints RSS at each tenth of the files and the spread from the first 1,000 files to the
end."""

from __future__ import annotations

import argparse
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from eval.bench.corpus import sentence

ROOT = Path(__file__).resolve().parents[2]


def make_folder(root: Path, n: int) -> None:
    rng = random.Random(0)
    for i in range(n):
        folder = root / f"part{i % 40:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        body = " ".join(sentence(rng) for _ in range(rng.randint(2, 4)))
        (folder / f"note{i:05d}.md").write_text(f"# Note {i}\n\n{body}\n")


def documents(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as conn:
            return int(conn.execute("SELECT count(*) FROM documents WHERE status = 'done'"
                                    ).fetchone()[0])
    except sqlite3.Error:
        return -1  # busy: the writer holds it this instant


def run(env: dict[str, str], folder: Path, db: Path, kill_at: int | None
        ) -> tuple[list[tuple[float, int, float]], str, bool]:
    """(seconds, documents, RSS MiB) samples, the command's output, whether it was killed."""
    import psutil

    proc = subprocess.Popen([sys.executable, "-m", "mmrag", "ingest", str(folder)], env=env,
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, start_new_session=True)
    me = psutil.Process(proc.pid)
    samples: list[tuple[float, int, float]] = []
    t0 = time.perf_counter()
    killed = False
    while proc.poll() is None:
        time.sleep(0.5)
        try:
            rss = me.memory_info().rss / 2**20
        except psutil.NoSuchProcess:
            break
        n = documents(db)
        if n >= 0:
            samples.append((time.perf_counter() - t0, n, rss))
        if kill_at is not None and n >= kill_at:
            os.killpg(proc.pid, signal.SIGKILL)
            killed = True
            break
    out = proc.communicate()[0]
    return samples, out, killed


def at_tenths(samples: list[tuple[float, int, float]], total: int) -> list[str]:
    rows = []
    shown = set()
    for k in range(1, 11):
        mark = total * k // 10
        got = [s for s in samples if s[1] >= mark]
        if got and got[0] not in shown:
            shown.add(got[0])
            t, n, rss = got[0]
            rows.append(f"  {n:6,} documents at {t:6.0f} s: RSS {rss:6.0f} MiB")
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--files", type=int, default=20_000)
    ap.add_argument("--kill-at", type=float, default=0.5, help="share of the files; 0: no kill")
    ap.add_argument("--work", type=Path)
    args = ap.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="mmrag-folder-"))
    folder, data = work / "kb", work / "data"
    if not folder.is_dir():
        make_folder(folder, args.files)
    env = {**os.environ, "MMRAG_DATA_DIR": str(data), "MMRAG_INGEST__OCR": "off",
           "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    db = data / "manifest.sqlite3"
    kill = int(args.files * args.kill_at) if args.kill_at else None
    print(f"machine: {os.cpu_count()} cores; {args.files:,} files in {folder}; data {data}")

    first, out, killed = run(env, folder, db, kill)
    print(f"first run: {'killed' if killed else 'ended'} at {first[-1][1]:,} documents, "
          f"{first[-1][0]:.0f} s")
    samples = first
    if killed:
        second, out, _ = run(env, folder, db, None)
        offset = first[-1][0]
        samples = first + [(t + offset, n, r) for t, n, r in second]
        print(f"second run: {second[-1][0]:.0f} s; its report:")
        print("\n".join("  " + line for line in out.strip().splitlines()[:8]))
    print("RSS of the ingesting process by documents stored (both runs):")
    print("\n".join(at_tenths(samples, args.files)))
    for name, part in (("first run", first), ("second run", samples[len(first):])):
        if not part:
            continue
        start = part[0][1]  # what earlier runs had stored: this run's own count starts there
        later = [r for _, n, r in part if n >= start + 1000 and r > 0]
        if later:
            print(f"{name}, from its 1,000th document on: RSS {min(later):.0f}-"
                  f"{max(later):.0f} MiB (spread {(max(later) - min(later)) / min(later):.0%})")
    counts = subprocess.run(
        [sys.executable, "-c", "from rag.parts import Parts; from rag.settings import Settings; "
         "p = Parts.from_settings(Settings()); print(p.store.count('default', 'text'))"],
        env=env, cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
    with sqlite3.connect(db) as conn:
        docs, chunks = conn.execute("SELECT count(*), sum(chunks) FROM documents").fetchone()
    print(f"at the end: {docs:,} documents holding {chunks:,} chunks; the store has {counts} "
          "text items")


if __name__ == "__main__":
    main()
