"""Images a chat message refers to: data URIs always; http(s) URLs only when the server is
configured to fetch them, and then never from a private, loopback, link-local or otherwise
internal address, checked again after every redirect (a fetch that an outsider can point
anywhere is a server-side request forgery: metadata endpoints, admin ports, the LAN)."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from urllib.parse import urljoin, urlparse

from rag.errors import InvalidInput, TooLarge
from rag.images import decode_base64_image
from rag.settings import Settings

MAX_REDIRECTS = 5
FETCH_TIMEOUT_S = 10


def public_address(ip: str) -> bool:
    """Whether an address is on the public internet (not private, loopback, link-local such
    as 169.254.169.254, multicast, reserved or unspecified; IPv4 inside IPv6 is unwrapped)."""
    addr = ipaddress.ip_address(ip)
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    return addr.is_global and not addr.is_multicast


def _addresses(host: str, port: int) -> list[str]:
    try:
        return sorted({str(info[4][0]) for info in socket.getaddrinfo(host, port)})
    except (socket.gaierror, UnicodeError) as e:
        raise InvalidInput(f"cannot resolve the image host {host!r}: {e}") from e


def check_url(url: str, allowed: Callable[[str], bool] = public_address) -> None:
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise InvalidInput(f"image URL {url!r} is not an http(s) URL")
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    for ip in _addresses(parsed.hostname, port):
        if not allowed(ip):
            raise InvalidInput(f"image URL {url!r} points at {ip}, an internal address: "
                               "this server only fetches images from public addresses")


def fetch_image(url: str, limit: int, allowed: Callable[[str], bool] = public_address) -> bytes:
    """The bytes at ``url``, following at most MAX_REDIRECTS redirects, each checked."""
    import httpx

    try:
        with httpx.Client(timeout=FETCH_TIMEOUT_S, follow_redirects=False) as client:
            for _ in range(MAX_REDIRECTS + 1):
                check_url(url, allowed)
                with client.stream("GET", url) as r:
                    if r.is_redirect and "location" in r.headers:
                        url = urljoin(url, r.headers["location"])
                        continue
                    r.raise_for_status()
                    declared = r.headers.get("content-length", "")
                    if declared.isdigit() and int(declared) > limit:
                        raise TooLarge(f"the image at {url} is {int(declared):,} bytes, over "
                                       f"the limit of {limit:,}")
                    data = bytearray()  # grows in place: linear in the image's size
                    for piece in r.iter_bytes():
                        data += piece
                        if len(data) > limit:
                            raise TooLarge(f"the image at {url} is over the limit of "
                                           f"{limit:,} bytes")
                    return bytes(data)
    except httpx.HTTPError as e:
        raise InvalidInput(f"could not fetch the image at {url}: {e}") from e
    raise InvalidInput(f"the image URL redirects more than {MAX_REDIRECTS} times")


def image_bytes(url: str, settings: Settings) -> bytes:
    limit = settings.server.max_upload_bytes
    if url.startswith("data:"):
        return decode_base64_image(url, limit)
    if not url.startswith(("http://", "https://")):
        raise InvalidInput("image_url must be a data URI or an http(s) URL")
    if not settings.server.allow_image_urls:
        raise InvalidInput("this server does not fetch image URLs; send the image as a data "
                           "URI (data:image/png;base64,...), or start the server with "
                           "MMRAG_SERVER__ALLOW_IMAGE_URLS=true")
    return fetch_image(url, limit)
