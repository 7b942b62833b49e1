"""The architecture holds: import-linter's contracts (pyproject.toml, [tool.importlinter]),
and importing the core stays light."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_import_contracts_are_kept():
    """Layers (mmrag > server | eval > ingest > rag), no web stack under rag/ and ingest/,
    ingest's own layers and independent loaders, the OpenAI layer's split, no import cycles."""
    lint = Path(sys.executable).with_name("lint-imports")
    out = subprocess.run([str(lint), "--no-cache"], capture_output=True, text=True,
                         encoding="utf-8", cwd=ROOT)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "0 broken" in out.stdout


def test_importing_rag_is_light():
    """`import rag.service` must not pull in the web stack or load torch."""
    code = ("import sys, rag.service, rag.settings; "
            "print(sorted(m for m in ('fastapi', 'torch', 'chromadb', 'transformers') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, encoding="utf-8",
                         cwd=ROOT, check=True)
    assert out.stdout.strip() == "[]"


def test_the_command_line_loads_its_subcommands_lazily():
    """Building `mmrag`'s parser (every command does) loads no harness, server or model."""
    code = ("import sys, mmrag.cli; mmrag.cli.parser(); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('server', 'ingest', 'torch', 'fastapi', 'chromadb', 'transformers') "
            "or m in ('eval.cli', 'eval.runner')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, encoding="utf-8",
                         cwd=ROOT, check=True)
    assert out.stdout.strip() == "[]"


def test_the_core_folders_contracts_catch_a_planted_import(tmp_path):
    """rag's folders: answer and retrieval apart, text under storage, storage under the
    service. Each planted import in a copy of the tree is reported."""
    import shutil

    for name in ("rag", "ingest", "server", "eval", "mmrag"):
        shutil.copytree(ROOT / name, tmp_path / name,
                        ignore=shutil.ignore_patterns("__pycache__", "datasets"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    plants = {"rag/answer/prompt.py": "import rag.retrieval.fusion",
              "rag/text/units.py": "import rag.store.db",
              "rag/store/db.py": "import rag.service"}
    for path, line in plants.items():
        with open(tmp_path / path, "a", encoding="utf-8") as f:
            f.write(f"\n{line}  # planted\n")
    lint = Path(sys.executable).with_name("lint-imports")
    out = subprocess.run([str(lint), "--no-cache"], capture_output=True, text=True,
                         encoding="utf-8", cwd=tmp_path, env={"PYTHONPATH": str(tmp_path)})
    assert out.returncode == 1, out.stdout + out.stderr
    for broken in ("rag.answer is not allowed to import rag.retrieval",
                   "rag.text is not allowed to import rag.store",
                   "rag.store is not allowed to import rag.service"):
        assert broken in out.stdout, out.stdout


def test_modules_and_functions_stay_readable_sizes():
    """No module over 300 lines, no function over 60 (issue 29's bar): a file or function past
    them is split where its reader would split it."""
    import ast

    over = []
    for package in ("rag", "ingest", "server", "eval", "mmrag"):
        for path in sorted((ROOT / package).rglob("*.py")):
            text = path.read_text(encoding="utf-8")
            name = path.relative_to(ROOT)
            if len(text.splitlines()) > 300:
                over.append(f"{name}: {len(text.splitlines())} lines")
            for node in ast.walk(ast.parse(text)):
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    lines = (node.end_lineno or node.lineno) - node.lineno + 1
                    if lines > 60:
                        over.append(f"{name}: {node.name}() {lines} lines")
    assert not over, over
