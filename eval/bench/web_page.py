"""The web page, measured in headless Chromium (Playwright; Debian's chromium):

    python -m eval.bench.web_page [--questions 5]

It ingests the sample knowledge base (OCR off) into a temporary data dir, starts `mmrag serve`,
loads the page and asks the sample questions. It prints the bytes of the first load, the time
from pressing Ask to the first answer token (measured by the page, ``data-first-token-ms``)
and to the whole answer, and the console errors and images without alt text it saw."""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
QUESTIONS = ["How many days do I have to submit my travel expenses?", "When is salary paid?",
             "How long must passwords be?", "Where do employees park?",
             "How many vacation days do I get?"]


def _wait_ready(url: str, seconds: float = 120) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            if httpx.get(url + "/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.5)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--questions", type=int, default=5)
    args = ap.parse_args()
    from playwright.sync_api import expect, sync_playwright

    work = Path(tempfile.mkdtemp(prefix="mmrag-web-"))
    env = {**os.environ, "MMRAG_DATA_DIR": str(work), "MMRAG_INGEST__OCR": "off",
           "HF_HUB_OFFLINE": "1"}
    subprocess.run([sys.executable, "-m", "mmrag", "ingest", "-q", str(ROOT / "examples/kb")],
                   env=env, cwd=ROOT, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([sys.executable, "-m", "mmrag", "serve", "--port", str(port)],
                              env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        _wait_ready(url)
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=shutil.which("chromium"), headless=True,
                args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
            page = browser.new_page()
            sizes: dict[str, int] = {}
            errors: list[str] = []
            page.on("response", lambda r: sizes.__setitem__(r.url, len(r.body())))
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(url + "/")
            page.wait_for_selector("#documents li", state="attached")
            first_load = sum(sizes.values())
            first, whole = [], []
            for i, q in enumerate(QUESTIONS[: args.questions]):
                page.fill("#question", q)
                t0 = time.perf_counter()
                page.click("#ask button[type=submit]")
                answer = page.locator("#turns li.answer").nth(i)
                expect(answer).to_have_attribute("data-done", "ok", timeout=60000)
                whole.append((time.perf_counter() - t0) * 1000)
                first.append(float(answer.get_attribute("data-first-token-ms") or "nan"))
            no_alt = page.locator("img:not([alt])").count()
            browser.close()
        print(f"machine: {os.cpu_count()} cores; examples/kb, extractive answers, "
              f"{len(first)} questions")
        print(f"first load: {first_load / 1024:.1f} KB in {len(sizes)} responses")
        print(f"first answer token: median {statistics.median(first):.0f} ms "
              f"(min {min(first):.0f}, max {max(first):.0f})")
        print(f"whole answer with sources: median {statistics.median(whole):.0f} ms")
        print(f"console errors: {len(errors)}; images without alt text: {no_alt}")
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(30)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
