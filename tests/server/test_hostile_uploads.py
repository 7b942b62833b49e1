"""Hostile uploads against a real `mmrag serve` process: the corpus of tests/server/hostile/
is uploaded one file at a time. The server never dies, answers every upload within 60 s with a
result or a clear error, its memory (server and decoder processes together) stays under 3 GB,
and the documents ingested before are unchanged. The slowest case and the peak memory are
printed."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import psutil
import pytest

from .conftest import free_port
from .hostile import corpus

pytestmark = [pytest.mark.slow, pytest.mark.integration]
ROOT = Path(__file__).resolve().parents[2]
GOOD = ["travel-expense-policy.md", "onboarding-faq.txt", "it-security-guidelines.html"]
RSS_LIMIT = 3 * 1024**3
ANSWER_WITHIN_S = 60


class _Peak(threading.Thread):
    """Samples the resident memory of a process and its children."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.proc = psutil.Process(pid)
        self.peak = self.peak_server = 0
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                server = self.proc.memory_info().rss
                total = server + sum(c.memory_info().rss for c in self.proc.children(True))
            except psutil.Error:
                total = server = 0
            self.peak, self.peak_server = max(self.peak, total), max(self.peak_server, server)
            time.sleep(0.05)


@pytest.fixture
def server(tmp_path, tiny_clip_dir):
    port = free_port()
    env = {**os.environ, "MMRAG_DATA_DIR": str(tmp_path / "data"),
           "MMRAG_CLIP_MODEL": str(tiny_clip_dir), "MMRAG_DEVICE": "cpu",
           "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)}
    log = (tmp_path / "server.log").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "mmrag", "serve", "--port", str(port)],
                            env=env, cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 180
    while True:
        assert proc.poll() is None, (tmp_path / "server.log").read_text()[-3000:]
        try:
            if httpx.get(url + "/healthz", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        assert time.time() < deadline, "the server did not start"
        time.sleep(0.3)
    yield proc, url
    proc.terminate()
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


def _state(http: httpx.Client) -> tuple[list, list]:
    docs = sorted((d["id"], d["sha256"], d["chunks"], d["images"])
                  for d in http.get("/v1/documents").json()["documents"])
    answer = http.post("/v1/query", json={"question": "How many days do I have to submit "
                                          "my travel expenses?"}).json()
    return docs, [(h["id"], round(h["score"], 4)) for h in answer["hits"]]


def test_no_hostile_upload_takes_the_server_down(server, capsys):
    proc, url = server
    files = corpus()
    assert len(files) >= 60
    kb = ROOT / "examples" / "kb"
    with httpx.Client(base_url=url, timeout=ANSWER_WITHIN_S + 30) as http:
        r = http.post("/v1/ingest", files=[("files", (n, (kb / n).read_bytes())) for n in GOOD])
        assert r.status_code == 200 and r.json()["chunks"] > 0, r.text
        before = _state(http)
        peak = _Peak(proc.pid)
        peak.start()
        times: dict[str, float] = {}
        outcomes: dict[str, str] = {}
        for name, build in files.items():
            data = build()
            t0 = time.perf_counter()
            r = http.post("/v1/ingest", files=[("files", (name, data))],
                          data={"collection": "hostile"})
            times[name] = time.perf_counter() - t0
            assert proc.poll() is None, f"the server died on {name}"
            assert r.status_code in (200, 400, 413), (name, r.status_code, r.text)
            if r.status_code == 200:
                (result,) = r.json()["files"]
                if result["status"] in ("skipped", "failed"):
                    assert result["reason"].strip(), (name, result)  # never an empty reason
                outcomes[name] = f"{result['status']}: {result['reason']}"
            else:
                outcomes[name] = f"{r.status_code}: {r.json()['error']['message']}"
            assert times[name] < ANSWER_WITHIN_S, (name, times[name])
            assert http.get("/healthz").status_code == 200
        peak.stop.set()
        peak.join()
        assert _state(http) == before  # what was stored before is untouched
    slowest = max(times, key=times.__getitem__)
    with capsys.disabled():
        print(f"\nhostile corpus: {len(files)} files; slowest {slowest} "
              f"{times[slowest]:.1f} s; peak RSS {peak.peak / 2**20:.0f} MiB (server "
              f"{peak.peak_server / 2**20:.0f} MiB, the rest in decoder processes)")
        for name in sorted(files):
            print(f"  {times[name]:6.2f} s  {name:26} {outcomes[name][:110]}")
    assert peak.peak < RSS_LIMIT
    # the bombs are refused for the limit that stops them, not by luck
    assert "MAX_INFLATED_BYTES" in outcomes["zip-bomb.docx"]
    assert "MAX_INFLATED_BYTES" in outcomes["zip-bomb.pptx"]
    assert "DTD" in outcomes["billion-laughs.docx"] and "DTD" in outcomes["xxe.docx"]
    assert outcomes["aes-empty-password.pdf"].startswith("ingested")
    assert "password" in outcomes["aes-password.pdf"]
    assert "pixels" in outcomes["huge.png"]
    assert outcomes["question-marks.txt"].startswith("ingested")
    assert outcomes["bangs.md"].startswith("ingested")
