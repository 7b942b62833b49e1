"""The CUDA paths: LLaVA in fp16, 4-bit and 8-bit, and CLIP in fp16, with tiny random models
saved and loaded through the production loaders. Skipped where there is no CUDA GPU (CI);
run on a GPU machine with `pytest -m gpu`."""

import numpy as np
import pytest
from PIL import Image

from rag.answer.generators.base import collect
from rag.answer.generators.llava import LlavaGenerator
from rag.embedders.clip import ClipEmbedder
from rag.protocols import GenerationRequest
from rag.schema import Hit
from rag.sections import GenerationSettings, LlavaSettings
from rag.testing.models import build_random_llava

torch = pytest.importorskip("torch")
pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU"),
]


@pytest.fixture(scope="module")
def tiny_llava(tmp_path_factory):
    return build_random_llava(tmp_path_factory.mktemp("tiny-llava"))


@pytest.fixture
def question(tmp_path):
    p = tmp_path / "red.png"
    Image.new("RGB", (60, 40), "red").save(p)
    evidence = [(1, Hit(id="t", modality="text", source="faq.txt", raw_score=0.5,
                        calibrated_score=6, score=6, channel="text",
                        text="Salaries are paid on the 25th.")),
                (2, Hit(id="i", modality="image", source="red.png", raw_score=0.3,
                        calibrated_score=5, score=5, channel="image"))]
    return GenerationRequest("When are salaries paid?", evidence, image_paths={2: str(p)},
                             max_tokens=6)


def llava(path, quantization: str) -> LlavaGenerator:
    return LlavaGenerator(LlavaSettings(model=str(path), quantization=quantization),
                          GenerationSettings(), "cuda").load()


def test_llava_fp16_runs_on_the_gpu(tiny_llava, question):
    gen = llava(tiny_llava, "fp16")
    assert gen._model.device.type == "cuda" and gen._model.dtype == torch.float16
    inputs = gen.inputs(question)
    assert inputs["pixel_values"].dtype == torch.float16
    assert inputs["input_ids"].device.type == "cuda"
    _, usage, _ = collect(gen.generate(question))
    assert usage.completion_tokens == 6


@pytest.mark.parametrize("quantization, layer", [("4bit", "Linear4bit"), ("8bit", "Linear8bitLt")])
def test_llava_quantized_with_bitsandbytes(tiny_llava, question, quantization, layer):
    bnb = pytest.importorskip("bitsandbytes")
    gen = llava(tiny_llava, quantization)
    quantized = [m for m in gen._model.modules() if isinstance(m, getattr(bnb.nn, layer))]
    assert quantized, f"no {layer} layers in the model"
    if quantization == "4bit":
        weight = quantized[0].weight
        assert weight.quant_state.quant_type == "nf4" and weight.quant_state.nested
    chunks = list(gen.generate(question))
    assert chunks[-1].usage.completion_tokens == 6
    assert chunks[-1].finish_reason == "length"


def test_clip_fp16_on_the_gpu_agrees_with_the_cpu(tiny_clip_dir):
    images = [Image.effect_noise((90, 70), 40 + i).convert("RGB") for i in range(3)]
    texts = ["a red square", "a dark blue picture"]
    cpu = ClipEmbedder(str(tiny_clip_dir), "cpu").load()
    gpu = ClipEmbedder(str(tiny_clip_dir), "cuda").load()
    assert gpu._model.dtype == torch.float16
    for a, b in ((cpu.embed_images(images), gpu.embed_images(images)),
                 (cpu.embed_text(texts), gpu.embed_text(texts))):
        assert b.dtype == np.float32
        assert np.allclose(np.linalg.norm(b, axis=1), 1, atol=1e-3)
        assert np.all(np.sum(a * b, axis=1) > 0.999)
