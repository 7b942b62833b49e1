"""The mmrag command as a user runs it."""

import json
import os
import subprocess
import sys

import pytest

from mmrag.cli import EXIT_ERROR, EXIT_OK, EXIT_SKIPPED, main

pytestmark = pytest.mark.slow


@pytest.fixture
def env(monkeypatch, tmp_path, tiny_clip_dir):
    monkeypatch.setenv("MMRAG_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("MMRAG_CLIP_MODEL", str(tiny_clip_dir))
    monkeypatch.setenv("MMRAG_DEVICE", "cpu")
    monkeypatch.chdir(tmp_path)  # no stray .env from the repository


def test_ingest_ask_documents_delete(env, kb, capsys):
    assert main(["ingest", "-q", str(kb)]) == EXIT_OK
    out = capsys.readouterr().out
    assert "ingested  7" in out and "skipped   2" in out
    assert "broken.png: not a recognisable image" in out

    assert main(["ingest", "-q", "--strict", str(kb)]) == EXIT_SKIPPED
    assert "unchanged 7" in capsys.readouterr().out

    assert main(["ask", "How long must passwords be?"]) == EXIT_OK
    out = capsys.readouterr().out
    assert "14 characters" in out and "Sources:" in out
    assert "[1] " + str((kb / "it-security-guidelines.html").resolve()) in out

    assert main(["ask", "", "--image", str(kb / "img" / "blue.webp"), "--json"]) == EXIT_OK
    body = json.loads(capsys.readouterr().out)
    assert body["hits"][0]["source"].endswith("blue.webp")

    assert main(["documents", "--json"]) == EXIT_OK
    assert len(json.loads(capsys.readouterr().out)) == 7

    assert main(["delete", str(kb / "office-guide.md")]) == EXIT_OK
    assert "deleted" in capsys.readouterr().out
    assert main(["delete", str(kb / "office-guide.md")]) == EXIT_ERROR
    assert "no document" in capsys.readouterr().err


def test_errors_are_one_line_and_exit_non_zero(env, capsys, tmp_path):
    assert main(["ask", "x", "--collection", "bad/name"]) == EXIT_ERROR
    assert "invalid collection name" in capsys.readouterr().err
    assert main(["ask", "", "--image", str(tmp_path / "missing.png")]) == EXIT_ERROR
    assert "cannot read image" in capsys.readouterr().err
    assert main(["ask", "When?", "--collection", "nope"]) == EXIT_ERROR
    assert "no collection 'nope'" in capsys.readouterr().err


def test_ingest_of_a_missing_path_fails_before_any_model_loads(env, tmp_path):
    out = subprocess.run([sys.executable, "-m", "mmrag", "ingest", str(tmp_path / "nowhere")],
                         capture_output=True, text=True, encoding="utf-8", env=dict(os.environ),
                         timeout=60)
    assert out.returncode == 2 and out.stderr.count("\n") == 1
    assert "no such file or folder" in out.stderr and "nowhere" in out.stderr


def test_help_and_usage_errors_in_a_real_process():
    run = [sys.executable, "-m", "mmrag"]
    out = subprocess.run([*run, "ask", "--help"], capture_output=True, text=True, encoding="utf-8")
    assert out.returncode == 0 and "--image" in out.stdout and "--fusion" in out.stdout
    out = subprocess.run(run, capture_output=True, text=True, encoding="utf-8")
    assert out.returncode == 2 and "COMMAND" in out.stderr


def test_one_question_uses_a_cached_export_and_never_exports(env, kb, monkeypatch, tmp_path,
                                                               text_embedder):
    """``mmrag ask`` answers one question: an encoder whose checked export is cached embeds
    it without loading its model; exporting one first would cost more than it saves, so an
    encoder without one uses PyTorch. MMRAG_QUERY_RUNTIME overrides both."""
    import rag.service

    seen = []

    class Spy(rag.service.RagService):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            seen.append(self)

    monkeypatch.setattr(rag.service, "RagService", Spy)
    assert main(["ingest", "-q", str(kb / "onboarding-faq.txt")]) == EXIT_OK
    empty = tmp_path / "empty-cache"
    monkeypatch.setenv("MMRAG_CACHE_DIR", str(empty))
    monkeypatch.setenv("MMRAG_ANSWER_VECTORS", "model")  # nothing to distil in this test
    assert main(["ask", "When is salary paid?"]) == EXIT_OK
    text = seen[-1].parts.text
    assert text.query_runtime == "torch" and not list(empty.glob("*.onnx"))

    text_embedder.embed(["warm up"])  # a start that exported and checked the text encoder
    monkeypatch.setenv("MMRAG_CACHE_DIR", str(text_embedder.cache_dir))
    assert main(["ask", "When is salary paid?"]) == EXIT_OK
    text = seen[-1].parts.text
    assert text.query_runtime == "onnx" and not text._loaded  # the model never loaded

    monkeypatch.setenv("MMRAG_QUERY_RUNTIME", "onnx")
    monkeypatch.setenv("MMRAG_CACHE_DIR", str(empty))
    assert main(["ask", "When is salary paid?"]) == EXIT_OK
    assert seen[-1].parts.text.query_runtime == "onnx"  # as configured


def test_a_feature_without_its_extra_names_the_extra(env, capsys, monkeypatch, tmp_path):
    """`pip install -e .` leaves out the evaluation, the replicas' drivers and OCR: asking for
    one of them says which extra to install, in one line."""
    import importlib.util

    from rag.errors import MissingExtra
    from rag.store.db import Database

    real = importlib.util.find_spec
    gone = {"matplotlib", "psycopg", "boto3"}
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name in gone else real(name, *a))
    assert main(["eval", "eval/datasets/mmrag-v1.jsonl"]) == EXIT_ERROR
    err = capsys.readouterr().err
    assert "pip install 'mmrag[eval]'" in err and len(err.strip().splitlines()) == 1, err
    with pytest.raises(MissingExtra, match=r"mmrag\[replicas\]"):
        Database("postgresql://user@127.0.0.1:1/db")
    from rag.store.s3blobs import S3Blobs

    with pytest.raises(MissingExtra, match=r"mmrag\[replicas\]"):
        _ = S3Blobs.from_url("s3://bucket/images", tmp_path).client
