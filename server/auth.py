"""API keys: ``MMRAG_API_KEYS_FILE`` is JSON, ``{"keys": [{"key": "...", "collections":
["alpha"], "admin": false}]}`` (``"key_sha256": "<hex>"`` instead of ``"key"`` keeps even the
file free of secrets). Only SHA-256 digests are kept in memory, and they are compared in
constant time. Without a file the server runs in local development mode: no auth."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from dataclasses import dataclass
from pathlib import Path

from rag.errors import Forbidden, InvalidInput, Unauthorized
from rag.settings import check_collection

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Principal:
    """Who is calling: which collections they may use (None = all)."""

    name: str
    collections: frozenset[str] | None
    admin: bool = False

    def collection(self, requested: str | None, default: str) -> str:
        """The collection a request works on, checked against what this key may see. A key
        with exactly one collection uses it when the request names none."""
        if requested is None and self.collections is not None and len(self.collections) == 1:
            requested = next(iter(self.collections))
        name = check_collection(requested or default)
        if self.collections is not None and name not in self.collections:
            raise Forbidden(f"this API key has no access to collection {name!r}")
        return name


LOCAL = Principal("local-development", None, admin=True)


@dataclass(frozen=True)
class _Key:
    digest: bytes
    principal: Principal


def _digest(key: str) -> bytes:
    return hashlib.sha256(key.encode()).digest()


class KeyStore:
    def __init__(self, keys: list[_Key]):
        self._keys = keys

    @classmethod
    def load(cls, path: str | Path) -> KeyStore:
        try:
            data = json.loads(Path(path).read_text())
            entries = data["keys"]
            assert isinstance(entries, list)
        except (OSError, ValueError, KeyError, AssertionError, TypeError) as e:
            raise InvalidInput(f"cannot read API keys from {path}: expected "
                               '{"keys": [{"key": ..., "collections": [...]}]} ({e})') from e
        keys = []
        for i, entry in enumerate(entries):
            if "key_sha256" in entry:
                digest = bytes.fromhex(entry["key_sha256"])
            elif entry.get("key"):
                digest = _digest(str(entry["key"]))
            else:
                raise InvalidInput(f"API key #{i + 1} in {path} has neither key nor key_sha256")
            admin = bool(entry.get("admin", False))
            cols = entry.get("collections")
            collections = None if admin or cols in (None, "*") else frozenset(
                check_collection(c) for c in cols)
            keys.append(_Key(digest, Principal(str(entry.get("name", f"key-{i + 1}")),
                                               collections, admin)))
        return cls(keys)

    def check(self, authorization: str | None) -> Principal:
        if not authorization or not authorization.lower().startswith("bearer "):
            raise Unauthorized("missing API key: send 'Authorization: Bearer <key>'")
        digest = _digest(authorization[7:].strip())
        found = None
        for k in self._keys:  # look at every key: the time taken does not depend on which
            if hmac.compare_digest(k.digest, digest):
                found = k.principal
        if found is None:
            raise Unauthorized("invalid API key")
        return found
