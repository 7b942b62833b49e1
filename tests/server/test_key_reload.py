"""The key file is read again when it changes: a removed key stops working on every replica
within ``keys_reload_seconds``, with no restart, and so do the links signed under it; a new
key works; a broken file keeps the keys in force."""

from __future__ import annotations

import base64
import json
import os
import time

import httpx
import pytest

from .conftest import LiveServer

pytestmark = [pytest.mark.slow, pytest.mark.integration]
RELOAD_S = 0.5


def _write(path, keys: dict[str, list[str]]) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"keys": [{"key": k, "collections": c} for k, c in keys.items()]}))
    os.replace(tmp, path)  # as an operator's tool would: the file is never half-written


def _status(url: str, key: str) -> int:
    return httpx.get(url + "/v1/documents", headers={"Authorization": f"Bearer {key}"},
                     params={"collection": "alpha"}, timeout=30).status_code


def test_a_removed_key_stops_working_on_both_replicas_without_restart(settings, service, kb,
                                                                      tmp_path):
    path = tmp_path / "keys.json"
    _write(path, {"old-key": ["alpha"], "other-key": ["alpha"]})
    settings.api_keys_file = path
    settings.server.keys_reload_seconds = RELOAD_S
    with LiveServer(service) as a, LiveServer(service) as b:
        old = httpx.Client(base_url=a.url, headers={"Authorization": "Bearer old-key"},
                           timeout=60)
        image = (kb / "img" / "red.png").read_bytes()
        r = old.post("/v1/ingest", files=[("files", ("red.png", image))])
        assert r.status_code == 200, r.text
        hits = old.post("/v1/query", json={"image": base64.b64encode(image).decode()}).json()
        link = hits["hits"][0]["image_url"]  # the picture itself: an exact match
        assert httpx.get(link, timeout=30).status_code == 200  # a signed link, no key
        for replica in (a, b):
            assert _status(replica.url, "old-key") == 200
            assert _status(replica.url, "new-key") == 401

        _write(path, {"new-key": ["alpha"], "other-key": ["alpha"]})
        removed = time.monotonic()
        for replica in (a, b):
            while _status(replica.url, "old-key") != 401:
                assert time.monotonic() - removed < RELOAD_S + 5, "the removed key still works"
                time.sleep(0.05)
            assert _status(replica.url, "new-key") == 200
            assert _status(replica.url, "other-key") == 200
        assert httpx.get(link, timeout=30).status_code == 401  # its links went with it

        path.write_text('{"keys": [{"key": "x", "collections": "alpha"}]}')  # broken
        time.sleep(RELOAD_S * 2)
        for replica in (a, b):
            assert _status(replica.url, "new-key") == 200  # the keys in force stay
        old.close()
