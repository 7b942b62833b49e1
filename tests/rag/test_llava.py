"""The llava backend with a tiny random LLaVA, saved and loaded through the production
loader, on the CPU (fp32)."""

import threading
from types import SimpleNamespace

import pytest
from PIL import Image

from rag.answer.generators.base import collect
from rag.answer.generators.hf import attention_backends
from rag.answer.generators.llava import LlavaGenerator, quantization_kwargs
from rag.errors import ModelUnavailable
from rag.protocols import GenerationRequest
from rag.schema import Hit
from rag.sections import GenerationSettings, LlavaSettings
from rag.testing.models import build_random_llava

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def llava(tmp_path_factory):
    path = build_random_llava(tmp_path_factory.mktemp("tiny-llava"))
    return LlavaGenerator(LlavaSettings(model=str(path)), GenerationSettings(), "cpu").load()


@pytest.fixture
def two_images(tmp_path):
    paths = {}
    for n, color in ((2, "red"), (3, "blue")):
        p = tmp_path / f"{color}.png"
        Image.new("RGB", (60, 40), color).save(p)
        paths[n] = str(p)
    evidence = [(1, Hit(id="t", modality="text", source="faq.txt", raw_score=0.5,
                        calibrated_score=6, score=6, channel="text",
                        text="Salaries are paid on the 25th."))]
    evidence += [(n, Hit(id=f"i{n}", modality="image", source=f"{n}.png", raw_score=0.3,
                         calibrated_score=5, score=5, channel="image")) for n in paths]
    return GenerationRequest("What do the pictures show?", evidence, image_paths=paths,
                             max_tokens=6)


def test_prompt_carries_both_images(llava, two_images):
    inputs = llava.inputs(two_images)
    image_token = llava._model.config.image_token_index
    assert inputs["pixel_values"].shape[0] == 2
    assert int((inputs["input_ids"] == image_token).sum()) == 2 * 16  # 16 patches per image


def test_generates_tokens_streaming_and_not(llava, two_images):
    chunks = list(llava.generate(two_images))
    last = chunks[-1]
    assert last.usage.completion_tokens == 6 and last.finish_reason == "length"
    assert last.usage.prompt_tokens > 32
    text, usage, _ = collect(llava.generate(two_images))
    assert text == "".join(c.text for c in chunks)  # greedy: the same tokens both ways
    assert usage.completion_tokens == 6


def test_concurrent_requests_are_queued(llava, two_images):
    results, errors = [], []

    def run():
        try:
            results.append(collect(llava.generate(two_images))[1].completion_tokens)
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert errors == [] and results == [6, 6, 6]


def test_missing_model_and_quantization_choices(tmp_path):
    gen = LlavaGenerator(LlavaSettings(model=str(tmp_path)), GenerationSettings(), "cpu")
    with pytest.raises(ModelUnavailable, match="MMRAG_LLAVA__MODEL"):
        gen.load()
    import torch

    assert quantization_kwargs("4bit", "cpu") == {"dtype": torch.float32}
    assert quantization_kwargs("fp16", "cuda") == {"dtype": torch.float16}


def test_generation_on_cuda_leaves_out_cudnn_attention():
    """cuDNN's attention rebuilds a graph per shape and thread: on CUDA, generation runs with
    the other kernels only, and the process-wide choice is restored afterwards."""
    import torch

    backends = torch.backends.cuda
    before = (backends.cudnn_sdp_enabled(), backends.flash_sdp_enabled(),
              backends.mem_efficient_sdp_enabled())
    with attention_backends(SimpleNamespace(device=torch.device("cuda"))):
        assert not backends.cudnn_sdp_enabled()
        assert backends.flash_sdp_enabled() and backends.mem_efficient_sdp_enabled()
    assert (backends.cudnn_sdp_enabled(), backends.flash_sdp_enabled(),
            backends.mem_efficient_sdp_enabled()) == before
    with attention_backends(SimpleNamespace(device=torch.device("cpu"))):  # nothing to change
        assert backends.cudnn_sdp_enabled() == before[0]
