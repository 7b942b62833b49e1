"""API keys: ``MMRAG_API_KEYS_FILE`` is JSON, ``{"keys": [{"key": "...", "collections":
["alpha"], "admin": false}]}`` (``"key_sha256": "<hex>"`` instead of ``"key"`` keeps even the
file free of secrets). Only SHA-256 digests are kept in memory, and they are compared in
constant time. Without a file the server runs in local development mode: no auth."""

from __future__ import annotations

import hashlib
import hmac
import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

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
        name = check_collection(default if requested is None else requested)
        if self.collections is not None and name not in self.collections:
            raise Forbidden(f"this API key has no access to collection {name!r}")
        return name


LOCAL = Principal("local-development", None, admin=True)


class _KeyEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    name: str | None = Field(None, min_length=1, max_length=100)
    key: str | None = Field(None, min_length=1, description="the secret itself")
    key_sha256: str | None = Field(None, pattern=r"^[0-9a-fA-F]{64}$")
    collections: list[str] | Literal["*"] | None = None
    admin: bool = False

    @field_validator("collections")
    @classmethod
    def _names(cls, v: list[str] | str | None) -> list[str] | str | None:
        if isinstance(v, list):
            try:
                return [check_collection(name) for name in v]
            except InvalidInput as e:
                raise ValueError(str(e)) from None
        return v

    @model_validator(mode="after")
    def _one_secret(self) -> _KeyEntry:
        if (self.key is None) == (self.key_sha256 is None):
            raise ValueError("give exactly one of key and key_sha256")
        if not self.admin and self.collections is None:
            raise ValueError('a key that is not admin needs "collections" (a list, or "*")')
        return self


class _KeyFile(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    keys: list[_KeyEntry] = Field(min_length=1)


@dataclass(frozen=True)
class _Key:
    digest: bytes
    principal: Principal


def _digest(key: str) -> bytes:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).digest()


def _stamp(path: Path) -> tuple[int, int, int]:
    try:
        st = path.stat()
    except OSError as e:
        raise InvalidInput(f"cannot read API keys file {path}: {e.strerror or e}") from e
    return st.st_ino, st.st_size, st.st_mtime_ns


def _read(path: Path) -> list[_Key]:
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise InvalidInput(f"cannot read API keys file {path}: {e.strerror or e}") from e
    try:
        entries = _KeyFile.model_validate_json(raw).keys
    except ValidationError as e:
        problems = "; ".join(
            f"{'.'.join(str(x) for x in err['loc']) or 'file'}: {err['msg']}"
            for err in e.errors()[:5])
        raise InvalidInput(f"invalid API keys file {path}: {problems} (expected "
                           '{"keys": [{"key": "...", "collections": ["..."], '
                           '"admin": false}]})') from e
    keys = []
    for i, entry in enumerate(entries):
        digest = (bytes.fromhex(entry.key_sha256) if entry.key_sha256
                  else _digest(entry.key or ""))
        cols = entry.collections
        collections = None if entry.admin or cols in (None, "*") else frozenset(cols)
        keys.append(_Key(digest, Principal(entry.name or f"key-{i + 1}", collections,
                                           entry.admin)))
    return keys


class KeyStore:
    """The keys of a key file, read again when the file changes: the file is looked at (one
    ``stat``) at most every ``reload_seconds``, so a key removed from it stops working on every
    replica that reads it within that time, with no restart. A file that is unreadable or
    invalid after a change keeps the keys in force and is logged, and read again on its next
    change (a file caught half-written is not taken as "no keys")."""

    def __init__(self, keys: list[_Key], path: Path | None = None, reload_seconds: float = 5.0,
                 stamp: tuple[int, int, int] | None = None):
        self._keys = keys
        self._path = path
        self._reload_seconds = reload_seconds
        self._stamp = stamp  # (inode, size, mtime_ns) of what was read
        self._looked = time.monotonic()
        self._lock = threading.Lock()

    @classmethod
    def load(cls, path: str | Path, reload_seconds: float = 5.0) -> KeyStore:
        """Read and validate the key file strictly: booleans are JSON booleans, collections a
        list of valid names or "*", unknown fields refused. A bad file stops the server with
        a message naming the entry and the field."""
        path = Path(path)
        stamp = _stamp(path)
        return cls(_read(path), path, reload_seconds, stamp)

    def _fresh(self) -> list[_Key]:
        """The keys in force, read again if the file changed since it was last looked at."""
        now = time.monotonic()
        if self._path is None or now - self._looked < self._reload_seconds:
            return self._keys
        with self._lock:
            if now - self._looked < self._reload_seconds:
                return self._keys
            self._looked = now
            try:
                stamp = _stamp(self._path)
                if stamp != self._stamp:
                    self._stamp = stamp  # a bad file is reported once, then on its next change
                    self._keys = _read(self._path)
                    log.info("API keys file %s read again: %d keys", self._path,
                             len(self._keys))
            except InvalidInput as e:
                log.error("API keys file changed but cannot be used; the keys read before "
                          "stay in force: %s", e)
            return self._keys

    @property
    def link_secret(self) -> bytes:
        """The key of signed links (server/links.py): the same on every replica that reads
        the same key file, and new when the keys change."""
        digests = sorted(k.digest for k in self._fresh())
        return hashlib.sha256(b"mmrag-links\0" + b"".join(digests)).digest()

    def check(self, authorization: str | None) -> Principal:
        if not authorization or not authorization.lower().startswith("bearer "):
            raise Unauthorized("missing API key: send 'Authorization: Bearer <key>'")
        digest = _digest(authorization[7:].strip())
        found = None
        for k in self._fresh():  # look at every key: the time taken does not depend on which
            if hmac.compare_digest(k.digest, digest):
                found = k.principal
        if found is None:
            raise Unauthorized("invalid API key")
        return found
