"""The URLs the API hands out for stored things: the image (``/v1/images/{id}``) and the
passage (``/v1/items/{id}``) an answer cites. They are absolute (``MMRAG_SERVER__PUBLIC_URL``,
else the address the request came to), never a path on the server's disk, and they name their
collection unless it is the server's default one.

With API keys configured, a link is signed and expires (``MMRAG_SERVER__LINK_SECONDS``): the
person who clicks it in a chat client's sources panel has a browser, not the key. The
signature is an HMAC over the path, the collection and the expiry, with a secret derived from
the key file, so every replica reading the same file accepts every replica's links, and
changing the keys revokes them all."""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass
from urllib.parse import quote, urlencode


def _sign(secret: bytes, kind: str, item_id: str, collection: str, expires: int) -> str:
    msg = f"{kind}\0{item_id}\0{collection}\0{expires}".encode()
    return hmac.new(secret, msg, hashlib.sha256).hexdigest()[:32]


def verify(secret: bytes, kind: str, item_id: str, collection: str, expires: str | None,
           sig: str | None) -> bool:
    """Whether a signed link (``kind`` "images" or "items") is genuine and not expired."""
    if not expires or not sig or not expires.isdigit() or int(expires) < time.time():
        return False
    return hmac.compare_digest(_sign(secret, kind, item_id, collection, int(expires)), sig)


@dataclass(frozen=True)
class Links:
    collection: str
    default_collection: str
    base: str = ""  # scheme://host[:port], no trailing slash; "" gives relative links
    secret: bytes | None = None  # None: no API keys, links need no signature
    seconds: int = 7 * 86400

    def _url(self, kind: str, item_id: str, suffix: str = "") -> str:
        path = f"/v1/{kind}/{quote(item_id, safe='')}{suffix}"
        params = {}
        if self.collection != self.default_collection:
            params["collection"] = self.collection
        if self.secret is not None:
            expires = int(time.time()) + self.seconds
            # links made close together are the same link (a browser caches it), and none
            # lives longer than it says: the expiry is rounded down, by a tenth of its life
            expires -= expires % max(1, min(3600, self.seconds // 10))
            params["expires"] = str(expires)
            params["sig"] = _sign(self.secret, kind, item_id, self.collection, expires)
        query = f"?{urlencode(params, quote_via=quote)}" if params else ""
        return f"{self.base}{path}{query}"

    def image(self, item_id: str) -> str:
        return self._url("images", item_id)

    def item(self, item_id: str) -> str:
        return self._url("items", item_id)

    def page(self, item_id: str) -> str:
        """The PDF page an item was read from, rendered (the item's signature opens it)."""
        return self._url("items", item_id, "/page")


@dataclass(frozen=True)
class LinkMaker:
    """What every link of one server shares; ``for_collection`` makes a request's Links."""

    base: str
    default_collection: str
    secret: bytes | None
    seconds: int

    def for_collection(self, collection: str) -> Links:
        return Links(collection, self.default_collection, self.base, self.secret, self.seconds)
