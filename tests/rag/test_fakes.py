"""The in-memory fakes keep the contracts of the parts they stand for."""

from __future__ import annotations

import pytest
from PIL import Image

from rag.protocols import BlobStore, ImageEmbedder, TextEmbedder, VectorStore
from rag.testing.contracts.blobs import BlobContract
from rag.testing.contracts.store import StoreContract
from rag.testing.fake_embedders import ColorImageEmbedder, HashTextEmbedder
from rag.testing.fakes import InMemoryBlobs, InMemoryStore, matches


class TestInMemoryStore(StoreContract):
    @pytest.fixture
    def store(self):
        return InMemoryStore()


class TestInMemoryBlobs(BlobContract):
    @pytest.fixture
    def blobs(self, tmp_path):
        return InMemoryBlobs(tmp_path)


def test_the_fakes_implement_the_protocols(tmp_path):
    assert isinstance(InMemoryStore(), VectorStore)
    assert isinstance(InMemoryBlobs(tmp_path), BlobStore)
    assert isinstance(HashTextEmbedder(), TextEmbedder)
    assert isinstance(ColorImageEmbedder(), ImageEmbedder)


def test_hash_text_vectors_are_deterministic_and_lexical():
    emb = HashTextEmbedder()
    a, b, c = emb.embed(["Salaries are paid monthly", "When are salaries paid?",
                         "The cafeteria opens at noon"])
    assert (emb.embed(["Salaries are paid monthly"])[0] == a).all()
    assert a @ b > 0.4 and a @ c < 0.2
    assert emb.count_tokens(["two words", "and three more"]) == 5


def test_colour_space_puts_a_colour_word_near_its_picture():
    clip = ColorImageEmbedder()
    red, blue = (Image.new("RGB", (20, 20), c) for c in ("red", "blue"))
    pics = clip.embed_pixels(clip.preprocess([red, blue]))
    text = clip.embed_text(["a red chart", "something else"])
    assert text[0] @ pics[0] > 0.9 > text[0] @ pics[1]
    assert abs(text[1] @ pics[0] - text[1] @ pics[1]) < 1e-6  # no colour: no preference


def test_filters_or_nin_and_unknown_operators():
    meta = {"k": 1, "tag": "a"}
    assert matches(meta, {"$or": [{"k": 2}, {"tag": "a"}]})
    assert matches(meta, {"tag": {"$nin": ["b"]}}) and not matches(meta, {"k": {"$lt": 1}})
    with pytest.raises(ValueError):
        matches(meta, {"k": {"$regex": "x"}})


def test_blobs_round_trip_through_a_spill_directory(tmp_path):
    blobs = InMemoryBlobs(tmp_path)
    sha, key = blobs.put(b"png bytes", ".PNG")
    assert key == f"{sha[:2]}/{sha}.png" and blobs.mime(key) == "image/png"
    assert blobs.resolve(key).read_bytes() == b"png bytes"
    blobs.remove(key)
    with pytest.raises(FileNotFoundError):
        blobs.resolve(key)
