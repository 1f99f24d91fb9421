"""The mailbox layer's import rules: the protocol imports no backend, no circle."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

AGENT = Path(__file__).resolve().parent.parent / "agent"
LAYER = (
    "mailbox",
    "backend",
    "imap",
    "imap_session",
    "imap_notify",
    "imap_idle",
    "maildir",
    "maildir_files",
    "maildir_index",
    "maildir_layout",
    "fswatch",
    "memory",
    "connect",
)
# What each module of the layer may import from agent/ (anything else is a finding).
ALLOWED: dict[str, frozenset[str]] = {
    "mailbox": frozenset(),
    "backend": frozenset({"mailbox", "errors", "classify"}),
    "imap": frozenset(
        {
            "mailbox",
            "backend",
            "errors",
            "folders",
            "imap_wire",
            "imap_session",
            "imap_notify",
            "imap_idle",
            "invites",
        }
    ),
    "imap_session": frozenset({"mailbox", "errors", "imap_wire"}),
    "imap_notify": frozenset({"mailbox", "errors", "imap_session", "imap_wire"}),
    "imap_wire": frozenset({"mailbox"}),
    # one IDLE, woken by a fd too: knows the wire's change responses, no mailbox
    "imap_idle": frozenset({"imap_wire"}),
    "maildir": frozenset(
        {
            "mailbox",
            "backend",
            "errors",
            "folders",
            "config",
            "fswatch",
            "maildir_files",
            "maildir_index",
            "maildir_layout",
        }
    ),
    "maildir_files": frozenset(),
    "maildir_index": frozenset(),
    "maildir_layout": frozenset({"errors", "maildir_files"}),
    # the file-system watch knows no mailbox: directories in, wake-ups out
    "fswatch": frozenset({"faults"}),
    "memory": frozenset({"mailbox", "backend", "errors", "folders"}),
    "connect": frozenset({"mailbox", "config", "imap", "maildir", "maildir_index"}),
}
# The in-memory backend must never reach the disk or the network.
NO_IO = frozenset({"os", "socket", "ssl", "sqlite3", "pathlib", "imaplib", "imapclient", "io"})


def imports(module: str) -> tuple[set[str], set[str]]:
    """(agent modules, other top-level modules) that agent/<module>.py imports."""
    tree = ast.parse((AGENT / f"{module}.py").read_text(encoding="utf-8"))
    ours: set[str] = set()
    other: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            name = node.module or ""
            if node.level or name.startswith("agent"):
                inner = name.removeprefix("agent").lstrip(".")
                if inner:
                    ours.add(inner.split(".")[0])
                else:  # from . import x / from agent import x
                    ours.update(a.name for a in node.names)
            else:
                other.add(name.split(".")[0])
        elif isinstance(node, ast.Import):
            other.update(a.name.split(".")[0] for a in node.names)
    return ours - {"__future__"}, other - {"__future__"}


@pytest.mark.parametrize("module", LAYER)
def test_layer_imports_only_what_it_may(module: str) -> None:
    ours, _ = imports(module)
    assert ours <= ALLOWED[module], f"agent.{module} imports {sorted(ours - ALLOWED[module])}"


def test_the_memory_backend_imports_nothing_that_does_io() -> None:
    _, other = imports("memory")
    assert other & NO_IO == set()


def test_no_import_circle_in_the_layer() -> None:
    graph = {m: imports(m)[0] & set(LAYER) for m in LAYER}

    def reaches(start: str, goal: str, seen: frozenset[str] = frozenset()) -> bool:
        return any(
            n == goal or (n not in seen and reaches(n, goal, seen | {n})) for n in graph[start]
        )

    assert [m for m in LAYER if reaches(m, m)] == []
