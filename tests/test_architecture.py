"""The module map in docs/ARCHITECTURE.md is the import rule: this test holds the code to it.

The doc's module table names every module of `agent` with its layer; a module
may import only modules of its own layer or of layers below it, the pure
layers touch no I/O library, and there is no import circle.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "ARCHITECTURE.md"
# Bottom to top. A layer may import its own and every earlier one.
LAYERS = ("base", "config", "pure", "adapter", "service", "interface")
# Pure code decides; it never reaches a disk, a socket, a process or a clock of its own.
PURE_LAYERS = ("base", "pure")
IO_MODULES = frozenset(
    {"sqlite3", "socket", "ssl", "subprocess", "imapclient", "apscheduler", "keyring", "selectors"}
)
ROW = re.compile(r"^\|\s*`agent/([\w/]+)\.py`\s*\|\s*(\w+)\s*\|", re.MULTILINE)


def _module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted((ROOT / "agent").rglob("*.py"))}


def _documented() -> dict[str, str]:
    rows = ROW.findall(DOC.read_text(encoding="utf-8"))
    out: dict[str, str] = {}
    for path, layer in rows:
        name = "agent." + path.replace("/", ".")
        name = name.removesuffix(".__init__")
        assert name not in out, f"{name} is listed twice in {DOC.name}"
        out[name] = layer
    return out


def _imports(name: str, path: Path) -> tuple[set[str], set[str]]:
    """(agent modules imported, top-level external modules imported)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    internal: set[str] = set()
    external: set[str] = set()
    known = _modules()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                target = alias.name
                (internal if target.startswith("agent") else external).add(target)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if not target.startswith("agent"):
                external.add(target)
                continue
            # `from . import x` names a module; `from .m import f` names m.
            subs = [f"{target}.{a.name}" for a in node.names if f"{target}.{a.name}" in known]
            internal.update(subs or [target])
    resolved = set()
    for target in internal:
        while target not in known and "." in target:
            target = target.rpartition(".")[0]
        if target in known and target != name:
            resolved.add(target)
    return resolved, {e.split(".")[0] for e in external}


def test_every_module_is_in_the_map() -> None:
    documented = _documented()
    actual = set(_modules())
    assert not (actual - documented.keys()), (
        f"add these to {DOC.name}: {actual - documented.keys()}"
    )
    assert not (documented.keys() - actual), f"gone, still in the map: {documented.keys() - actual}"
    bad = {m: layer for m, layer in documented.items() if layer not in LAYERS}
    assert not bad, f"unknown layers {bad}; layers are {LAYERS}"


@pytest.mark.parametrize("name", sorted(_modules()))
def test_imports_follow_the_layers(name: str) -> None:
    layers = _documented()
    if name not in layers:
        pytest.fail(f"{name} is not in {DOC.name}")
    mine = LAYERS.index(layers[name])
    internal, external = _imports(name, _modules()[name])
    upward = sorted(t for t in internal if LAYERS.index(layers.get(t, "interface")) > mine)
    assert not upward, f"{name} ({layers[name]}) imports higher layers: {upward}"
    if layers[name] in PURE_LAYERS:
        io = sorted(external & IO_MODULES)
        assert not io, f"{name} is {layers[name]} but imports {io}"


def test_no_import_circle() -> None:
    mods = _modules()
    graph = {name: _imports(name, path)[0] for name, path in mods.items()}
    # Package __init__ files re-export their submodules: that edge is not a circle.
    for name in graph:
        graph[name] = {t for t in graph[name] if not t.startswith(name + ".")}
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycle = [*stack[stack.index(nxt) :], nxt]
                pytest.fail("import circle: " + " → ".join(cycle))
            if nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)


def test_only_the_interface_prints() -> None:
    layers = _documented()
    offenders = []
    for name, path in _modules().items():
        if layers.get(name) == "interface":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "print":
                offenders.append(f"{name}:{node.lineno}")
    assert not offenders, f"print() outside the CLI: {offenders}"
