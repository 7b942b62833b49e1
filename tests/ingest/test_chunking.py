"""Token-aware chunking: chunks fit the model's window, neighbours overlap, and the fast
token counter measures exactly what the tokenizer's own ``tokenize`` measures."""

from llama_index.core.node_parser import SentenceSplitter

from ingest.chunking import Chunker, _token_counter

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
    assert chunks[0].split()[-1] in chunks[1]  # overlap carries the end of one into the next


def test_fast_counter_counts_like_tokenize(text_embedder):
    tok = text_embedder.new_tokenizer()
    count = _token_counter(text_embedder.new_tokenizer())
    for text in (TEXT, "Ünïcödé naïve café, 12,345.67 € — and a URL: https://example.com/a?b=c"):
        assert len(count(text)) == len(tok.tokenize(text))  # past the 256-token limit too

    def split(counter):
        return SentenceSplitter(chunk_size=64, chunk_overlap=16, tokenizer=counter,
                                paragraph_separator="\n\n").split_text(TEXT)

    assert split(count) == split(tok.tokenize)
