"""No layer depends on the layers above it."""

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# what each package may not import: rag is the core, ingest sits on it, server and eval on
# both; mmrag (the command line) is the composition root and may import everything
FORBIDDEN = {
    "rag": {"fastapi", "starlette", "uvicorn", "server", "ingest", "eval", "mmrag"},
    "ingest": {"fastapi", "starlette", "uvicorn", "server", "eval", "mmrag"},
    "server": {"eval", "mmrag"},
    "eval": {"server", "mmrag"},
}


def _imports(package: str) -> list[tuple[str, str]]:
    found = []
    for path in (ROOT / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            else:
                continue
            found += [(str(path.relative_to(ROOT)), n) for n in names]
    return found


def test_no_layer_imports_the_layers_above_it():
    offenders = [f"{where}: {name}" for package, banned in FORBIDDEN.items()
                 for where, name in _imports(package) if name.split(".")[0] in banned]
    assert offenders == []


def test_importing_rag_is_light():
    """`import rag.service` must not pull in the web stack or load torch."""
    code = ("import sys, rag.service, rag.settings; "
            "print(sorted(m for m in ('fastapi', 'torch', 'chromadb', 'transformers') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ROOT, check=True)
    assert out.stdout.strip() == "[]"
