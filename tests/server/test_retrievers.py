"""The framework retrievers against a live server: a LlamaIndex RetrieverQueryEngine and a
LangChain retrieval chain run on them (a fake LLM where one is needed), picture hits
included, sync and async."""

from __future__ import annotations

import asyncio
import shutil

import httpx
import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import RunnablePassthrough
from llama_index.core.llms import MockLLM
from llama_index.core.query_engine import RetrieverQueryEngine
from llama_index.core.schema import ImageNode, QueryBundle, TextNode

from mmrag import langchain as mmrag_langchain
from mmrag import llamaindex as mmrag_llamaindex

from ..conftest import KB
from .conftest import LiveServer

pytestmark = [pytest.mark.slow, pytest.mark.integration]
QUESTION = "What is the password of the guest Wi-Fi network?"


@pytest.fixture
def server(service, tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    for name in ("onboarding-faq.txt", "it-security-guidelines.html", "images/guest-wifi-sign.png",
                 "images/espresso.jpg"):
        shutil.copy(KB / name, docs / name.rsplit("/", 1)[-1])
    with LiveServer(service) as live:
        files = [("files", (p.name, p.read_bytes())) for p in sorted(docs.iterdir())]
        r = httpx.post(live.url + "/v1/ingest", files=files, timeout=300)
        assert r.status_code == 200 and r.json()["failed"] == 0, r.text
        yield live


def test_llamaindex_retriever_in_a_query_engine_with_image_nodes(server):
    retriever = mmrag_llamaindex.MmragRetriever(base_url=server.url, top_k=5)
    engine = RetrieverQueryEngine.from_args(retriever, llm=MockLLM())
    response = engine.query(QUESTION)
    nodes = response.source_nodes
    assert nodes and all(n.score is not None for n in nodes)
    pictures = [n for n in nodes if isinstance(n.node, ImageNode)]
    assert pictures, [n.node.metadata["source"] for n in nodes]
    sign = pictures[0].node
    assert sign.metadata["source"] == "guest-wifi-sign.png"
    assert sign.image_url.startswith(server.url + "/v1/images/")
    assert "BlueHarbor" in sign.text  # the text read in the picture
    assert httpx.get(sign.image_url).headers["content-type"].startswith("image/")
    texts = [n for n in nodes if type(n.node) is TextNode]
    assert texts and texts[0].node.metadata["url"].startswith(server.url + "/v1/items/")
    # async, and a picture as the question
    again = asyncio.run(retriever.aretrieve(QUESTION))
    assert [n.node.node_id for n in again] == [n.node.node_id for n in nodes]
    by_picture = retriever.retrieve(QueryBundle("", image_path=str(KB / "images/espresso.jpg")))
    assert by_picture[0].node.metadata["source"] == "espresso.jpg"
    assert isinstance(by_picture[0].node, ImageNode)


def test_langchain_retriever_in_a_retrieval_chain(server):
    retriever = mmrag_langchain.MmragRetriever(base_url=server.url, k=5)
    seen: list[str] = []

    def context(docs):
        seen.extend(d.metadata["source"] for d in docs)
        return "\n\n".join(f"[{d.metadata['source']}] {d.page_content}" for d in docs)

    prompt = ChatPromptTemplate.from_template("Context:\n{context}\n\nQuestion: {question}")
    llm = FakeListChatModel(responses=["BlueHarbor2026 [guest-wifi-sign.png]"])
    chain = ({"context": retriever | context, "question": RunnablePassthrough()}
             | prompt | llm | StrOutputParser())
    assert chain.invoke(QUESTION) == "BlueHarbor2026 [guest-wifi-sign.png]"
    assert "guest-wifi-sign.png" in seen
    docs = retriever.invoke(QUESTION)
    sign = next(d for d in docs if d.metadata["modality"] == "image")
    assert sign.metadata["image_url"].startswith(server.url + "/v1/images/")
    assert {"source", "place", "modality", "url", "score", "calibrated_score",
            "channel"} <= set(sign.metadata)
    assert "BlueHarbor" in sign.page_content
    adocs = asyncio.run(retriever.ainvoke(QUESTION))
    assert [d.id for d in adocs] == [d.id for d in docs]


def test_a_refused_request_names_the_server_and_its_reason(server):
    retriever = mmrag_langchain.MmragRetriever(base_url=server.url, collection="nowhere")
    with pytest.raises(RuntimeError, match="404: no collection 'nowhere'"):
        retriever.invoke(QUESTION)
