"""The MCP server, through the official `mcp` client: over streamable HTTP against a live
server (with keys: two tenants), and over stdio against `mmrag mcp` in its own process."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import httpx2
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError

from ingest.pipeline import Ingestor

from .conftest import LiveServer, free_port
from .hostile.pdf import pdf_text

pytestmark = [pytest.mark.slow, pytest.mark.integration]
TOOLS = {"search", "answer", "list_collections", "list_documents", "fetch"}


@pytest.fixture
def tenants(settings, service, kb, tmp_path):
    keys = {"keys": [{"key": "alpha-key", "collections": ["alpha"]},
                     {"key": "beta-key", "collections": ["beta"]}]}
    (tmp_path / "keys.json").write_text(json.dumps(keys))
    settings.api_keys_file = tmp_path / "keys.json"
    with LiveServer(service) as live:
        for name, files in (("alpha", ["onboarding-faq.txt", "img/red.png"]),
                            ("beta", ["office-guide.md", "img/green.jpg"])):
            upload = [("files", (Path(f).name, (kb / f).read_bytes())) for f in files]
            r = httpx.post(live.url + "/v1/ingest", files=upload, timeout=120,
                           headers={"Authorization": f"Bearer {name}-key"})
            assert r.status_code == 200 and r.json()["failed"] == 0, r.text
        yield live


def _session(url: str, key: str | None) -> Client:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return Client(streamable_http_client(url, http_client=httpx2.AsyncClient(
        headers=headers, timeout=120)))


def _texts(result: Any) -> str:
    return "\n".join(c.text for c in result.content if c.type == "text")


def _images(result: Any) -> list[Any]:
    return [c for c in result.content if c.type == "image"]


async def _use(client: Client, alpha: bool, red: Path) -> dict[str, Any]:
    """Every tool, as one tenant; what came back."""
    seen: dict[str, Any] = {}
    async with client:
        seen["tools"] = {t.name: t for t in (await client.list_tools()).tools}
        seen["collections"] = (await client.call_tool("list_collections", {})).structured_content
        question = "When do I get my laptop?" if alpha else "Where is the printer?"
        seen["search"] = await client.call_tool("search", {"query": question, "top_k": 5})
        picture = base64.b64encode(red.read_bytes()).decode()
        seen["by_picture"] = await client.call_tool("search", {"image": picture, "top_k": 3})
        seen["answer"] = await client.call_tool("answer", {"question": question})
        seen["documents"] = await client.call_tool("list_documents", {})
        hits = seen["search"].structured_content["hits"]
        seen["fetch"] = await client.call_tool("fetch", {"id": hits[0]["id"]})
        picture = [h for h in seen["by_picture"].structured_content["hits"]
                   if h["modality"] == "image"]
        seen["fetch_picture"] = (await client.call_tool("fetch", {"id": picture[0]["id"]})
                                 if picture else None)
        # the other tenant's collection, through every tool that takes one
        other = "beta" if alpha else "alpha"
        seen["forbidden"] = [await client.call_tool(name, {**args, "collection": other})
                             for name, args in (("search", {"query": "laptop printer"}),
                                                ("answer", {"question": "laptop?"}),
                                                ("list_documents", {}),
                                                ("fetch", {"id": hits[0]["id"]}))]
        try:
            await client.read_resource(f"mmrag://{other}/items/{hits[0]['id']}")
            seen["resource_other"] = "read"
        except MCPError as e:
            seen["resource_other"] = str(e)
        own = "alpha" if alpha else "beta"
        doc = seen["documents"].structured_content["documents"][0]
        seen["resource_doc"] = await client.read_resource(doc["uri"])
        seen["resource_item"] = await client.read_resource(f"mmrag://{own}/items/{hits[0]['id']}")
    return seen


def test_mcp_over_http_with_keys_every_tool_and_no_leak(tenants, kb):
    live = tenants
    results = {}
    for name in ("alpha", "beta"):
        client = _session(live.url + "/mcp", f"{name}-key")
        results[name] = asyncio.run(_use(client, name == "alpha", kb / "img" / "red.png"))
    alpha, beta = results["alpha"], results["beta"]
    assert set(alpha["tools"]) >= TOOLS
    schema = alpha["tools"]["search"].input_schema
    assert {"query", "collection", "top_k", "image"} <= set(schema["properties"])
    assert alpha["tools"]["search"].description
    assert alpha["collections"] == {"collections": ["alpha"]}
    assert beta["collections"] == {"collections": ["beta"]}
    # a text passage with its source and link, for each tenant from its own documents
    assert "laptop" in _texts(alpha["search"]).lower()
    assert "onboarding-faq.txt" in _texts(alpha["search"])
    assert all(h["source"] == "onboarding-faq.txt" or h["source"] == "red.png"
               for h in alpha["search"].structured_content["hits"])
    assert all(h["source"] in ("office-guide.md", "green.jpg")
               for h in beta["search"].structured_content["hits"])
    assert "/v1/items/" in _texts(alpha["search"])
    # a picture question: the picture comes back as image content
    assert _images(alpha["by_picture"]), _texts(alpha["by_picture"])
    assert _images(alpha["by_picture"])[0].mime_type in ("image/png", "image/jpeg")
    # the cited answer, structured
    a = alpha["answer"].structured_content
    assert a["found"] and a["citations"] and "[1]" in a["answer"]
    assert a["citations"][0]["source"] == "onboarding-faq.txt"
    # fetch opens the passage, and the picture
    assert "laptop" in _texts(alpha["fetch"]).lower()
    assert alpha["fetch_picture"] is not None and _images(alpha["fetch_picture"])
    # 0 leaks: every tool refuses the other collection with the HTTP message
    for seen, other in ((alpha, "beta"), (beta, "alpha")):
        for result in seen["forbidden"]:
            assert result.is_error, _texts(result)
            assert _texts(result) == f"this API key has no access to collection {other!r}"
        assert "no access" in seen["resource_other"]
    assert "laptop" in alpha["resource_doc"].contents[0].text.lower()
    assert "laptop" in alpha["resource_item"].contents[0].text.lower()


def test_mcp_over_http_refuses_a_missing_or_wrong_key(tenants):
    live = tenants
    for key in (None, "wrong"):
        r = httpx.post(live.url + "/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
                       headers={"Accept": "application/json, text/event-stream",
                                **({"Authorization": f"Bearer {key}"} if key else {})})
        assert r.status_code == 401, r.text
        r = httpx.get(live.url + "/mcp", headers={"Accept": "text/event-stream",
                      **({"Authorization": f"Bearer {key}"} if key else {})})
        assert r.status_code in (401, 405), r.text  # no stream for anyone without a key


def test_mcp_over_stdio(settings, service, kb, tiny_clip_dir):
    (kb / "parking.pdf").write_bytes(pdf_text("The parking garage code is 4711."))
    report = Ingestor(service).ingest_paths([kb / "onboarding-faq.txt", kb / "img" / "red.png",
                                             kb / "parking.pdf"])
    assert report.count("failed") == 0
    env = {**os.environ, "MMRAG_DATA_DIR": str(settings.data_dir),
           "MMRAG_CLIP_MODEL": str(tiny_clip_dir), "MMRAG_DEVICE": "cpu"}
    params = StdioServerParameters(command=sys.executable, args=["-m", "mmrag", "mcp"], env=env)

    async def run() -> dict[str, Any]:
        async with Client(params, read_timeout_seconds=300) as client:
            tools = {t.name for t in (await client.list_tools()).tools}
            found = await client.call_tool("search", {"query": "laptop", "top_k": 3})
            red = base64.b64encode((kb / "img" / "red.png").read_bytes()).decode()
            picture = await client.call_tool("search", {"image": red, "top_k": 2})
            answer = await client.call_tool("answer", {"question": "When do I get my laptop?"})
            opened = await client.call_tool(
                "fetch", {"id": found.structured_content["hits"][0]["id"]})
            parking = await client.call_tool("search", {"query": "parking garage code"})
            hit = next(h for h in parking.structured_content["hits"]
                       if h["source"] == "parking.pdf")
            page = await client.call_tool("fetch", {"id": hit["id"]})
            return {"tools": tools, "search": found, "picture": picture, "answer": answer,
                    "fetch": opened, "page": page}

    seen = asyncio.run(run())
    assert seen["tools"] >= TOOLS
    assert "laptop" in _texts(seen["search"]).lower()
    assert _images(seen["picture"])
    assert seen["answer"].structured_content["citations"]
    assert "laptop" in _texts(seen["fetch"]).lower()
    # a passage of a PDF opens with its page, rendered
    assert "4711" in _texts(seen["page"]) and "page 1" in _texts(seen["page"])
    assert _images(seen["page"])


INSPECTOR = Path(__file__).resolve().parents[2] / ".tools" / "inspector" / "node_modules" \
    / ".bin" / "mcp-inspector"


@pytest.fixture
def served(settings, tiny_clip_dir, tmp_path):
    """A real `mmrag serve` in its own process, without keys, on the test's data."""
    port = free_port()
    env = {**os.environ, "MMRAG_DATA_DIR": str(settings.data_dir),
           "MMRAG_CLIP_MODEL": str(tiny_clip_dir), "MMRAG_DEVICE": "cpu"}
    env.pop("MMRAG_API_KEYS_FILE", None)
    log = (tmp_path / "serve.log").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "mmrag", "serve", "--port", str(port)],
                            env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 180
    while True:
        try:
            if httpx.get(url + "/readyz", timeout=5).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        assert proc.poll() is None and time.time() < deadline, \
            (tmp_path / "serve.log").read_text()[-3000:]
        time.sleep(0.5)
    yield url
    proc.terminate()
    proc.wait(30)
    log.close()


