"""OpenAIGenerator: GPT-4o, or any OpenAI-compatible chat-completions server (vLLM, Ollama,
llama.cpp server, a gateway), through the official ``openai`` client. Retrieved images are
sent as ``image_url`` parts with base64 data URIs."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from typing import Any

from rag.answer.generators.images import data_uri
from rag.answer.prompt import build_prompt
from rag.errors import ModelUnavailable, Overloaded, UpstreamError
from rag.protocols import GenerationChunk, GenerationRequest
from rag.schema import Usage
from rag.sections import GenerationSettings, OpenAISettings

log = logging.getLogger(__name__)


class OpenAIGenerator:
    name = "openai"
    supports_images = True
    supports_streaming = True

    def __init__(self, settings: OpenAISettings, generation: GenerationSettings):
        self.settings = settings
        self.generation = generation
        self._client: Any = None
        self._lock = threading.Lock()

    def load(self) -> Any:
        """The client, created once. Unset key and URL are left to the client, which reads
        OPENAI_API_KEY and OPENAI_BASE_URL."""
        with self._lock:
            if self._client is None:
                try:
                    import openai
                except ImportError as e:
                    raise ModelUnavailable(f"the openai package is not installed ({e})") from e
                key = self.settings.api_key.get_secret_value() if self.settings.api_key else None
                try:
                    self._client = openai.OpenAI(
                        api_key=key,
                        base_url=self.settings.base_url,
                        timeout=self.settings.timeout,
                        max_retries=self.settings.max_retries,
                    )
                except openai.OpenAIError as e:
                    raise ModelUnavailable(
                        "no API key for the openai generator: set OPENAI_API_KEY (or "
                        "MMRAG_OPENAI__API_KEY; any non-empty value for a local server that "
                        f"needs none) ({e})"
                    ) from e
        return self._client

    def messages(self, request: GenerationRequest) -> list[dict[str, Any]]:
        g = self.generation
        prompt = build_prompt(request, g.context_tokens, g.max_images)
        parts: list[dict[str, Any]] = [{"type": "text", "text": prompt.user}]
        sources: list[str | bytes] = [*prompt.question_images,
                                      *(path for _, path in prompt.images)]
        for source in sources:
            parts.append({"type": "image_url",
                          "image_url": {"url": data_uri(source, self.settings.image_max_side)}})
        return [{"role": "system", "content": prompt.system},
                {"role": "user", "content": parts}]

    def generate(self, request: GenerationRequest) -> Iterator[GenerationChunk]:
        import openai

        client = self.load()
        kwargs: dict[str, Any] = dict(
            model=request.options.get("model") or self.settings.model,
            messages=self.messages(request),
            max_tokens=request.max_tokens or self.generation.max_tokens,
            temperature=request.temperature,
        )
        for key in ("top_p", "stop", "user"):
            if request.options.get(key) is not None:
                kwargs[key] = request.options[key]
        stream = bool(request.options.get("stream", True))
        try:
            if not stream:
                resp = client.chat.completions.create(**kwargs)
                choice = resp.choices[0]
                yield GenerationChunk(choice.message.content or "", usage=_usage(resp.usage),
                                      finish_reason=choice.finish_reason or "stop")
                return
            events = client.chat.completions.create(
                **kwargs, stream=True, stream_options={"include_usage": True})
            usage, finish = None, None
            for event in events:
                if event.usage is not None:
                    usage = _usage(event.usage)
                for choice in event.choices or []:
                    if choice.finish_reason:
                        finish = choice.finish_reason
                    if choice.delta and choice.delta.content:
                        yield GenerationChunk(choice.delta.content)
            yield GenerationChunk("", usage=usage or Usage(), finish_reason=finish or "stop")
        except openai.RateLimitError as e:
            raise Overloaded(f"the model API is rate-limiting requests (429) after "
                             f"{self.settings.max_retries} retries: {_detail(e)}") from e
        except openai.AuthenticationError as e:
            raise UpstreamError(f"the model API refused the API key (401): {_detail(e)}") from e
        except openai.APITimeoutError as e:
            raise UpstreamError(f"the model API did not answer within "
                                f"{self.settings.timeout:g}s") from e
        except openai.APIConnectionError as e:
            where = self.settings.base_url or str(client.base_url)
            raise UpstreamError(f"cannot reach the model API at {where}: {e}") from e
        except openai.APIStatusError as e:
            raise UpstreamError(f"the model API refused the request ({e.status_code}): "
                                f"{_detail(e)}") from e


def _usage(u: Any) -> Usage:
    if u is None:
        return Usage()
    return Usage(int(u.prompt_tokens or 0), int(u.completion_tokens or 0))


def _detail(e: Any) -> str:
    body = getattr(e, "body", None)
    if isinstance(body, dict):
        err = body.get("error", body)
        if isinstance(err, dict) and err.get("message"):
            return str(err["message"])
    return str(getattr(e, "message", e))
