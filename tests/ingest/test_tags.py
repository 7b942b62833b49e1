"""CLIP zero-shot tags, stored with each picture and usable as a query filter."""

from pathlib import Path

import numpy as np
import pytest

from ingest.pipeline import Ingestor
from ingest.tags import Tagger
from rag.items import tag_key
from rag.retrieval.retriever import tag_filter
from rag.schema import Query

pytestmark = pytest.mark.slow


class FixedClip:
    """Labels embedded as fixed unit vectors, so the probabilities can be checked by hand."""

    model_id = "fixed"

    def embed_text(self, texts):
        return np.eye(len(texts), 3, dtype=np.float32)


def test_tag_probabilities_by_hand():
    tagger = Tagger(["a chart", "screenshot", "a photo of a cat"], threshold=0.3)
    images = np.array([[1.0, 0.0, 0.0], [0.0, 0.7071, 0.7071]], dtype=np.float32)
    first, second = tagger.tag(FixedClip(), images)
    # row 1: logits 100, 0, 0 -> "a chart" with probability ~1
    assert first == {"tag_a_chart": True, "tags": "a chart"}
    # row 2: logits 0, 70.7, 70.7 -> two labels at ~0.5 each
    assert second == {"tag_screenshot": True, "tag_a_photo_of_a_cat": True,
                      "tags": "screenshot,a photo of a cat"}
    assert tagger.tag(FixedClip(), np.zeros((0, 3), dtype=np.float32)) == []
    assert Tagger([], 0.3).tag(FixedClip(), images) == [{}, {}]


def test_filter_keys():
    assert tag_key("A Photo of a cat!") == "tag_a_photo_of_a_cat"
    assert tag_filter([]) is None and tag_filter(["chart"]) == {"tag_chart": True}
    assert tag_filter(["chart", "red"]) == {"$and": [{"tag_chart": True}, {"tag_red": True}]}


def test_tags_are_stored_and_filter_queries(settings, text_embedder, clip, kb):
    from rag.service import RagService

    settings.ingest.tag_labels = ["a red picture", "a green picture", "a blue picture"]
    settings.ingest.tag_threshold = 0.0  # the tiny random CLIP is unsure: keep every label
    service = RagService.from_settings(settings, text_embedder=text_embedder, clip=clip)
    Ingestor(service).ingest_paths([kb / "img"])
    items, _ = service.parts.store.get("default", "image")
    assert items and all(it.metadata["tags"].count(",") == 2 for it in items)
    only_tagged, _ = service.retrieve(Query(text="a picture", tags=["a red picture"]))
    assert only_tagged and all(h.modality == "image" for h in only_tagged)
    assert service.retrieve(Query(text="a picture", tags=["not a label"]))[0] == []
    assert Path(only_tagged[0].source).parent.name == "img"
