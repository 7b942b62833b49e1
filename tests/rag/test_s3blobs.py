"""Image copies in S3-compatible storage, against moto's S3 server."""

from __future__ import annotations

import hashlib

import pytest

from rag.errors import Unavailable
from rag.protocols import BlobStore
from rag.s3blobs import S3Blobs

from ..helpers import png_bytes


@pytest.fixture
def blobs(s3, tmp_path, monkeypatch):
    for k, v in s3.env.items():
        monkeypatch.setenv(k, v)
    return S3Blobs.from_url(f"s3://{s3.bucket()}/kb/images", tmp_path / "cache")


def test_copies_round_trip_and_are_cached_by_content(blobs, tmp_path):
    assert isinstance(blobs, BlobStore)
    data = png_bytes()
    sha, key = blobs.put(data, ".PNG")
    assert sha == hashlib.sha256(data).hexdigest() and key == f"{sha[:2]}/{sha}.png"
    assert blobs.read(key) == data and blobs.mime(key) == "image/png"
    listed = blobs.client.list_objects_v2(Bucket=blobs.bucket)["Contents"]
    assert [o["Key"] for o in listed] == [f"kb/images/{key}"]
    path = blobs.resolve(key)
    assert path.read_bytes() == data and path.is_relative_to(tmp_path / "cache")
    assert blobs.older_than(3600) == [] and blobs.older_than(-60) == [key]
    blobs.ping()
    blobs.remove(key)
    with pytest.raises(FileNotFoundError):
        blobs.read(key)
    with pytest.raises(FileNotFoundError):
        blobs.resolve("../../etc/passwd")
    with pytest.raises(ValueError):
        blobs.put(data, ".exe")


def test_an_unreachable_endpoint_is_unavailable(tmp_path, monkeypatch):
    from tests.engines import free_port

    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "x")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    blobs = S3Blobs.from_url("s3://nowhere/x", tmp_path)
    with pytest.raises(Unavailable, match="s3://nowhere/x is not reachable"):
        blobs.put(png_bytes(), ".png")
