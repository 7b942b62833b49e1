"""mmrag's retrieval as a LangChain retriever (``pip install 'mmrag[langchain]'``), over
HTTP to a running server: each hit a ``Document`` whose metadata says its source, place,
modality, url (a picture's ``image_url`` too) and scores.

    from mmrag.langchain import MmragRetriever
    retriever = MmragRetriever(base_url="http://127.0.0.1:8000", k=5)
    docs = retriever.invoke("What is the guest Wi-Fi password?")
"""

from __future__ import annotations

try:
    from langchain_core.callbacks import (
        AsyncCallbackManagerForRetrieverRun,
        CallbackManagerForRetrieverRun,
    )
    from langchain_core.documents import Document
    from langchain_core.retrievers import BaseRetriever
except ImportError as e:  # pragma: no cover - the extra's one-line message
    raise ImportError("the LangChain retriever needs its extra: pip install "
                      "'mmrag[langchain]'") from e

from .client import Hit, MmragClient


def _document(hit: Hit) -> Document:
    return Document(page_content=hit.text, metadata=hit.as_metadata(), id=hit.id)


class MmragRetriever(BaseRetriever):
    base_url: str = "http://127.0.0.1:8000"
    api_key: str | None = None
    collection: str | None = None
    k: int = 5
    timeout: float = 60.0

    def _client(self) -> MmragClient:
        return MmragClient(self.base_url, self.api_key, self.collection, self.k, self.timeout)

    def _get_relevant_documents(self, query: str, *,
                                run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        return [_document(h) for h in self._client().search(query)]

    async def _aget_relevant_documents(
            self, query: str, *, run_manager: AsyncCallbackManagerForRetrieverRun
    ) -> list[Document]:
        return [_document(h) for h in await self._client().asearch(query)]
