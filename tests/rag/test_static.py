import logging

import numpy as np

from rag.answer.generators import build_generator
from rag.answer.generators.extractive import Scored, cosines
from rag.embedders import static
from rag.embedders.text import SentenceTransformerEmbedder
from rag.settings import Settings
from rag.testing.fake_embedders import HashTextEmbedder
from rag.text.units import Unit

QUESTION = "How many days do I have to submit my travel expenses?"
RELEVANT = "Submit every expense claim within 30 days of the end of the trip."
UNRELATED = "The guest Wi-Fi password is printed on the badge of each visitor."


def test_word_vectors_weigh_meaning_without_a_model_call(text_embedder):
    words = text_embedder.word_vectors()
    assert words is not None
    v = words.embed([QUESTION, RELEVANT, UNRELATED, ""])
    assert v.shape == (4, static.DIMENSIONS) and v.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(v[:3], axis=1), 1.0, rtol=1e-5)
    assert not v[3].any()  # a text without tokens points nowhere
    # remembered per text: the same rows as weighing the batch afresh, and not writable
    assert np.array_equal(v, words._compute([QUESTION, RELEVANT, UNRELATED, ""]))
    assert np.array_equal(words.embed([RELEVANT]), v[1:2])
    assert not words._remembered(RELEVANT).flags.writeable
    assert v[1] @ v[0] > v[2] @ v[0] + 0.1
    # close to what the model itself says about the same sentences
    m = text_embedder.embed([QUESTION, RELEVANT, UNRELATED])
    assert (m[1] @ m[0] > m[2] @ m[0]) and (v[1] @ v[0] > v[2] @ v[0])


def test_word_vectors_are_cached_and_load_without_the_model(text_embedder):
    first = text_embedder.word_vectors()
    again = SentenceTransformerEmbedder(text_embedder.model_id, "cpu",
                                        cache_dir=text_embedder.cache_dir)
    loaded = again.word_vectors()
    assert not again._loaded  # read from the cache: the model never loaded
    texts = [QUESTION, RELEVANT, "`SESSION_COOKIE_AGE` defaults to 1209600"]
    assert np.array_equal(loaded.embed(texts), first.embed(texts))  # the very same vectors


def test_damaged_word_vectors_are_not_used(tmp_path, caplog):
    path = tmp_path / "words-x.npz"
    path.write_bytes(b"not a numpy archive")
    with caplog.at_level(logging.WARNING):
        assert static.load(path) is None
    assert "cannot be read" in caplog.text
    assert static.load(tmp_path / "absent.npz") is None


class Counting:
    """Records the texts an encoder was asked to embed (around a real one)."""

    def __init__(self, inner):
        self.inner, self.seen = inner, []

    def embed(self, texts):
        self.seen += list(texts)
        return self.inner.embed(texts)


def test_lines_read_in_pictures_go_through_the_model_and_prose_through_word_vectors(
        text_embedder):
    model = Counting(HashTextEmbedder())
    words = Counting(text_embedder.word_vectors())
    top = [Scored(1.0, 1, Unit(RELEVANT, "Expenses", "sentence")),
           Scored(0.9, 2, Unit("Select article to change", "", "line")),
           Scored(0.8, 1, Unit("30 days | travel", "", "row"))]
    cos = cosines(QUESTION, top, model, words)
    assert words.seen == [QUESTION, "Expenses: " + RELEVANT, "30 days | travel"]
    assert model.seen == [QUESTION, "Select article to change"]
    assert cos.shape == (3,) and cos[0] > 0.3
    # without word vectors the model weighs every unit
    model.seen = []
    cosines(QUESTION, top, model, None)
    assert model.seen == [QUESTION, "Expenses: " + RELEVANT, "Select article to change",
                          "30 days | travel"]


def test_the_setting_chooses_the_model_for_every_sentence():
    assert build_generator("extractive", Settings(_env_file=None)).word_vectors is True
    model = build_generator("extractive", Settings(answer_vectors="model", _env_file=None))
    assert model.word_vectors is False
