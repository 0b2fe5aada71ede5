"""Paints a queue row in two lines, so it reads at a glance in a narrow column.

    Sem Smit · 100315            €384.92   call back        mornings
    ☎ callback 08:45              131 days  23 Nov 08:45

The top line says who and how much; the second line, smaller and muted, says why
now (with an icon: never colour alone), how long overdue and when. Every row has the
same height (``row_height``), so the view never measures its contents.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter
from PySide6.QtWidgets import (
    QApplication,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QWidget,
)

from agent_desk.ui.queue_model import (
    CARE_ROLE,
    CELL_ROLE,
    DETAIL_ROLE,
    MARK_ROLE,
    PRIMARY_ROLE,
    SECONDARY_ROLE,
    TONE_ROLE,
    Cell,
)

Index = QModelIndex | QPersistentModelIndex

# The palette of resources/ui/desk.qss (one accent; colour only beside a word or icon).
TEXT = QColor("#1f2a2e")
MUTED = QColor("#5b6770")
TONES = {"accent": QColor("#0f6e6e"), "warn": QColor("#8a4b0f"), "muted": MUTED}
CARE = QColor("#7a4b93")
PAD_X = 6
PAD_Y = 6
LINE_GAP = 2
CARE_MARK = "♥"


def detail_font(font: QFont) -> QFont:
    small = QFont(font)
    small.setPointSizeF(max(7.0, font.pointSizeF() * 0.9))
    return small


def name_font(font: QFont) -> QFont:
    bold = QFont(font)
    bold.setBold(True)
    return bold


def row_height(font: QFont) -> int:
    """The one fixed height of every row: two lines and some air."""
    top = QFontMetrics(name_font(font)).height()
    bottom = QFontMetrics(detail_font(font)).height()
    return top + LINE_GAP + bottom + 2 * PAD_Y


@dataclass(frozen=True, slots=True)
class _Fonts:
    """The fonts of one base font and their metrics, made once (not per cell)."""

    plain: QFont
    bold: QFont
    small: QFont
    plain_metrics: QFontMetrics
    bold_metrics: QFontMetrics
    small_metrics: QFontMetrics
    top_height: int
    small_height: int
    care_width: int  # "  ♥"
    gap_width: int  # "  "
    space_width: int  # " "


_HIGHLIGHTED = (
    QStyle.StateFlag.State_Selected
    | QStyle.StateFlag.State_HasFocus
    | QStyle.StateFlag.State_MouseOver
).value  # a plain int: Python's enum arithmetic costs more than the drawing
_LEFT = int(Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft)
_RIGHT = int(Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight)
_ELIDE = Qt.TextElideMode.ElideRight
_MEASURED_MAX = 20_000  # texts measured and elided, kept between repaints


class QueueDelegate(QStyledItemDelegate):
    """Two-line cells from the model's ``CELL_ROLE`` (one ``Cell`` per call).

    A repaint costs the drawing only: the model formats a row's strings once, the
    fonts and their metrics are made once per base font, and a text's width and its
    elided form are measured once per width. The style draws a cell's panel only
    where it shows something (selected, focused, under the mouse); the view itself
    paints the alternating rows."""

    def __init__(self, parent: QWidget | None = None, *, name_column: int = 0) -> None:
        super().__init__(parent)
        self._name_column = name_column
        self._fonts: dict[str, _Fonts] = {}
        self._measured: dict[tuple[str, int, int], tuple[str, int]] = {}

    def fonts(self, font: QFont) -> _Fonts:
        key = font.key()
        found = self._fonts.get(key)
        if found is None:
            plain, bold, small = QFont(font), name_font(font), detail_font(font)
            metrics = QFontMetrics(plain), QFontMetrics(bold), QFontMetrics(small)
            found = _Fonts(
                plain,
                bold,
                small,
                *metrics,
                top_height=max(metrics[0].height(), metrics[1].height()),
                small_height=metrics[2].height(),
                care_width=metrics[0].horizontalAdvance(f"  {CARE_MARK}"),
                gap_width=metrics[0].horizontalAdvance("  "),
                space_width=metrics[2].horizontalAdvance(" "),
            )
            self._fonts[key] = found
        return found

    def _fit(self, metrics: QFontMetrics, which: int, text: str, room: int) -> tuple[str, int]:
        """The text elided to ``room`` pixels and its width, measured once."""
        key = (text, room, which)
        found = self._measured.get(key)
        if found is None:
            if len(self._measured) > _MEASURED_MAX:
                self._measured.clear()
            shown = metrics.elidedText(text, _ELIDE, room)
            found = self._measured[key] = (shown, metrics.horizontalAdvance(shown))
        return found

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:
        font = option.font
        width = QFontMetrics(font).horizontalAdvance(str(index.data(PRIMARY_ROLE) or ""))
        return QSize(width + 2 * PAD_X, row_height(font))

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        cell = index.data(CELL_ROLE)
        if not isinstance(cell, Cell):
            cell = _cell_from_roles(index)
        if option.state.value & _HIGHLIGHTED:
            # Selection, focus and hover, as the style draws them (no text: ours).
            opt = QStyleOptionViewItem(option)
            self.initStyleOption(opt, index)
            opt.text = ""
            widget = opt.widget
            style = widget.style() if widget is not None else QApplication.style()
            style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, widget)
        fonts = self.fonts(option.font)
        rect: QRect = option.rect
        left, width = rect.left() + PAD_X, rect.width() - 2 * PAD_X
        total = fonts.top_height + LINE_GAP + fonts.small_height
        y = rect.top() + max(0, (rect.height() - total) // 2)
        painter.save()
        if cell.primary is not None:
            line = QRect(left, y, width, fonts.top_height)
            self._top_line(painter, line, cell, index.column() == self._name_column, fonts)
        if cell.detail:
            line = QRect(left, y + fonts.top_height + LINE_GAP, width, fonts.small_height)
            self._detail_line(painter, line, cell, fonts)
        painter.restore()

    def _top_line(
        self, painter: QPainter, line: QRect, cell: Cell, name: bool, fonts: _Fonts
    ) -> None:
        primary = cell.primary or ""
        secondary = "" if cell.loading else (cell.secondary or "")
        care = bool(cell.care)
        top_font, metrics = (
            (fonts.bold, fonts.bold_metrics) if name else (fonts.plain, fonts.plain_metrics)
        )
        care_width = fonts.care_width if care else 0
        # The name comes first; the number only shows when it fits whole (a cut-off
        # number is no use; the tooltip and the file have it).
        text, width = self._fit(metrics, 1 if name else 0, primary, line.width() - care_width)
        painter.setFont(top_font)
        painter.setPen(MUTED if cell.loading else TEXT)
        painter.drawText(line, _RIGHT if cell.right else _LEFT, text)
        if cell.right or not (secondary or care):
            return
        x = line.left() + width
        rest = QRect(x, line.top(), max(0, line.right() - x), line.height())
        painter.setFont(fonts.plain)
        painter.setPen(MUTED)
        suffix = f" · {secondary}" if secondary else ""
        _same, suffix_width = self._fit(fonts.plain_metrics, 0, suffix, 1 << 20)
        shown = suffix if suffix_width <= rest.width() - care_width else ""
        if shown:
            painter.drawText(rest, _LEFT, shown)
        if care:
            x += (suffix_width if shown else 0) + fonts.gap_width
            painter.setPen(CARE)
            mark = QRect(x, line.top(), max(0, line.right() - x), line.height())
            painter.drawText(mark, _LEFT, CARE_MARK)

    def _detail_line(self, painter: QPainter, line: QRect, cell: Cell, fonts: _Fonts) -> None:
        painter.setFont(fonts.small)
        x = line.left()
        mark = cell.mark or ""
        if mark and not cell.right:
            painter.setPen(TONES.get(cell.tone or "", MUTED))
            painter.drawText(QRect(x, line.top(), line.width(), line.height()), _LEFT, mark)
            x += self._fit(fonts.small_metrics, 2, mark, 1 << 20)[1] + fonts.space_width
        rest = QRect(x, line.top(), max(0, line.right() - x + 1), line.height())
        text, _width = self._fit(fonts.small_metrics, 2, cell.detail or "", rest.width())
        painter.setPen(MUTED)
        painter.drawText(rest, _RIGHT if cell.right else _LEFT, text)


def _cell_from_roles(index: Index) -> Cell:
    """A cell of a model without ``CELL_ROLE``, from its separate roles."""
    alignment = index.data(Qt.ItemDataRole.TextAlignmentRole)
    primary = index.data(PRIMARY_ROLE)
    return Cell(
        str(index.data(Qt.ItemDataRole.DisplayRole) or ""),
        None if primary is None else str(primary),
        index.data(SECONDARY_ROLE),
        index.data(DETAIL_ROLE),
        index.data(MARK_ROLE),
        index.data(TONE_ROLE),
        index.data(CARE_ROLE),
        right=bool(alignment is not None and int(alignment) & Qt.AlignmentFlag.AlignRight),
        loading=primary == "…",
    )


def painted_text(index: Index) -> tuple[str, str]:
    """The two lines as the delegate paints them (before eliding), for tests and tools."""
    primary = str(index.data(PRIMARY_ROLE) or "")
    secondary = index.data(SECONDARY_ROLE)
    top = f"{primary} · {secondary}" if secondary else primary
    mark = index.data(MARK_ROLE)
    detail = str(index.data(DETAIL_ROLE) or "")
    bottom = f"{mark} {detail}" if mark and detail else detail
    return top, bottom
