"""Imports run one way (ARCHITECTURE.md, Layout): subscriptions -> billing -> portal,
subscriptions -> publishers -> portal. Billing and publishers never import subscriptions,
publishers never imports billing, portal imports none of them."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NEVER = {
    "portal": {"billing", "publishers", "subscriptions"},
    "publishers": {"billing", "subscriptions"},
    "billing": {"subscriptions", "publishers"},
}


def imported(path: Path) -> set[str]:
    """The top-level packages a module imports (absolute imports only; ours are)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("app", sorted(NEVER))
def test_an_app_never_imports_the_apps_above_it(app):
    wrong = {
        str(path.relative_to(ROOT)): sorted(imported(path) & NEVER[app])
        for path in (ROOT / app).rglob("*.py")
        if imported(path) & NEVER[app]
    }
    assert wrong == {}


def test_the_scan_sees_imports():
    assert "billing" in imported(ROOT / "subscriptions" / "services" / "transitions.py")
