"""Token-aware chunking: chunks fit the model's window, neighbours overlap, every chunk is the
documents' own text, and the work is bounded on any input (pathological punctuation, one huge
line, no spaces): the tokenizer only ever sees bounded pieces, each character once."""

import pytest

from ingest.chunking import PIECE_CHARS, Chunker
from rag.errors import TooLarge

TEXT = "\n\n".join(
    " ".join(f"Sentence {i}.{j} says that expense claims need a receipt and approval."
             for j in range(12)) for i in range(8)
) + "\n\n" + "x" * 3000  # one unbroken run longer than the model's input limit


def test_chunks_fit_the_window_and_overlap(text_embedder):
    chunker = Chunker(text_embedder.new_tokenizer, chunk_size=64, chunk_overlap=16)
    chunks = chunker.split(TEXT)
    tok = text_embedder.new_tokenizer()
    assert len(chunks) > 10
    assert all(len(tok.tokenize(c)) <= 64 for c in chunks)
    assert all(c in TEXT for c in chunks)  # quoted verbatim, never rewritten
    assert chunks[0].split()[-1] in chunks[1]  # overlap carries the end of one into the next
    assert chunks[1].startswith("Sentence 0.")  # chunks start at a sentence, not mid-way


def test_list_items_and_table_rows_are_units(text_embedder):
    text = ("Settings of the CORS middleware:\n- allow_origins: the origins allowed\n"
            "- max_age: defaults to 600 seconds\n| key | default |\n| timeout | 30 |")
    chunker = Chunker(text_embedder.new_tokenizer, chunk_size=16, chunk_overlap=0)
    chunks = chunker.split(text)
    assert len(chunks) > 1
    lines = text.splitlines()
    assert all(line in lines for c in chunks for line in c.splitlines())  # never cut inside


@pytest.mark.parametrize("text", [
    "?" * 50_000,                      # a row of question marks, no spaces
    "!?" * 30_000,
    "word " * 30_000,                  # one huge line
    "a" * 70_000,                      # no spaces at all
    ("x. " * 20_000) + "\n" * 20_000,  # many tiny sentences, then blank lines
])
def test_the_work_is_bounded_on_any_text(text_embedder, text):
    chunker = Chunker(text_embedder.new_tokenizer, chunk_size=64, chunk_overlap=16)
    seen: list[int] = []
    measure = chunker._offsets()

    def counting(piece: str) -> list[tuple[int, int]]:
        seen.append(len(piece))
        return measure(piece)

    chunker._local.offsets = counting
    chunks = chunker.split(text)
    assert max(seen) <= PIECE_CHARS
    assert sum(seen) == len(text)  # each character is tokenized exactly once
    tok = text_embedder.new_tokenizer()
    if text.strip():
        assert chunks and all(len(tok.tokenize(c)) <= 64 for c in chunks[:50])


def test_a_time_budget_names_its_setting(text_embedder):
    chunker = Chunker(text_embedder.new_tokenizer, 64, 16, max_seconds=0)
    with pytest.raises(TooLarge, match="CHUNK_SECONDS"):
        chunker.split("word " * 10_000)


def test_chinese_text_is_cut_at_its_sentence_ends(text_embedder):
    """Chinese has no space after 。！？: a chunk still ends where a sentence does."""
    sentences = [f"第{i}条规定：员工出差时每天的餐费补贴是{40 + i}欧元。" for i in range(40)]
    text = "".join(sentences)
    chunks = Chunker(text_embedder.new_tokenizer, chunk_size=64, chunk_overlap=0).split(text)
    assert len(chunks) > 3
    assert all(c.endswith("。") for c in chunks), chunks
    assert "".join(chunks) == text
