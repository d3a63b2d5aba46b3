"""The shape of the package: layers, imports, packaging."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "qwen_lsp"
DOMAIN = ("qwen_lsp.syntax", "qwen_lsp.actions", "qwen_lsp.engine", "qwen_lsp.verify",
          "qwen_lsp.cache", "qwen_lsp.edits", "qwen_lsp.paths")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking_block(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def _imports(path: Path) -> set[str]:
    """Every module imported anywhere in the file (also inside functions), except
    under ``if TYPE_CHECKING:``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if _is_type_checking_block(node):
            return
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                prefix = ".".join(base + ([node.module] if node.module else []))
            else:
                prefix = node.module or ""
            found.add(prefix)
            for alias in node.names:  # `from qwen_lsp.features import sync` imports a module
                found.add(f"{prefix}.{alias.name}")
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def _graph() -> dict[str, set[str]]:
    files = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    return {name: {m for m in _imports(path) if m in files and m != name}
            for name, path in files.items()}


def test_the_import_graph_has_no_cycle():
    graph = _graph()
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycle = stack[stack.index(nxt):] + [nxt]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)


def test_domain_layers_do_not_import_pygls():
    for path in PACKAGE.rglob("*.py"):
        name = _module_name(path)
        if not name.startswith(DOMAIN):
            continue
        lsp = {m for m in _imports(path) if m.split(".")[0] in ("pygls", "lsprotocol")}
        assert not lsp, f"{name} imports {sorted(lsp)}"


def test_entry_points_do_not_import_llama_cpp_or_the_behaviour_checkers():
    # what `initialize`, `--help` and `cache info` load: llama.cpp comes with the model,
    # Hypothesis with the first behaviour check
    code = ("import sys, qwen_lsp.cli, qwen_lsp.server, qwen_lsp.runtime, qwen_lsp.app; "
            "print(sorted(m for m in ('llama_cpp', 'hypothesis') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ROOT, check=True)
    assert out.stdout.strip() == "[]", out.stderr


def test_every_subpackage_is_packaged_and_the_prompts_map_to_the_top_level():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(config["packages"])
    on_disk = {_module_name(p.parent) for p in PACKAGE.rglob("*.py")}
    assert on_disk <= listed, f"not in pyproject's packages: {sorted(on_disk - listed)}"
    assert config["package-dir"]["qwen_lsp.prompts"] == "prompts"
    assert not (PACKAGE / "prompts").exists(), "the templates live once, in prompts/"
    assert sorted(p.name for p in (ROOT / "prompts").glob("*.txt"))


def test_every_data_file_of_the_package_is_declared_package_data():
    # a file the package reads at run time (templates, the checkers' child scripts) must be
    # in the wheel: setuptools ships only .py files unless package-data names the others
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    data = config["package-data"]
    for path in PACKAGE.rglob("*"):
        if path.is_dir() or path.suffix in (".py", ".pyc") or "__pycache__" in path.parts:
            continue
        package = _module_name(path.parent)
        assert any(path.match(pattern) for pattern in data.get(package, [])), \
            f"{path.relative_to(ROOT)} is not in package-data"
    assert data["qwen_lsp.prompts"] == ["*.txt"]
