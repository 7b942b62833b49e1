"""Image copies in S3-compatible object storage (AWS S3, MinIO, Ceph), so every replica sees
every copy: ``MMRAG_BLOBS_URL=s3://bucket/prefix``. Credentials, region and endpoint come from
the standard ``AWS_*`` variables, which boto3 reads itself (``AWS_ENDPOINT_URL`` for MinIO and
the like). Keys are laid out as on disk, ``ab/abcdef...<ext>`` under the prefix. Readers that
need a file (generators, the image route) get a local copy, cached by content address."""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from rag.errors import Unavailable
from rag.extras import need
from rag.store.blobs import MIME, check_key


class S3Blobs:
    def __init__(self, bucket: str, prefix: str, cache_dir: Path, client: Any = None):
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.cache_dir = Path(cache_dir)
        self._client = client

    @classmethod
    def from_url(cls, url: str, cache_dir: Path) -> S3Blobs:
        bucket, _, prefix = url.removeprefix("s3://").partition("/")
        return cls(bucket, prefix, cache_dir)

    @property
    def client(self) -> Any:
        if self._client is None:
            need("replicas", "S3 blob storage (MMRAG_BLOBS_URL=s3://...)", "boto3")
            import boto3
            from botocore.config import Config

            self._client = boto3.client("s3", config=Config(
                retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=5,
                read_timeout=30))
        return self._client

    def _name(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    def _call(self, what: str, fn: Any, **kw: Any) -> Any:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return fn(Bucket=self.bucket, **kw)
        except ClientError:
            raise
        except BotoCoreError as e:  # no endpoint, no credentials, a timeout
            raise Unavailable(f"the blob store s3://{self.bucket}/{self.prefix} is not "
                              f"reachable ({what}): {e}") from e

    def put(self, data: bytes, ext: str, sha: str | None = None) -> tuple[str, str]:
        sha = sha or hashlib.sha256(data).hexdigest()
        ext = ext.lower()
        key = check_key(sha, ext)
        self._call("put", self.client.put_object, Key=self._name(key), Body=data,
                   ContentType=MIME[ext])
        return sha, key

    def read(self, key: str) -> bytes:
        from botocore.exceptions import ClientError

        try:
            obj = self._call("get", self.client.get_object, Key=self._name(key))
        except ClientError as e:
            if e.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                raise FileNotFoundError(key) from e
            raise
        return bytes(obj["Body"].read())

    def resolve(self, key: str) -> Path:
        """A local copy (content-addressed, so a cached one is never stale)."""
        path = (self.cache_dir / key).resolve()
        if self.cache_dir.resolve() not in path.parents:
            raise FileNotFoundError(key)
        if not path.is_file():
            data = self.read(key)
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, path)
        return path

    def remove(self, key: str) -> None:
        self._call("delete", self.client.delete_object, Key=self._name(key))
        (self.cache_dir / key).unlink(missing_ok=True)

    def older_than(self, seconds: float) -> list[str]:
        cutoff = time.time() - seconds
        keys = []
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=f"{self.prefix}/" if self.prefix else "")
        for page in pages:
            for obj in page.get("Contents", []):
                if obj["LastModified"].timestamp() < cutoff:
                    name = obj["Key"]
                    keys.append(name[len(self.prefix) + 1:] if self.prefix else name)
        return keys

    def ping(self) -> None:
        self._call("head", self.client.head_bucket)

    @staticmethod
    def mime(key: str) -> str:
        return MIME.get(Path(key).suffix.lower(), "application/octet-stream")
