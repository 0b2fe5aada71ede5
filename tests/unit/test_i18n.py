"""Every user-visible string has a Dutch translation.

Scans ``agent_desk/`` with ``ast`` for calls to a translating function (``_``,
``N_``, ``tr``, ``tr_``, ``translate``, also as ``self.tr_(...)``) whose first argument
is a literal string, and fails listing every message id missing from
``resources/i18n/nl.toml``.
"""

from __future__ import annotations

import ast
import string
import tomllib
from pathlib import Path

from agent_desk.resources import read_text

SOURCE = Path(__file__).resolve().parents[2] / "agent_desk"
TRANSLATING = {"_", "N_", "tr", "tr_", "translate"}


def _name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def message_ids() -> dict[str, str]:
    """msgid -> first place it is used."""
    found: dict[str, str] = {}
    for path in sorted(SOURCE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or _name(node.func) not in TRANSLATING:
                continue
            if not node.args:
                continue
            first = node.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                where = f"{path.relative_to(SOURCE.parent)}:{node.lineno}"
                found.setdefault(first.value, where)
    return found


def dutch() -> dict[str, str]:
    return {str(k): str(v) for k, v in tomllib.loads(read_text("i18n", "nl.toml")).items()}


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_the_scan_finds_the_desk_strings() -> None:
    ids = message_ids()
    assert "Log contact" in ids
    assert "{days} days past due" in ids
    assert len(ids) > 100


def test_every_message_has_a_dutch_translation() -> None:
    catalogue = dutch()
    missing = [
        f"{where}: {msgid!r}" for msgid, where in message_ids().items() if msgid not in catalogue
    ]
    assert not missing, "No Dutch translation in resources/i18n/nl.toml for:\n" + "\n".join(missing)


def test_translations_keep_the_placeholders() -> None:
    wrong = [
        f"{msgid!r} -> {text!r}"
        for msgid, text in dutch().items()
        if _fields(msgid) != _fields(text)
    ]
    assert not wrong, "Placeholders differ:\n" + "\n".join(wrong)
