"""The LlamaIndex side of ``eval.bench.vs_llamaindex``: run in its own virtual environment,
with no mmrag import. A plain multimodal pipeline as its documentation builds one:
SimpleDirectoryReader, SentenceSplitter, HuggingFaceEmbedding (the same MiniLM files),
MultiModalVectorStoreIndex over two Chroma collections, and CLIP through transformers (the
same weights; LlamaIndex's own ClipEmbedding needs OpenAI's ``clip`` package, which is not on
PyPI), with the same batch sizes as mmrag's defaults.

    .venv-llamaindex/bin/python eval/bench/llamaindex_side.py CORPUS CLIP MINILM STORE QUESTIONS

Prints one JSON line: seconds for the texts and for the images, chunk and image counts,
retrieval latencies (ms) for each question, the store's size in bytes."""

from __future__ import annotations

import io
import json
import sys
import time
from pathlib import Path
from typing import Any

TEXT_BATCH, IMAGE_BATCH = 64, 32  # mmrag's MMRAG_INGEST__TEXT_BATCH_SIZE / __IMAGE_BATCH_SIZE
CHUNK_TOKENS, OVERLAP = 128, 24  # mmrag's MMRAG_INGEST__CHUNK_SIZE / __CHUNK_OVERLAP


def clip_embedding(path: str) -> Any:
    import torch
    from llama_index.core.embeddings import MultiModalEmbedding
    from PIL import Image
    from transformers import CLIPModel, CLIPProcessor

    model = CLIPModel.from_pretrained(path).eval()
    processor = CLIPProcessor.from_pretrained(path)

    def unit(features: Any) -> list[list[float]]:
        features = getattr(features, "pooler_output", features)
        return torch.nn.functional.normalize(features, dim=-1).tolist()

    class TransformersClip(MultiModalEmbedding):
        def _texts(self, texts: list[str]) -> list[list[float]]:
            tok = processor.tokenizer(texts, padding=True, truncation=True, return_tensors="pt")
            with torch.inference_mode():
                return unit(model.get_text_features(**tok))

        def _get_image_embeddings(self, img_file_paths: list[Any]) -> list[list[float]]:
            images = [Image.open(p if not isinstance(p, bytes) else io.BytesIO(p)).convert("RGB")
                      for p in img_file_paths]
            pixels = processor.image_processor(images=images, return_tensors="pt")
            with torch.inference_mode():
                return unit(model.get_image_features(pixel_values=pixels["pixel_values"]))

        def _get_image_embedding(self, img_file_path: Any) -> list[float]:
            return self._get_image_embeddings([img_file_path])[0]

        async def _aget_image_embedding(self, img_file_path: Any) -> list[float]:
            return self._get_image_embedding(img_file_path)

        def _get_text_embedding(self, text: str) -> list[float]:
            return self._texts([text])[0]

        def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
            return self._texts(texts)

        def _get_query_embedding(self, query: str) -> list[float]:
            return self._texts([query])[0]

        async def _aget_query_embedding(self, query: str) -> list[float]:
            return self._get_query_embedding(query)

    return TransformersClip(model_name=path, embed_batch_size=IMAGE_BATCH)


def main() -> None:
    corpus, clip_path, minilm, store, questions_file = sys.argv[1:6]
    import chromadb
    from llama_index.core import SimpleDirectoryReader, StorageContext
    from llama_index.core.indices import MultiModalVectorStoreIndex
    from llama_index.core.node_parser import SentenceSplitter
    from llama_index.core.schema import ImageNode
    from llama_index.embeddings.huggingface import HuggingFaceEmbedding
    from llama_index.vector_stores.chroma import ChromaVectorStore

    text_model = HuggingFaceEmbedding(model_name=minilm, device="cpu",
                                      embed_batch_size=TEXT_BATCH)
    image_model = clip_embedding(clip_path)
    client = chromadb.PersistentClient(path=store)
    context = StorageContext.from_defaults(
        vector_store=ChromaVectorStore(chroma_collection=client.create_collection("text")),
        image_store=ChromaVectorStore(chroma_collection=client.create_collection("images")))
    splitter = SentenceSplitter(chunk_size=CHUNK_TOKENS, chunk_overlap=OVERLAP)

    t0 = time.perf_counter()
    text_docs = SimpleDirectoryReader(str(Path(corpus) / "texts")).load_data()
    nodes = splitter.get_nodes_from_documents(text_docs)
    index = MultiModalVectorStoreIndex(nodes, storage_context=context, embed_model=text_model,
                                       image_embed_model=image_model)
    t_text = time.perf_counter() - t0

    t0 = time.perf_counter()
    # SimpleDirectoryReader gives images as plain Documents, which the index embeds as text
    # (their text is empty: nothing); image nodes are what it embeds with the image model
    image_nodes = [ImageNode(image_path=str(p), metadata={"file_path": str(p)})
                   for p in sorted((Path(corpus) / "images").iterdir())]
    index.insert_nodes(image_nodes)
    t_images = time.perf_counter() - t0
    # llama-index-core 0.14.25 keeps "store is empty" flags that inserts do not clear: the
    # index built from text alone marked the image store empty, and inserting nodes without
    # text marked the text store empty, so neither would be searched; both hold items now
    index._is_text_vector_store_empty = False
    index._is_image_vector_store_empty = False

    retriever = index.as_retriever(similarity_top_k=5, image_similarity_top_k=5)
    questions = json.loads(Path(questions_file).read_text())
    for q in questions[:10]:
        retriever.retrieve(q)  # warm-up
    latencies = []
    for q in questions:
        t0 = time.perf_counter()
        retriever.retrieve(q)
        latencies.append((time.perf_counter() - t0) * 1000)
    size = sum(p.stat().st_size for p in Path(store).rglob("*") if p.is_file())
    print(json.dumps({"text_s": t_text, "images_s": t_images, "chunks": len(nodes),
                      "images": len(image_nodes), "retrieval_ms": latencies,
                      "store_bytes": size}))


if __name__ == "__main__":
    main()
