"""The checks CI must enforce besides the tests: lint, types, packaging."""

from __future__ import annotations

import fnmatch
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
IMPORTS_IMAPCLIENT = re.compile(r"^\s*(import|from)\s+imapclient\b", re.MULTILINE)


def _tool(name: str) -> list[str]:
    # Prefer the module of this interpreter (the test venv), then PATH.
    probe = subprocess.run([sys.executable, "-m", name, "--version"], capture_output=True)
    if probe.returncode == 0:
        return [sys.executable, "-m", name]
    if shutil.which(name):
        return [name]
    pytest.skip(f"{name} is not installed (pip install '.[test]')")


@pytest.mark.slow
@pytest.mark.parametrize(
    "argv",
    [
        ["ruff", "check", "agent", "tests"],
        ["ruff", "format", "--check", "agent", "tests"],
        ["mypy"],
    ],
    ids=["ruff", "ruff-format", "mypy"],
)
def test_clean(argv: list[str]) -> None:
    done = subprocess.run([*_tool(argv[0]), *argv[1:]], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_template_ships_in_the_package() -> None:
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert meta["package-dir"]["agent.templates"] == "templates"
    patterns = meta["package-data"]["agent.templates"]
    files = [p.name for p in (ROOT / "templates").iterdir() if p.is_file()]
    assert files
    missing = [f for f in files if not any(fnmatch.fnmatch(f, pat) for pat in patterns)]
    assert not missing, f"not packaged: {missing}"


def test_every_subpackage_is_installed() -> None:
    # A subpackage missing from this list installs without its modules: pip
    # install works, the first import of it fails on the user's machine.
    listed = set(
        tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    )
    found = {
        ".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "agent").rglob("__init__.py")
    }
    assert found <= listed, f"add to [tool.setuptools] packages: {sorted(found - listed)}"


def test_only_the_imap_module_imports_imapclient() -> None:
    offenders = [
        p.name
        for p in (ROOT / "agent").glob("*.py")
        if p.name != "imap.py" and IMPORTS_IMAPCLIENT.search(p.read_text(encoding="utf-8"))
    ]
    assert offenders == []
