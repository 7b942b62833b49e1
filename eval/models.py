"""Random-weight models built from configs, for tests and benchmarks on machines that cannot
download weights. They are saved with ``save_pretrained`` and loaded back through the same
``from_pretrained`` path as real models, so the production loader is what gets exercised.

``tiny`` is for tests (hidden size 32, two layers, 32 px images); ``base`` has the exact
shapes of openai/clip-vit-base-patch32, so its speed is the real model's speed."""

from __future__ import annotations

from pathlib import Path


TRAINING_TEXT = """The quick brown fox jumps over the lazy dog. A photo of a cat, a dog, a car,
a person, a house, a tree, a chart, a screenshot, a document, a slide and a sign. What is the
policy for travel expenses, hotels, flights and meals? How long must passwords be? When is
salary paid? Where do employees park? Show me the revenue chart for the third quarter. Who is
the astronaut in the picture? The rocket launch was streamed in the auditorium. Red, green,
blue, orange, purple, black, white and gray shapes on a plain background. Meeting rooms, office
hours, security guidelines, network access, laptop encryption, customer reports and budgets."""


def _train_vocab(text: str, vocab_size: int) -> tuple[dict[str, int], list[tuple[str, str]]]:
    """A byte-level BPE with CLIP's conventions (lower case, ``</w>`` word ends), trained on
    ``text``: common words become single tokens, as in the real CLIP vocabulary, so that
    sequence lengths (and so speed) are realistic; any text can still be encoded."""
    import json

    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE(end_of_word_suffix="</w>"))
    tok.normalizer = normalizers.Lowercase()
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    alphabet = pre_tokenizers.ByteLevel.alphabet()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, initial_alphabet=alphabet, end_of_word_suffix="</w>",
        special_tokens=["<|startoftext|>", "<|endoftext|>"], show_progress=False,
    )
    tok.train_from_iterator(text.splitlines(), trainer)
    model = json.loads(tok.to_str())["model"]
    merges = [tuple(m.split(" ")) if isinstance(m, str) else tuple(m) for m in model["merges"]]
    vocab = dict(model["vocab"])
    for c in alphabet:  # every byte, also as a word end, so nothing is out of vocabulary
        for t in (c, c + "</w>"):
            vocab.setdefault(t, len(vocab))
    return vocab, merges  # type: ignore[return-value]


def build_random_clip(out_dir: str | Path, size: str = "tiny", seed: int = 0,
                      text: str = TRAINING_TEXT) -> Path:
    """Save a CLIPModel with random weights and a matching CLIPProcessor to ``out_dir``; the
    tokenizer is trained on ``text``."""
    import torch
    from transformers import (
        CLIPConfig,
        CLIPImageProcessor,
        CLIPModel,
        CLIPProcessor,
        CLIPTokenizer,
    )

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    vocab, merges = _train_vocab(text, 1000 if size == "tiny" else 8000)
    # CLIP pools the text at the end-of-text token, so the config must know its id
    special = dict(
        bos_token_id=vocab["<|startoftext|>"],
        eos_token_id=vocab["<|endoftext|>"],
        pad_token_id=vocab["<|endoftext|>"],
    )
    if size == "tiny":
        image_size = 32
        config = CLIPConfig(
            text_config=dict(
                vocab_size=len(vocab), hidden_size=32, intermediate_size=37, num_hidden_layers=2,
                num_attention_heads=4, max_position_embeddings=77, **special,
            ),
            vision_config=dict(
                hidden_size=32, intermediate_size=37, num_hidden_layers=2, num_attention_heads=4,
                image_size=image_size, patch_size=8,
            ),
            projection_dim=32,
        )
    elif size == "base":  # the shapes of openai/clip-vit-base-patch32
        image_size = 224
        config = CLIPConfig(
            text_config=dict(vocab_size=max(len(vocab), 49408), **special),
            vision_config=dict(image_size=image_size, patch_size=32),
            projection_dim=512,
        )
    else:
        raise ValueError(f"unknown size {size!r}: use 'tiny' or 'base'")
    torch.manual_seed(seed)
    CLIPModel(config).eval().save_pretrained(out)
    tokenizer = CLIPTokenizer(vocab=vocab, merges=merges)
    image_processor = CLIPImageProcessor(
        size={"shortest_edge": image_size}, crop_size={"height": image_size, "width": image_size}
    )
    CLIPProcessor(image_processor=image_processor, tokenizer=tokenizer).save_pretrained(out)
    return out
