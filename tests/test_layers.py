"""The package keeps its layers (pyproject's [tool.importlinter]): low layers never reach up, so
a change in the CLI or the pytest plugin cannot break the Kubernetes client underneath."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from kubegate.paths import assets as repo_root


def _lint(tree: Path) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("lint-imports")
    assert binary, "lint-imports not found: install the dev tools (bash cluster/host/setup.sh)"
    return subprocess.run([binary, "--no-cache"], cwd=tree, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(tree)}, check=False)


def test_the_package_keeps_its_layers() -> None:
    proc = _lint(repo_root())
    assert proc.returncode == 0, proc.stdout[-2000:]
    assert "1 kept, 0 broken" in proc.stdout


def test_an_upward_import_breaks_the_contract(tmp_path: Path) -> None:
    root = repo_root()
    shutil.copytree(root / "kubegate", tmp_path / "kubegate", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(root / "pyproject.toml", tmp_path / "pyproject.toml")
    golden = tmp_path / "kubegate" / "kube" / "golden.py"
    golden.write_text(golden.read_text() + "\nfrom kubegate import cli  # a low layer reaching up\n")
    proc = _lint(tmp_path)
    assert proc.returncode == 1
    assert "kubegate.kube is not allowed to import kubegate.cli" in proc.stdout
    assert "kubegate.kube.golden -> kubegate.cli" in proc.stdout


def test_no_module_imports_itself_through_others() -> None:
    """No import circle anywhere in the package (the bring-up once had a 13-file one)."""
    import grimp

    graph = grimp.build_graph("kubegate")
    edges = {m: set(graph.find_modules_directly_imported_by(m)) for m in graph.modules}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    circles: list[list[str]] = []

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            part = stack[stack.index(v):]
            del stack[stack.index(v):]
            if len(part) > 1:
                circles.append(sorted(part))

    for module in sorted(edges):
        if module not in index:
            visit(module)
    assert circles == []