def test_the_mcp_inspector_lists_the_tools_and_searches(served, kb):
    """The MCP Inspector's CLI (npm @modelcontextprotocol/inspector, installed by
    scripts/test.sh) against `mmrag serve` without keys (its CLI sends no headers)."""
    if not INSPECTOR.exists():
        from tests.engines import unavailable

        unavailable(f"the MCP Inspector is not installed at {INSPECTOR} (scripts/test.sh "
                    "installs it with npm)")
    upload = [("files", (name, (kb / name).read_bytes())) for name in ("onboarding-faq.txt",)]
    assert httpx.post(served + "/v1/ingest", files=upload, timeout=120).status_code == 200

    def inspect(*args: str) -> dict[str, Any]:
        out = subprocess.run([str(INSPECTOR), "--cli", served + "/mcp", "--transport", "http",
                              *args], capture_output=True, text=True, encoding="utf-8", timeout=120)
        assert out.returncode == 0, out.stdout + out.stderr
        return json.loads(out.stdout)  # type: ignore[no-any-return]

    listed = inspect("--method", "tools/list")
    assert {t["name"] for t in listed["tools"]} >= TOOLS
    found = inspect("--method", "tools/call", "--tool-name", "search",
                    "--tool-arg", "query=When do I get my laptop?", "--tool-arg", "top_k=3")
    assert not found.get("isError"), found
    assert found["structuredContent"]["hits"][0]["source"] == "onboarding-faq.txt"
    assert "laptop" in found["content"][0]["text"].lower()
