"""Translations without a build step: English message ids, Dutch in a TOML catalogue.

Every user-visible string is written in English and wrapped in ``_()`` (translate
now) or ``N_()`` (mark only, translate later). ``tests/unit/test_i18n.py`` scans the
source for both and fails when one has no Dutch entry in ``resources/i18n/nl.toml``.

The catalogue is gettext's model in TOML, one entry a line:

- ``"msgid" = "vertaling"`` — a plain message (``tr(msgid, **values)``);
- ``"context|msgid" = "vertaling"`` — the same English word meant differently
  (gettext's msgctxt; ``tr.p("context", msgid)``), e.g. ``"verb|Pause"``;
- ``"{count} day" = { plural = "{count} days", one = "{count} dag", other = "{count}
  dagen" }`` — a message with plural forms (``tr.n("{count} day", "{count} days",
  count)``): the key is the English singular, ``plural`` the English plural, and the
  Dutch forms are named by CLDR plural category (``one``, ``other``; a language with
  more forms adds ``few``, ``many``…). Which form a number takes comes from Babel's
  CLDR plural rules (``Locale.plural_form``), so "1 day"/"2 days", "1 dag"/"2 dagen",
  and "0 days"/"0 dagen" are right in both languages.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from functools import cache
from typing import Any

from babel import Locale

from agent_desk.errors import Phrase
from agent_desk.resources import read_text

LANGUAGES = ("nl", "en")


def N_(message: str) -> str:
    """Mark a message for translation without translating it yet."""
    return message


@cache
def _entries(lang: str) -> dict[str, Any]:
    if lang == "en":
        return {}
    return dict(tomllib.loads(read_text("i18n", f"{lang}.toml")))


@cache
def catalogue(lang: str) -> dict[str, str]:
    """The plain (and context) entries: msgid -> translation."""
    return {str(k): v for k, v in _entries(lang).items() if isinstance(v, str)}


@cache
def plurals(lang: str) -> dict[str, dict[str, str]]:
    """The plural entries: English singular -> {"plural": English plural, "one": …}."""
    return {
        str(k): {str(form): str(text) for form, text in v.items()}
        for k, v in _entries(lang).items()
        if isinstance(v, dict)
    }


@cache
def _plural_rule(lang: str) -> Callable[[int], str]:
    return Locale.parse(lang).plural_form


def plural_category(lang: str, count: int) -> str:
    """CLDR's plural category of ``count`` in ``lang``: "one", "other", …"""
    return str(_plural_rule(lang)(abs(count)))


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

    def p(self, context: str, message: str, /, **params: Any) -> str:
        """``message`` as meant in ``context`` (gettext's pgettext)."""
        text = self._catalogue.get(f"{context}|{message}", message)
        return text.format(**params) if params else text

    def n(self, singular: str, plural: str, count: int, /, **params: Any) -> str:
        """The form of ``singular``/``plural`` for ``count`` (gettext's ngettext).

        ``count`` is passed to the text as ``{count}`` unless ``params`` names it
        otherwise (``tr.n("{days} day", "{days} days", n, days=n)``).
        """
        params.setdefault("count", count)
        category = plural_category(self.lang, count)
        forms = plurals(self.lang).get(singular)
        if forms is None:
            text = singular if plural_category("en", count) == "one" else plural
        else:
            text = forms.get(category) or forms.get("other") or plural
        return text.format(**params)

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
