"""Translations without a build step: English message ids, Dutch in a TOML catalogue.

Every user-visible string is written in English and wrapped in ``_()`` (translate
now) or ``N_()`` (mark only, translate later). ``tests/unit/test_i18n.py`` scans the
source for both and fails when one has no Dutch entry in ``resources/i18n/nl.toml``.
"""

from __future__ import annotations

import tomllib
from functools import cache
from typing import Any

from agent_desk.errors import Phrase
from agent_desk.resources import read_text

LANGUAGES = ("nl", "en")


def N_(message: str) -> str:
    """Mark a message for translation without translating it yet."""
    return message


@cache
def catalogue(lang: str) -> dict[str, str]:
    if lang == "en":
        return {}
    data = tomllib.loads(read_text("i18n", f"{lang}.toml"))
    return {str(k): str(v) for k, v in data.items()}


class Translator:
    """Callable that translates an English message id into the desk's language."""

    def __init__(self, lang: str = "en") -> None:
        if lang not in LANGUAGES:
            raise ValueError(f"unsupported language {lang!r}")
        self.lang = lang
        self._catalogue = catalogue(lang)

    def __call__(self, message: str, /, **params: Any) -> str:
        text = self._catalogue.get(message, message)
        return text.format(**params) if params else text

    def error(self, error: BaseException) -> str:
        """The sentence of an ``AgentDeskError`` in the desk's language (see ``error_text``)."""
        return error_text(error, self)


def error_text(error: BaseException, tr: Translator) -> str:
    """An error's sentence in ``tr``'s language, English when there is no translation.

    A catalogue entry for the whole English sentence wins (it may say it better than
    the template); else the error's template is translated and its values filled in;
    a template without translation, or one whose translation does not fit the values,
    falls back to the English sentence. Never raises and never shows braces.
    """
    english = str(error)
    catalogue = tr._catalogue
    if english in catalogue:
        return catalogue[english]
    template = getattr(error, "template", None)
    values = getattr(error, "values", None)
    if not isinstance(template, str) or not values or template not in catalogue:
        return english
    filled = {
        name: catalogue.get(value, value) if isinstance(value, Phrase) else value
        for name, value in values.items()
    }
    try:
        return catalogue[template].format(**filled)
    except (KeyError, IndexError, ValueError, AttributeError, TypeError):
        return english
