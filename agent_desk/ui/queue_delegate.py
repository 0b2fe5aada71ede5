"""Paints a queue row in two lines, so it reads at a glance in a narrow column.

    Sem Smit · 100315            €384.92   call back        mornings
    ☎ callback 08:45              131 days  23 Nov 08:45

The top line says who and how much; the second line, smaller and muted, says why
now (with an icon: never colour alone), how long overdue and when. Every row has the
same height (``row_height``), so the view never measures its contents.
"""

from __future__ import annotations

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
    DETAIL_ROLE,
    MARK_ROLE,
    PRIMARY_ROLE,
    SECONDARY_ROLE,
    TONE_ROLE,
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


class QueueDelegate(QStyledItemDelegate):
    """Two-line cells from the model's ``PRIMARY_ROLE`` … ``CARE_ROLE`` parts."""

    def __init__(self, parent: QWidget | None = None, *, name_column: int = 0) -> None:
        super().__init__(parent)
        self._name_column = name_column

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:
        font = option.font
        width = QFontMetrics(font).horizontalAdvance(str(index.data(PRIMARY_ROLE) or ""))
        return QSize(width + 2 * PAD_X, row_height(font))

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        opt.text = ""
        widget = opt.widget
        style = widget.style() if widget is not None else QApplication.style()
        # Background, alternating colour, selection and focus, as the style draws them.
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, widget)

        rect: QRect = opt.rect.adjusted(PAD_X, 0, -PAD_X, 0)
        font: QFont = opt.font
        top_font = name_font(font) if index.column() == self._name_column else QFont(font)
        small = detail_font(font)
        top_height = QFontMetrics(top_font).height()
        small_height = QFontMetrics(small).height()
        total = top_height + LINE_GAP + small_height
        y = rect.top() + max(0, (rect.height() - total) // 2)
        alignment = index.data(Qt.ItemDataRole.TextAlignmentRole)
        right = bool(alignment is not None and int(alignment) & Qt.AlignmentFlag.AlignRight)

        primary = index.data(PRIMARY_ROLE)
        painter.save()
        if primary is not None:
            line = QRect(rect.left(), y, rect.width(), top_height)
            self._top_line(painter, line, index, str(primary), top_font, font, right)
        detail = index.data(DETAIL_ROLE)
        if detail:
            line = QRect(rect.left(), y + top_height + LINE_GAP, rect.width(), small_height)
            mark = index.data(MARK_ROLE)
            tone = TONES.get(str(index.data(TONE_ROLE) or ""), MUTED)
            self._detail_line(painter, line, str(detail), str(mark or ""), tone, small, right)
        painter.restore()

    def _top_line(
        self,
        painter: QPainter,
        line: QRect,
        index: Index,
        primary: str,
        top_font: QFont,
        font: QFont,
        right: bool,
    ) -> None:
        loading = primary == "…"
        secondary = "" if loading else str(index.data(SECONDARY_ROLE) or "")
        care = bool(index.data(CARE_ROLE))
        metrics, plain = QFontMetrics(top_font), QFontMetrics(font)
        suffix = f" · {secondary}" if secondary else ""
        suffix_width = plain.horizontalAdvance(suffix)
        care_width = plain.horizontalAdvance(f"  {CARE_MARK}") if care else 0
        # The name comes first; the number only shows when it fits whole (a cut-off
        # number is no use; the tooltip and the file have it).
        room = line.width() - care_width
        text = metrics.elidedText(primary, Qt.TextElideMode.ElideRight, room)
        width = metrics.horizontalAdvance(text)
        flags = Qt.AlignmentFlag.AlignVCenter | (
            Qt.AlignmentFlag.AlignRight if right else Qt.AlignmentFlag.AlignLeft
        )
        painter.setFont(top_font)
        painter.setPen(MUTED if loading else TEXT)
        painter.drawText(line, int(flags), text)
        if right or not (suffix or care):
            return
        x = line.left() + width
        rest = QRect(x, line.top(), max(0, line.right() - x), line.height())
        painter.setFont(font)
        painter.setPen(MUTED)
        shown = suffix if suffix_width <= rest.width() - care_width else ""
        painter.drawText(rest, int(Qt.AlignmentFlag.AlignVCenter), shown)
        if care:
            x += plain.horizontalAdvance(shown) + plain.horizontalAdvance("  ")
            painter.setPen(CARE)
            mark = QRect(x, line.top(), max(0, line.right() - x), line.height())
            painter.drawText(mark, int(Qt.AlignmentFlag.AlignVCenter), CARE_MARK)

    @staticmethod
    def _detail_line(
        painter: QPainter,
        line: QRect,
        detail: str,
        mark: str,
        tone: QColor,
        font: QFont,
        right: bool,
    ) -> None:
        metrics = QFontMetrics(font)
        painter.setFont(font)
        x = line.left()
        if mark and not right:
            painter.setPen(tone)
            painter.drawText(
                QRect(x, line.top(), line.width(), line.height()),
                int(Qt.AlignmentFlag.AlignVCenter),
                mark,
            )
            x += metrics.horizontalAdvance(mark + " ")
        rest = QRect(x, line.top(), max(0, line.right() - x + 1), line.height())
        text = metrics.elidedText(detail, Qt.TextElideMode.ElideRight, rest.width())
        flags = Qt.AlignmentFlag.AlignVCenter | (
            Qt.AlignmentFlag.AlignRight if right else Qt.AlignmentFlag.AlignLeft
        )
        painter.setPen(MUTED)
        painter.drawText(rest, int(flags), text)


def painted_text(index: Index) -> tuple[str, str]:
    """The two lines as the delegate paints them (before eliding), for tests and tools."""
    primary = str(index.data(PRIMARY_ROLE) or "")
    secondary = index.data(SECONDARY_ROLE)
    top = f"{primary} · {secondary}" if secondary else primary
    mark = index.data(MARK_ROLE)
    detail = str(index.data(DETAIL_ROLE) or "")
    bottom = f"{mark} {detail}" if mark and detail else detail
    return top, bottom
