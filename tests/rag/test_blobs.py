"""Picture copies in a folder keep the BlobStore contract."""

import pytest

from rag.store.blobs import ImageBlobs
from rag.testing.contracts.blobs import BlobContract


class TestImageBlobs(BlobContract):
    @pytest.fixture
    def blobs(self, tmp_path):
        return ImageBlobs(tmp_path / "images")
