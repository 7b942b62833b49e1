"""Random-weight models built from configs, for tests and benchmarks on machines that cannot
download weights. They are saved with ``save_pretrained`` and loaded back through the same
``from_pretrained`` path as real models, so the production loader is what gets exercised.

``tiny`` is for tests (hidden size 32, two layers, 32 px images); ``base`` has the exact
shapes of openai/clip-vit-base-patch32, so its speed is the real model's speed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

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
    # words split as CLIP splits them (no space marker), then byte-mapped as CLIP maps them:
    # a space-marked byte-level BPE learns merges CLIPTokenizer never applies, and every word
    # came out in ~3 pieces
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Whitespace(),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    alphabet = pre_tokenizers.ByteLevel.alphabet()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, initial_alphabet=alphabet, end_of_word_suffix="</w>",
        special_tokens=["<|startoftext|>", "<|endoftext|>"], show_progress=False,
    )
    tok.train_from_iterator(text.splitlines(), trainer)
    model = json.loads(tok.to_str())["model"]
    merges = [tuple(m.split(" ")) if isinstance(m, str) else tuple(m) for m in model["merges"]]
    vocab = dict(model["vocab"])
    for c in sorted(alphabet):  # every byte, also as a word end, so nothing is out of vocabulary
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
    tokenizer = CLIPTokenizer(vocab=vocab, merges=merges)  # type: ignore[arg-type]
    image_processor = CLIPImageProcessor(
        size={"shortest_edge": image_size}, crop_size={"height": image_size, "width": image_size}
    )
    CLIPProcessor(image_processor=image_processor, tokenizer=tokenizer).save_pretrained(out)
    return out


LLAVA_CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{{ message['role'].upper() + ': ' }}"
    "{% for part in message['content'] if part['type'] == 'image' %}{{ '<image>\\n' }}"
    "{% endfor %}"
    "{% for part in message['content'] if part['type'] == 'text' %}{{ part['text'] + ' ' }}"
    "{% endfor %}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ 'ASSISTANT:' }}{% endif %}"
)


def _chat_tokenizer(text: str, vocab_size: int, image_attribute: bool = True) -> Any:
    """A byte-level BPE tokenizer for a causal LM, with <s>, </s>, <unk>, <pad> and <image>
    (named as the tokenizer's ``image_token`` when ``image_attribute``: LLaVA's processor
    reads it from there, BLIP-2's adds its own)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    specials = ["<unk>", "<s>", "</s>", "<pad>", "<image>"]
    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=specials,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  show_progress=False)
    tok.train_from_iterator(text.splitlines(), trainer)
    extra = {"extra_special_tokens": {"image_token": "<image>"}} if image_attribute else {}
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>",
                                   unk_token="<unk>", pad_token="<pad>", **extra)
    fast.chat_template = LLAVA_CHAT_TEMPLATE
    return fast


