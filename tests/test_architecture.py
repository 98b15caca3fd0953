"""The package's imports point one way: transports → pipeline → stages (text, model, audio) → the leaf.

Read from the source (function-level imports included), so a back-reference or a cycle fails here.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit  # no model: `pytest -m unit`

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "kokoro_speech"

# what each part of the package may import of the package (besides itself)
ALLOWED = {
    "kokoro": set(),
    "errors": set(),
    "logs": set(),
    "config": {"errors"},
    "text": {"kokoro", "errors"},
    "audio": {"kokoro", "errors"},
    "model": {"kokoro", "errors", "config"},
    "pipeline": {"kokoro", "errors", "config", "text", "audio", "model"},
    # jobs (books read through the engine) sit beside the transports: the api may build routes on them
    "jobs": {"kokoro", "errors", "config", "logs", "text", "audio", "model", "pipeline"},
    "api": {"kokoro", "errors", "config", "logs", "text", "audio", "model", "pipeline", "jobs"},
    "cli": {"kokoro", "errors", "config", "logs", "text", "audio", "model", "pipeline", "api", "jobs"},
    "__main__": {"cli"},
    "__init__": set(),
}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" and len(parts) > 1 else parts)


def imports_of(path: Path) -> set[str]:
    """The package modules `path` imports anywhere in its body, as dotted names under kokoro_speech."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("kokoro_speech"):
            base = node.module.removeprefix("kokoro_speech").lstrip(".")
            for alias in node.names:
                candidate = f"{base}.{alias.name}" if base else alias.name
                found.add(candidate if (PACKAGE / (candidate.replace(".", "/") + ".py")).exists()
                          or (PACKAGE / candidate.replace(".", "/")).is_dir() else base)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("kokoro_speech."):
                    found.add(alias.name.removeprefix("kokoro_speech."))
    return {name for name in found if name}


GRAPH = {module_name(path): imports_of(path) for path in PACKAGE.rglob("*.py")}


def part(module: str) -> str:
    return module.split(".")[0]


@pytest.mark.parametrize("module", sorted(GRAPH))
def test_imports_point_down(module: str) -> None:
    allowed = ALLOWED[part(module)] | {part(module)}
    wrong = sorted(name for name in GRAPH[module] if part(name) not in allowed)
    assert not wrong, f"{module} imports {wrong}, above or beside it"


def test_no_import_cycles() -> None:
    def visit(module: str, path: list[str]) -> None:
        if module in path:
            raise AssertionError("import cycle: " + " → ".join([*path[path.index(module):], module]))
        if module in done:
            return
        for name in GRAPH.get(module, ()):
            visit(name, [*path, module])
        done.add(module)

    done: set[str] = set()
    for module in GRAPH:
        visit(module, [])


def test_the_graph_is_read() -> None:
    """The checks above see real edges (a parser that found nothing would pass them vacuously)."""
    assert "kokoro" in GRAPH["text.split"] and "pipeline.synthesis" in GRAPH["api.streaming"]
