import time

import numpy as np
import pytest
from PIL import Image

from rag.embedders.clip import ClipEmbedder
from rag.embedders.text import SentenceTransformerEmbedder, resolve_text_model
from rag.errors import ModelUnavailable


def test_minilm_comes_from_the_package_and_understands_meaning(text_embedder):
    assert resolve_text_model("sentence-transformers/all-MiniLM-L6-v2").endswith("model")
    v = text_embedder.embed(["How do I reset my password?",
                             "Steps to change a forgotten login password",
                             "The cafeteria serves lunch from 11:30."])
    assert v.shape == (3, 384) and v.dtype == np.float32
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    assert v[0] @ v[1] > v[0] @ v[2] + 0.3


def test_tiny_clip_loads_through_the_production_loader(clip, tiny_clip_dir):
    assert clip.model_id == str(tiny_clip_dir)
    red, blue = Image.new("RGB", (64, 40), "red"), Image.new("RGB", (30, 90), "blue")
    img = clip.embed_images([red, blue, red])
    txt = clip.embed_text(["a red thing", "something much longer " * 30])
    assert img.shape == (3, clip.dimension) == (3, 32)
    assert txt.shape == (2, 32)
    assert np.allclose(np.linalg.norm(img, axis=1), 1.0, atol=1e-5)
    assert img[0] @ img[2] == pytest.approx(1.0, abs=1e-5)  # same image, same vector
    assert img[0] @ img[1] < 0.999
    assert not np.allclose(txt[0], txt[1])


def test_batches_give_the_same_vectors_as_single_calls(clip):
    images = [Image.new("RGB", (40, 40), (i * 20, 100, 200 - i * 20)) for i in range(5)]
    single = np.concatenate([clip.embed_images([im]) for im in images])
    small = ClipEmbedder(clip.model_id, "cpu", batch_size=2)
    assert np.allclose(small.embed_images(images), single, atol=1e-5)


def test_missing_clip_fails_fast_with_instructions(tmp_path):
    t0 = time.perf_counter()
    with pytest.raises(ModelUnavailable) as e:
        ClipEmbedder("openai/clip-vit-base-patch32", "cpu").load()
    assert time.perf_counter() - t0 < 20  # no long retry loop against an unreachable hub
    msg = str(e.value)
    assert "openai/clip-vit-base-patch32" in msg and "MMRAG_CLIP_MODEL" in msg
    with pytest.raises(ModelUnavailable, match="MMRAG_CLIP_MODEL"):
        ClipEmbedder(str(tmp_path), "cpu").load()  # a directory without a model


def test_missing_text_model_names_the_setting(tmp_path):
    with pytest.raises(ModelUnavailable, match="MMRAG_TEXT_MODEL"):
        SentenceTransformerEmbedder(str(tmp_path / "nope"), "cpu").load()


def test_fast_clip_pixels_equal_the_processors(clip, tiny_clip_dir):
    """The direct PIL path gives the transformers image processor's pixels; a processor set
    up differently keeps the processor."""
    from transformers import CLIPImageProcessor

    from rag.embedders.clip import _FastPixels

    assert clip._fast_pixels is not None
    rng = np.random.default_rng(1)
    images = [Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8))
              for w, h in ((640, 480), (33, 200), (32, 32), (7, 5))]
    want = clip._processor.image_processor(images=images, return_tensors="np")["pixel_values"]
    got = clip.preprocess(images).numpy()
    assert got.shape == want.shape and np.abs(got - want).max() < 1e-4
    odd = CLIPImageProcessor.from_pretrained(str(tiny_clip_dir), do_center_crop=False)
    assert _FastPixels.check(odd) is None