def build_random_llava(out_dir: str | Path, size: str = "tiny", seed: int = 0,
                       text: str = TRAINING_TEXT, dtype: str = "float32",
                       device: str = "cpu") -> Path:
    """Save a LlavaForConditionalGeneration with random weights and a matching processor.
    ``tiny``: CLIP vision tower and Llama text model of hidden size 32, two layers.
    ``llava-1.5-7b``: the shapes of llava-hf/llava-1.5-7b-hf (CLIP ViT-L/14 at 336 px,
    Llama-2-7B), for memory and speed checks on a GPU: build it with ``dtype="float16"``
    (13.5 GiB on disk, like the published checkpoint) and ``device="cuda"`` (initialising
    seven billion weights on the CPU takes minutes)."""
    import torch
    from transformers import (
        CLIPImageProcessor,
        CLIPVisionConfig,
        LlamaConfig,
        LlavaConfig,
        LlavaForConditionalGeneration,
        LlavaProcessor,
    )

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tokenizer = _chat_tokenizer(text, 600)
    ids = {t: tokenizer.convert_tokens_to_ids(t) for t in ("<s>", "</s>", "<pad>", "<image>")}
    if size == "tiny":
        image_size, patch = 32, 8
        vision = CLIPVisionConfig(hidden_size=32, intermediate_size=37, num_hidden_layers=2,
                                  num_attention_heads=4, image_size=image_size, patch_size=patch)
        llm = LlamaConfig(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=37,
                          num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=4,
                          max_position_embeddings=4096)
    elif size == "llava-1.5-7b":
        image_size, patch = 336, 14
        vision = CLIPVisionConfig(hidden_size=1024, intermediate_size=4096, num_hidden_layers=24,
                                  num_attention_heads=16, image_size=image_size, patch_size=patch,
                                  projection_dim=768)
        llm = LlamaConfig(vocab_size=32064, hidden_size=4096, intermediate_size=11008,
                          num_hidden_layers=32, num_attention_heads=32, num_key_value_heads=32,
                          max_position_embeddings=4096)
    else:
        raise ValueError(f"unknown size {size!r}: use 'tiny' or 'llava-1.5-7b'")
    llm.bos_token_id, llm.eos_token_id, llm.pad_token_id = ids["<s>"], ids["</s>"], ids["<pad>"]
    config = LlavaConfig(vision_config=vision, text_config=llm, image_token_index=ids["<image>"],
                         vision_feature_select_strategy="default", vision_feature_layer=-2,
                         image_seq_length=(image_size // patch) ** 2)
    torch.manual_seed(seed)
    with torch.device(device):
        model = LlavaForConditionalGeneration._from_config(
            config, dtype=getattr(torch, dtype)).eval()
    model.generation_config.pad_token_id = ids["<pad>"]
    model.generation_config.eos_token_id = ids["</s>"]
    model.save_pretrained(out)
    image_processor = CLIPImageProcessor(
        size={"shortest_edge": image_size}, crop_size={"height": image_size, "width": image_size})
    LlavaProcessor(image_processor=image_processor, tokenizer=tokenizer, patch_size=patch,
                   vision_feature_select_strategy="default", num_additional_image_tokens=1,
                   chat_template=LLAVA_CHAT_TEMPLATE).save_pretrained(out)
    return out


def build_random_blip2(out_dir: str | Path, seed: int = 0, text: str = TRAINING_TEXT) -> Path:
    """A tiny Blip2ForConditionalGeneration (CLIP-like vision tower, Q-Former and OPT of hidden
    size 32, two layers, 4 query tokens) with random weights and a matching processor."""
    import torch
    from transformers import (
        Blip2Config,
        Blip2ForConditionalGeneration,
        Blip2Processor,
        Blip2QFormerConfig,
        Blip2VisionConfig,
        BlipImageProcessor,
        OPTConfig,
    )

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tok = _chat_tokenizer(text, 600, image_attribute=False)
    ids = {t: tok.convert_tokens_to_ids(t) for t in ("<s>", "</s>", "<pad>", "<image>")}
    small: dict[str, Any] = dict(hidden_size=32, intermediate_size=37, num_hidden_layers=2,
                                 num_attention_heads=4)
    config = Blip2Config(
        vision_config=Blip2VisionConfig(**small, image_size=32, patch_size=8).to_dict(),
        qformer_config=Blip2QFormerConfig(**small, encoder_hidden_size=32,
                                          vocab_size=len(tok)).to_dict(),
        text_config=OPTConfig(vocab_size=len(tok), hidden_size=32, ffn_dim=37,
                              num_hidden_layers=2, num_attention_heads=4,
                              word_embed_proj_dim=32, max_position_embeddings=512,
                              bos_token_id=ids["<s>"], eos_token_id=ids["</s>"],
                              pad_token_id=ids["<pad>"]).to_dict(),
        num_query_tokens=4, image_token_index=ids["<image>"])
    torch.manual_seed(seed)
    Blip2ForConditionalGeneration(config).eval().save_pretrained(out)
    Blip2Processor(image_processor=BlipImageProcessor(size={"height": 32, "width": 32}),
                   tokenizer=tok, num_query_tokens=4).save_pretrained(out)
    return out
