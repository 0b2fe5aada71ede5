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

from PySide6.QtCore import QEvent, QSize, Qt
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget

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


class ElidedLabel(PlainLabel):
    """One line that never pushes its panel wider: cut with "…", all of it in the tooltip.

    The label asks for little width (``minimum_chars`` characters); when it gets less
    than its text needs, it paints the elided text and the tooltip and accessible
    description carry the full text, so nothing is lost for mouse or screen-reader users.
    """

    def __init__(self, text: str = "", parent: QWidget | None = None, minimum_chars: int = 8):
        self._full = ""
        self._minimum_chars = minimum_chars
        super().__init__("", parent)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        if text:
            self.setText(text)

    def setText(self, text: str) -> None:
        self._full = text
        self.setAccessibleName(text)
        self.updateGeometry()
        self._elide()

    def set_minimum_chars(self, count: int) -> None:
        """How many characters the label keeps before eliding (when space is short)."""
        self._minimum_chars = count
        self.updateGeometry()

    def text(self) -> str:
        """The whole text (what is painted may be elided)."""
        return self._full

    full_text = text

    def sizeHint(self) -> QSize:
        self.ensurePolished()  # the style sheet's font, not the default one
        metrics = self.fontMetrics()
        margins = self.contentsMargins()
        extra = margins.left() + margins.right() + 2 * self.margin() + 2
        return QSize(metrics.horizontalAdvance(self._full) + extra, super().sizeHint().height())

    def minimumSizeHint(self) -> QSize:
        self.ensurePolished()
        metrics = self.fontMetrics()
        width = min(
            metrics.horizontalAdvance(self._full) + 2,
            metrics.averageCharWidth() * self._minimum_chars,
        )
        return QSize(width, super().minimumSizeHint().height())

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._elide()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange):
            self.updateGeometry()
            self._elide()

    def _elide(self) -> None:
        margins = self.contentsMargins()
        room = max(self.width() - margins.left() - margins.right() - 2 * self.margin(), 0)
        shown = self.fontMetrics().elidedText(self._full, Qt.TextElideMode.ElideRight, room)
        if not self.isVisible() and self.width() <= 0:
            shown = self._full
        QLabel.setText(self, shown)
        self.setToolTip(plain_tip(self._full) if shown != self._full else "")
