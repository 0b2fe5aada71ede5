"""Text that comes from data is shown as text, never as markup.

Qt guesses: a ``QLabel`` or a tooltip whose text looks like HTML renders it, so a
customer named ``<b>x</b><img src=…>`` would show bold with an image, and a link would
be clickable. Every label in the desk is a :class:`PlainLabel`; the one deliberate
link ("back to priority order") opts in with :func:`rich_label`. Tooltips that carry
data go through :func:`plain_tip`. A GUI test walks every label of the desk and its
dialogs to keep it so.
"""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QWidget

RICH_PROPERTY = "agentDeskRichText"  # set on the few labels that are markup on purpose


class PlainLabel(QLabel):
    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTextFormat(Qt.TextFormat.PlainText)
        if text:
            self.setText(text)


def rich_label(markup: str, parent: QWidget | None = None) -> QLabel:
    """A label whose text is our own markup (never data): e.g. a link we wrote."""
    label = QLabel(parent)
    label.setTextFormat(Qt.TextFormat.RichText)
    label.setProperty(RICH_PROPERTY, True)
    label.setText(markup)
    return label


def plain_tip(text: str) -> str:
    """A tooltip that shows ``text`` literally (Qt would render markup in it)."""
    if not text:
        return ""
    return "<qt>" + html.escape(text).replace("\n", "<br>") + "</qt>"
