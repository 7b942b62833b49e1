"""The BlobStore contract: content-addressed copies of pictures, wherever they are kept. An
implementation's test class subclasses ``BlobContract`` (or the mixins it keeps) and gives a
``blobs`` fixture: an empty store."""

from __future__ import annotations

import hashlib
import io

import pytest

from rag.protocols import BlobStore


def png() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (8, 6), (200, 40, 90)).save(out, format="PNG")
    return out.getvalue()


class _Empty:
    @pytest.fixture
    def blobs(self):  # pragma: no cover - each implementation provides its own
        raise NotImplementedError


class BlobCopies(_Empty):
    """``put`` stores a copy once under its content's hash; ``read``, ``resolve`` and
    ``mime`` give it back."""

    def test_a_copy_round_trips_under_its_hash(self, blobs):
        assert isinstance(blobs, BlobStore)
        data = png()
        sha, key = blobs.put(data, ".PNG")
        assert sha == hashlib.sha256(data).hexdigest() and key == f"{sha[:2]}/{sha}.png"
        assert blobs.read(key) == data and blobs.resolve(key).read_bytes() == data
        assert blobs.mime(key) == "image/png"
        assert blobs.put(data, ".png") == (sha, key)  # the same content: the same copy

    def test_a_key_outside_the_store_is_not_found(self, blobs):
        for key in ("../../etc/passwd", "ab/missing.png"):
            with pytest.raises(FileNotFoundError):
                blobs.resolve(key)
            with pytest.raises(FileNotFoundError):
                blobs.read(key)

    def test_only_picture_types_are_stored(self, blobs):
        with pytest.raises(ValueError):
            blobs.put(png(), ".exe")


class BlobLifetime(_Empty):
    """``remove`` forgets a copy; ``older_than`` lists copies by age; ``ping`` answers."""

    def test_remove_and_age(self, blobs):
        _, key = blobs.put(png(), ".png")
        assert blobs.older_than(3600) == [] and blobs.older_than(-60) == [key]
        blobs.ping()
        blobs.remove(key)
        with pytest.raises(FileNotFoundError):
            blobs.read(key)
        assert blobs.older_than(-60) == []
        blobs.remove(key)  # twice: nothing to do, no error


class BlobContract(BlobCopies, BlobLifetime):
    """The whole BlobStore contract."""
