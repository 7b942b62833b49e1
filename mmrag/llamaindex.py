"""mmrag's retrieval as a LlamaIndex retriever (``pip install 'mmrag[llamaindex]'``), over
HTTP to a running server: text hits as ``TextNode``s, pictures as ``ImageNode``s with their
URL and the text read in them, each in a ``NodeWithScore`` with mmrag's fused score.

    from mmrag.llamaindex import MmragRetriever
    retriever = MmragRetriever(base_url="http://127.0.0.1:8000", top_k=5)
    nodes = retriever.retrieve("What is the guest Wi-Fi password?")
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

try:
    from llama_index.core.retrievers import BaseRetriever
    from llama_index.core.schema import ImageNode, NodeWithScore, QueryBundle, TextNode
except ImportError as e:  # pragma: no cover - the extra's one-line message
    raise ImportError("the LlamaIndex retriever needs its extra: pip install "
                      "'mmrag[llamaindex]'") from e

from .client import Hit, MmragClient


def _node(hit: Hit) -> NodeWithScore:
    meta = hit.as_metadata()
    if hit.modality == "image":
        node: TextNode = ImageNode(id_=hit.id, text=hit.text, image_url=hit.image_url,
                                   metadata=meta)
    else:
        node = TextNode(id_=hit.id, text=hit.text, metadata=meta)
    return NodeWithScore(node=node, score=hit.score)


class MmragRetriever(BaseRetriever):
    """A query's words, or its ``image_path`` (a picture to search by), or both."""

    def __init__(self, base_url: str = "http://127.0.0.1:8000", api_key: str | None = None,
                 collection: str | None = None, top_k: int = 5, timeout: float = 60.0,
                 **kwargs: Any):
        self.client = MmragClient(base_url, api_key, collection, top_k, timeout)
        super().__init__(**kwargs)

    @staticmethod
    def _image(query: QueryBundle) -> bytes | None:
        return Path(query.image_path).read_bytes() if query.image_path else None

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        hits = self.client.search(query_bundle.query_str, self._image(query_bundle))
        return [_node(h) for h in hits]

    async def _aretrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        hits = await self.client.asearch(query_bundle.query_str, self._image(query_bundle))
        return [_node(h) for h in hits]
