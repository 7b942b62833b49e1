"""Property-based requests from the OpenAPI spec (schemathesis, its command line) against a
real server, with every check schemathesis has, on positive and negative data: no generated
request gets a 5xx; every status, content type, header and body is what the spec says; data
the spec allows is not refused as invalid (422), and data it forbids is refused
(tests/server/schemathesis.toml says which statuses count, and why). The server's own request
counter says how many requests arrived and with what status, independently of schemathesis's
report."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

pytestmark = [pytest.mark.slow, pytest.mark.integration]
MIN_REQUESTS = 1000


def _statuses(metrics: str) -> dict[str, float]:
    counts: dict[str, float] = {}
    for m in re.finditer(r'^mmrag_http_requests_total\{[^}]*status="(\d+)"[^}]*\} (\S+)$',
                         metrics, re.M):
        counts[m.group(1)] = counts.get(m.group(1), 0) + float(m.group(2))
    return counts


def test_generated_requests_get_no_server_error(live, tmp_path, capsys):
    exe = shutil.which("schemathesis", path=str(Path(sys.executable).parent))
    assert exe, "schemathesis is a test dependency: pip install -e '.[test]'"
    run = subprocess.run(
        [exe, "--config-file", str(Path(__file__).with_name("schemathesis.toml")), "run",
         f"{live.url}/openapi.json", "--max-examples", "110",
         "--request-timeout", "60", "--seed", "1", "--no-color"],
        capture_output=True, text=True, encoding="utf-8", timeout=900, cwd=tmp_path)
    with httpx.Client(base_url=live.url) as http:
        counts = _statuses(http.get("/metrics").text)
    total = sum(counts.values())
    with capsys.disabled():
        print(f"\nschemathesis: {total:.0f} requests reached the server; by status: "
              + ", ".join(f"{k}: {v:.0f}" for k, v in sorted(counts.items())))
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
    assert total >= MIN_REQUESTS
    assert not [s for s in counts if s.startswith("5")], counts
