"""Style is a command, not a habit: the code passes `ruff check` as pyproject.toml configures it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_the_code_passes_ruff_check():
    done = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", str(REPO)], capture_output=True, text=True, cwd=REPO)
    assert done.returncode == 0, done.stdout + done.stderr


def imported_modules(path: Path) -> set[str]:
    """The top-level packages a source file imports, anywhere in it (function-local imports too)."""
    import ast

    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def test_ray_lives_in_one_module_of_the_orchestrator_and_in_no_workload():
    users = sorted(str(p.relative_to(REPO)) for p in [*REPO.glob("orchestrator/**/*.py"), *REPO.glob("workloads/**/*.py")]
                   if any(m == "ray" or m.startswith("ray.") for m in imported_modules(p)))
    assert users == ["orchestrator/ray_backend.py"]


def test_the_store_knows_no_experiment():
    importers = sorted(str(p.relative_to(REPO)) for p in REPO.glob("orchestrator/store/*.py")
                       if any(m == "workloads" or m.startswith("workloads.") for m in imported_modules(p)))
    assert importers == []
