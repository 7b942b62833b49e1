"""Image copies in S3-compatible storage, against moto's S3 server."""

from __future__ import annotations

import hashlib

import pytest

from rag.errors import Unavailable
from rag.store.s3blobs import S3Blobs
from rag.testing.contracts.blobs import BlobContract

from ..helpers import png_bytes


def s3_blobs(s3, tmp_path, monkeypatch) -> S3Blobs:
    for k, v in s3.env.items():
        monkeypatch.setenv(k, v)
    return S3Blobs.from_url(f"s3://{s3.bucket()}/kb/images", tmp_path / "cache")


@pytest.fixture
def blobs(s3, tmp_path, monkeypatch):
    return s3_blobs(s3, tmp_path, monkeypatch)


class TestS3Blobs(BlobContract):
    @pytest.fixture
    def blobs(self, s3, tmp_path, monkeypatch):  # a fresh bucket on moto's server
        return s3_blobs(s3, tmp_path, monkeypatch)


def test_copies_sit_under_the_prefix_and_are_cached_locally(blobs, tmp_path):
    data = png_bytes()
    sha, key = blobs.put(data, ".png")
    assert sha == hashlib.sha256(data).hexdigest()
    listed = blobs.client.list_objects_v2(Bucket=blobs.bucket)["Contents"]
    assert [o["Key"] for o in listed] == [f"kb/images/{key}"]
    assert blobs.resolve(key).is_relative_to(tmp_path / "cache")


def test_an_unreachable_endpoint_is_unavailable(tmp_path, monkeypatch):
    from tests.engines import free_port

    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "x")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    blobs = S3Blobs.from_url("s3://nowhere/x", tmp_path)
    with pytest.raises(Unavailable, match="s3://nowhere/x is not reachable"):
        blobs.put(png_bytes(), ".png")
