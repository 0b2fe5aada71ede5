"""Left column: the agent's work queue with search, sortable headers and a count.

Each row is painted in two lines by ``QueueDelegate`` (who and how much on top, why
now below) at one fixed height. The customer column takes whatever width is left, the
others are sized from their content in the desk's language, so the queue never needs
a horizontal scroll bar. Clicking a header sorts in the query (``QueueSort``); a third
click, or "Back to priority order", returns to the queue's own order.
"""

from __future__ import annotations

import html

from PySide6.QtCore import (
    QEvent,
    QItemSelectionModel,
    QModelIndex,
    QObject,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QFont, QFontMetrics, QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QStackedWidget,
    QStyle,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from agent_desk.domain.queue_view import QueueSort
from agent_desk.i18n import Translator
from agent_desk.ui.labels import NEXT_STEPS, TIMES_OF_DAY
from agent_desk.ui.plain import PlainLabel, rich_label
from agent_desk.ui.queue_delegate import PAD_X, QueueDelegate, detail_font, row_height
from agent_desk.ui.queue_model import (
    COL_ARREARS,
    COL_BEST,
    COL_CUSTOMER,
    COL_NEXT,
    COL_WHY,
    QueueModel,
)

# Hidden: the customer column says why now on its second line.
HIDDEN_COLUMNS = (COL_WHY,)
# Widest the fixed columns may grow (longer text is elided; the tooltip has it all).
MAX_WIDTHS = {COL_ARREARS: 120, COL_NEXT: 150, COL_BEST: 110}
MIN_CUSTOMER_WIDTH = 150
# On a narrow column these give way first (the row's tooltip and accessible text keep
# them): best time, then next step. Each comes back when there is room.
OPTIONAL_COLUMNS = (COL_BEST, COL_NEXT)
SORT_ROOM = 26  # the header's sort arrow and padding


def thousands(count: int, lang: str) -> str:
    text = f"{count:,}"
    return text.replace(",", ".") if lang == "nl" else text


class QueuePanel(QWidget):
    customer_chosen = Signal(int)

    def __init__(self, model: QueueModel, tr: Translator, title: str) -> None:
        super().__init__()
        self.setObjectName("queuePanel")
        self.model = model
        self.tr_ = tr
        self._title = title
        self.title = PlainLabel()
        self.title.setObjectName("panelTitle")
        self.priority_link = rich_label(
            f'<a href="priority">{html.escape(tr("Back to priority order"))}</a>'
        )
        self.priority_link.setObjectName("priorityLink")
        self.priority_link.setToolTip(tr("Sort the queue by who needs you first again"))
        self.priority_link.setTextInteractionFlags(Qt.TextInteractionFlag.LinksAccessibleByMouse)
        self.priority_link.linkActivated.connect(lambda _link: self.sort_by_priority())
        self.search = QLineEdit()
        self.search.setObjectName("queueSearch")
        self.search.setClearButtonEnabled(True)
        self.search.setPlaceholderText(tr("Search name, number, phone or postcode  (/)"))
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(250)
        self._debounce.timeout.connect(self.apply_search)
        self.search.textChanged.connect(lambda _text: self._debounce.start())
        self.search.returnPressed.connect(self.apply_search)
        self.search.installEventFilter(self)  # Esc clears the search and leaves it
        self.search.setAccessibleName(tr("Search the queue"))

        self.view = QTableView()
        self.view.setObjectName("queueView")
        self.view.setModel(model)
        self.delegate = QueueDelegate(self.view, name_column=COL_CUSTOMER)
        self.view.setItemDelegate(self.delegate)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        # One Tab stop: arrows move inside the queue, Tab goes on to the file.
        self.view.setTabKeyNavigation(False)
        self.view.setAccessibleName(title)
        self.view.setAccessibleDescription(
            tr("Up and Down choose a customer, Enter opens the file, Tab goes to the file.")
        )
        self.view.setAlternatingRowColors(True)
        self.view.setShowGrid(False)
        self.view.setWordWrap(False)
        self.view.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.view.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.view.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerItem)
        rows = self.view.verticalHeader()
        rows.setVisible(False)
        rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)  # uniform row heights
        rows.setMinimumSectionSize(1)
        header = self.view.horizontalHeader()
        header.setHighlightSections(False)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        header.setStretchLastSection(False)
        header.setSortIndicatorClearable(True)
        header.setSortIndicator(-1, Qt.SortOrder.AscendingOrder)  # the queue's own order
        for column in HIDDEN_COLUMNS:
            self.view.setColumnHidden(column, True)
        self.view.ensurePolished()  # the style sheet sets the font: measure with it
        self._apply_metrics()
        self.view.installEventFilter(self)
        self.view.setSortingEnabled(True)
        self.view.activated.connect(self._activated)
        self.view.doubleClicked.connect(self._activated)

        self.empty = PlainLabel()
        self.empty.setObjectName("emptyState")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
        self.empty.setWordWrap(True)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.view)
        self.stack.addWidget(self.empty)

        top = QHBoxLayout()
        top.addWidget(self.title)
        top.addStretch(1)
        top.addWidget(self.priority_link)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 12, 6, 8)
        layout.addLayout(top)
        layout.addWidget(self.search)
        layout.addWidget(self.stack, 1)
        model.loaded.connect(self._update_title)
        model.modelReset.connect(self._update_title)
        model.counted.connect(lambda _count: self._update_title())
        self._update_title()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            watched is self.search
            and event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and event.key() == Qt.Key.Key_Escape
        ):
            self.leave_search()
            return True
        if watched is self.view and event.type() == QEvent.Type.FontChange:
            self._apply_metrics()
        if watched is self.view and event.type() == QEvent.Type.Resize:
            self._fit_columns()
        return super().eventFilter(watched, event)

    def _apply_metrics(self) -> None:
        """One fixed row height for two lines; fixed widths from the content in this
        language; the customer column takes the rest."""
        self.view.verticalHeader().setDefaultSectionSize(row_height(self.view.font()))
        tr, view = self.tr_, self.view
        plain = QFontMetrics(view.font())
        small = QFontMetrics(detail_font(view.font()))
        bold = QFont(view.horizontalHeader().font())
        bold.setBold(True)
        heading = QFontMetrics(bold)
        samples = {
            COL_ARREARS: [plain.horizontalAdvance("€99,999.99")],
            COL_NEXT: [plain.horizontalAdvance(tr(label)) for label in NEXT_STEPS.values()]
            + [small.horizontalAdvance("28 Sep 2025 08:45")],
            COL_BEST: [plain.horizontalAdvance(tr(label)) for label in TIMES_OF_DAY.values()],
        }
        header = view.horizontalHeader()
        header.setMinimumSectionSize(40)
        for column, widths in samples.items():
            title = str(self.model.headerData(column, Qt.Orientation.Horizontal) or "")
            needed = max(*widths, heading.horizontalAdvance(title) + SORT_ROOM - 2 * PAD_X)
            width = min(MAX_WIDTHS[column], needed + 2 * PAD_X)
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Fixed)
            header.resizeSection(column, width)
        header.setSectionResizeMode(COL_CUSTOMER, QHeaderView.ResizeMode.Stretch)
        self._widths = {column: header.sectionSize(column) for column in samples}
        scroll_bar = view.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent, None, view)
        self._chrome = max(scroll_bar, 16) + 2 * view.frameWidth()
        required = self._widths[COL_ARREARS]
        view.setMinimumWidth(required + MIN_CUSTOMER_WIDTH + self._chrome)
        self._fit_columns()

    def _fit_columns(self) -> None:
        """Show the optional columns only while the customer column keeps its room."""
        widths = getattr(self, "_widths", None)
        if not widths:
            return
        room = self.view.width() - self._chrome - MIN_CUSTOMER_WIDTH - widths[COL_ARREARS]
        fits = True
        for column in reversed(OPTIONAL_COLUMNS):  # next step stays longest
            fits = fits and room >= widths[column]  # never best time without next step
            self.view.setColumnHidden(column, not fits)
            if fits:
                room -= widths[column]

    def _update_title(self) -> None:
        count = self.model.rowCount()
        figure = thousands(count, self.tr_.lang)
        if not self.model.count_is_exact:  # the estimate, until the exact count arrives
            figure = f"≈ {figure}"
        self.title.setText(f"{self._title} ({figure})")
        self.priority_link.setVisible(self.model.scope.sort is not QueueSort.PRIORITY)
        if self.model.loading or count:
            self.stack.setCurrentWidget(self.view)
            return
        search = self.model.scope.search
        if search:
            text = self.tr_("No one in the queue matches “{search}”.", search=search)
        elif self.model.scope.agent_id is None:
            text = self.tr_("The team queue is empty.")
        else:
            text = self.tr_("Your queue is empty — well done.")
        self.empty.setText(text)
        self.stack.setCurrentWidget(self.empty)

    @property
    def showing_empty_state(self) -> bool:
        return self.stack.currentWidget() is self.empty

    def sort_by_priority(self) -> None:
        self.view.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)

    def apply_search(self) -> None:
        self._debounce.stop()
        self.model.search(self.search.text())

    def leave_search(self) -> None:
        """Esc in the search: empty it, show the whole queue, and go back to the queue."""
        if self.search.text():
            self.search.clear()
            self.apply_search()
        self.view.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def focus_search(self) -> None:
        self.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search.selectAll()

    def _activated(self, index: QModelIndex) -> None:
        customer_id = self.model.customer_id(index.row())
        if customer_id is not None:
            self.customer_chosen.emit(customer_id)

    def select_customer(self, customer_id: int | None) -> None:
        """Show which customer is open, without opening it again."""
        row = self.model.row_of(customer_id) if customer_id is not None else None
        selection = self.view.selectionModel()
        if row is None:
            selection.clearSelection()
            return
        index = self.model.index(row, 0)
        selection.setCurrentIndex(
            index,
            QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows,
        )
        self.view.scrollTo(index)
