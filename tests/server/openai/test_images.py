"""Image URLs in chat messages: fetched only from public addresses, after every redirect."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from rag.errors import InvalidInput, TooLarge
from server.openai.images import check_url, fetch_image, public_address

from ...helpers import png_bytes


class _Handler(BaseHTTPRequestHandler):
    redirect_to: str | None = None

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        if self.path == "/declared-huge":  # says its size, then sends nothing for a while
            self.send_response(200)
            self.send_header("Content-Length", str(500 * 1024 * 1024))
            self.end_headers()
            self.wfile.flush()
            time.sleep(15)
            return
        if self.path == "/trickle":  # 8 MB in 4 KB pieces, no Content-Length
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            piece = b"\x89" * 4096
            for _ in range(2048):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            self.wfile.write(b"0\r\n\r\n")
            return
        if self.path == "/redirect" and self.redirect_to:
            self.send_response(302)
            self.send_header("Location", self.redirect_to)
            self.end_headers()
            return
        body = png_bytes()
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def servers() -> Iterator[tuple[str, str]]:
    """Two image servers: on 127.0.0.1 and on 127.0.0.2 (both loopback on Linux)."""
    started = []
    for host in ("127.0.0.1", "127.0.0.2"):
        handler = type("H", (_Handler,), {})
        srv = ThreadingHTTPServer((host, 0), handler)
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        started.append((srv, handler, f"http://{host}:{srv.server_address[1]}"))
    first, second = started
    first[1].redirect_to = second[2] + "/inside.png"
    yield first[2], second[2]
    for srv, _, _ in started:
        srv.shutdown()


@pytest.mark.parametrize("ip", ["127.0.0.1", "10.1.2.3", "192.168.0.10", "172.16.0.1",
                                "169.254.169.254", "100.64.0.1", "0.0.0.0", "::1", "fd00::1",
                                "fe80::1", "::ffff:127.0.0.1", "224.0.0.1"])
def test_internal_addresses_are_not_public(ip):
    assert not public_address(ip)


def test_public_addresses_are(ip="93.184.216.34"):
    assert public_address(ip) and public_address("2606:4700:4700::1111")


def test_a_loopback_url_is_refused_before_any_request(servers):
    first, _ = servers
    with pytest.raises(InvalidInput, match="internal address"):
        check_url(f"{first}/x.png")
    with pytest.raises(InvalidInput, match="internal address"):
        fetch_image(f"{first}/x.png", 10_000_000)


def test_a_redirect_to_an_internal_address_is_refused(servers):
    """127.0.0.1 stands in for a public host here; the redirect to 127.0.0.2 is 'internal'."""
    first, _ = servers

    def only_first(ip: str) -> bool:
        return ip == "127.0.0.1"

    assert fetch_image(f"{first}/x.png", 10_000_000, only_first) == png_bytes()
    with pytest.raises(InvalidInput, match="127.0.0.2, an internal address"):
        fetch_image(f"{first}/redirect", 10_000_000, only_first)
    # with both allowed, the same redirect is followed
    assert fetch_image(f"{first}/redirect", 10_000_000, lambda ip: True) == png_bytes()


@pytest.mark.integration
def test_the_chat_api_refuses_an_image_url_on_an_internal_address(settings, service, servers):
    import httpx

    from ..conftest import LiveServer

    settings.server.allow_image_urls = True
    first, _ = servers
    with LiveServer(service) as live:
        r = httpx.post(live.url + "/v1/chat/completions", timeout=60, json={
            "model": "mmrag", "messages": [{"role": "user", "content": [
                {"type": "text", "text": "what is this?"},
                {"type": "image_url", "image_url": {"url": f"{first}/x.png"}}]}]})
    assert r.status_code == 400
    assert "internal address" in r.json()["error"]["message"]


def test_an_image_over_the_limit_by_its_declared_size_is_refused_before_its_body(servers):
    """The server says 500 MB and then stalls: refused at once, not after a wait."""
    first, _ = servers
    started = time.monotonic()
    with pytest.raises(TooLarge, match="over the limit"):
        fetch_image(f"{first}/declared-huge", 10_000_000, lambda ip: True)
    assert time.monotonic() - started < 5  # the fetch's own timeout is 10 s


def test_an_image_in_many_small_pieces_arrives_whole(servers):
    first, _ = servers
    data = fetch_image(f"{first}/trickle", 10_000_000, lambda ip: True)
    assert data == b"\x89" * (4096 * 2048)
    with pytest.raises(TooLarge):
        fetch_image(f"{first}/trickle", 4_000_000, lambda ip: True)
