"""Random-weight models built from configs, for tests and benchmarks on machines that cannot
download weights. They are saved with ``save_pretrained`` and loaded back through the same
``from_pretrained`` path as real models, so the production loader is what gets exercised.

``tiny`` is for tests (hidden size 32, two layers, 32 px images); ``base`` has the exact
shapes of openai/clip-vit-base-patch32, so its speed is the real model's speed."""

from __future__ import annotations

from pathlib import Path


def _byte_vocab() -> tuple[dict[str, int], list[tuple[str, str]]]:
    """A byte-level BPE vocabulary with every byte as a token (and as a word end), so the
    tokenizer can encode any text, plus a few merges so that BPE has work to do."""
    # GPT-2's byte-to-printable-character table, which CLIP's byte-level BPE uses
    printable = [*range(ord("!"), ord("~") + 1), *range(0xA1, 0xAD), *range(0xAE, 0x100)]
    extra = iter(range(256, 512))
    chars = [chr(b) if b in printable else chr(next(extra)) for b in range(256)]
    tokens = chars + [c + "</w>" for c in chars]
    merges = [("t", "h"), ("th", "e</w>"), ("i", "n"), ("a", "n"), ("e", "r</w>")]
    tokens += ["th", "the</w>", "in", "an", "er</w>", "<|startoftext|>", "<|endoftext|>"]
    return {t: i for i, t in enumerate(tokens)}, merges


def build_random_clip(out_dir: str | Path, size: str = "tiny", seed: int = 0) -> Path:
    """Save a CLIPModel with random weights and a matching CLIPProcessor to ``out_dir``."""
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
    vocab, merges = _byte_vocab()
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
