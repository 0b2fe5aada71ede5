"""Every user-visible string has a Dutch translation.

Scans ``agent_desk/`` with ``ast`` for calls to a translating function (``_``,
``N_``, ``tr``, ``tr_``, ``translate``, also as ``self.tr_(...)``) whose first argument
is a literal string, and fails listing every message id missing from
``resources/i18n/nl.toml``.

It also collects the literal message (template) of every call to an
``AgentDeskError`` class (``ValidationError("The note is too long ({length} …", …)``):
the desk shows those through ``Translator.error``, so each needs a Dutch entry with
the same placeholders.
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


def _trees() -> list[tuple[Path, ast.Module]]:
    return [
        (path, ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
        for path in sorted(SOURCE.rglob("*.py"))
    ]


def error_classes() -> set[str]:
    """``AgentDeskError`` and every class in agent_desk derived from it, by name."""
    bases: dict[str, set[str]] = {}
    for _, tree in _trees():
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                names = {name for base in node.bases if (name := _name(base))}
                bases.setdefault(node.name, set()).update(names)
    found = {"AgentDeskError"}
    while True:
        more = {name for name, parents in bases.items() if parents & found} - found
        if not more:
            return found
        found |= more


def _literals(node: ast.expr) -> list[str]:
    """The literal string(s) an argument can be: a constant, or either arm of ``a if c else b``."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        return _literals(node.body) + _literals(node.orelse)
    return []


def _collect(callables: set[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for path, tree in _trees():
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or _name(node.func) not in callables:
                continue
            if not node.args:
                continue
            for text in filter(None, _literals(node.args[0])):
                where = f"{path.relative_to(SOURCE.parent)}:{node.lineno}"
                found.setdefault(text, where)
    return found


def error_messages() -> dict[str, str]:
    """Literal messages (templates) given to an ``AgentDeskError`` class -> first place."""
    return _collect(error_classes())


def message_ids() -> dict[str, str]:
    """msgid -> first place it is used: translated strings and error messages."""
    found = _collect(TRANSLATING)
    for msgid, where in error_messages().items():
        found.setdefault(msgid, where)
    return found


def dutch() -> dict[str, str]:
    """The plain entries (and "context|msgid" entries)."""
    data = tomllib.loads(read_text("i18n", "nl.toml"))
    return {str(k): v for k, v in data.items() if isinstance(v, str)}


def dutch_plurals() -> dict[str, dict[str, str]]:
    data = tomllib.loads(read_text("i18n", "nl.toml"))
    return {str(k): dict(v) for k, v in data.items() if isinstance(v, dict)}


def _calls(attribute: str, literals: int) -> dict[tuple[str, ...], str]:
    """Calls ``x.attribute("…", "…", …)`` whose first ``literals`` arguments are strings."""
    found: dict[tuple[str, ...], str] = {}
    for path, tree in _trees():
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
                continue
            if node.func.attr != attribute or len(node.args) < literals:
                continue
            args = node.args[:literals]
            if all(isinstance(a, ast.Constant) and isinstance(a.value, str) for a in args):
                key = tuple(str(a.value) for a in args)  # type: ignore[attr-defined]
                found.setdefault(key, f"{path.relative_to(SOURCE.parent)}:{node.lineno}")
    return found


def test_every_plural_message_has_dutch_forms() -> None:
    """``tr.n(singular, plural, count)``: an entry with the English plural and both
    Dutch forms (CLDR "one" and "other"), with the same placeholders."""
    calls = _calls("n", 2)
    assert ("{days} day", "{days} days") in calls
    entries = dutch_plurals()
    wrong = []
    for (singular, plural), where in calls.items():
        entry = entries.get(singular)
        if entry is None or entry.get("plural") != plural:
            wrong.append(f"{where}: no plural entry {singular!r} with plural {plural!r}")
            continue
        for form in ("one", "other"):
            if _fields(entry.get(form, "")) != _fields(singular) | _fields(plural):
                wrong.append(f"{where}: {singular!r} form {form!r} is {entry.get(form)!r}")
    assert not wrong, "\n".join(wrong)


def test_every_message_in_context_has_a_dutch_translation() -> None:
    catalogue = dutch()
    missing = [
        f"{where}: {context}|{msgid}"
        for (context, msgid), where in _calls("p", 2).items()
        if f"{context}|{msgid}" not in catalogue
    ]
    assert not missing, "\n".join(missing)


def test_plural_forms_follow_the_language() -> None:
    from agent_desk.i18n import Translator

    nl, en = Translator("nl"), Translator("en")
    assert nl.n("{days} day", "{days} days", 1, days=1) == "1 dag"
    assert nl.n("{days} day", "{days} days", 2, days=2) == "2 dagen"
    assert nl.n("{days} day", "{days} days", 0, days=0) == "0 dagen"
    assert en.n("{days} day", "{days} days", 1, days=1) == "1 day"
    assert en.n("{days} day", "{days} days", 2, days=2) == "2 days"
    assert en.n("{count} open claim", "{count} open claims", 1) == "1 open claim"
    assert nl.n("{count} open claim", "{count} open claims", 3) == "3 openstaande vorderingen"


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_the_scan_finds_the_desk_strings() -> None:
    ids = message_ids()
    assert "Log contact" in ids
    assert "{days} days past due" in ids
    assert len(ids) > 100


def test_the_scan_finds_the_error_messages() -> None:
    assert {"ValidationError", "NotFoundError", "ImportRejected", "ScriptFormatError"} <= (
        error_classes()
    )
    messages = error_messages()
    assert "The note is too long ({length} characters; at most {most})." in messages
    assert "Only a supervisor can {what}." in messages
    assert "Enter an {what}." in messages  # either arm of a conditional message
    assert len(messages) > 150


def test_every_message_has_a_dutch_translation() -> None:
    catalogue = dutch()
    missing = [
        f"{where}: {msgid!r}" for msgid, where in message_ids().items() if msgid not in catalogue
    ]
    assert not missing, "No Dutch translation in resources/i18n/nl.toml for:\n" + "\n".join(missing)


def test_error_messages_keep_their_placeholders_in_dutch() -> None:
    catalogue = dutch()
    wrong = [
        f"{where}: {msgid!r} -> {catalogue[msgid]!r}"
        for msgid, where in error_messages().items()
        if msgid in catalogue and _fields(msgid) != _fields(catalogue[msgid])
    ]
    assert not wrong, "Placeholders differ:\n" + "\n".join(wrong)


def test_translations_keep_the_placeholders() -> None:
    wrong = [
        f"{msgid!r} -> {text!r}"
        for msgid, text in dutch().items()
        if _fields(msgid) != _fields(text)
    ]
    assert not wrong, "Placeholders differ:\n" + "\n".join(wrong)
