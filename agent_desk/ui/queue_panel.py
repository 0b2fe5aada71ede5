"""Left column: the agent's work queue with search, sortable headers and a count."""

from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel, QModelIndex, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from agent_desk.i18n import Translator
from agent_desk.ui.queue_model import (
    COL_ARREARS,
    COL_BEST,
    COL_CUSTOMER,
    COL_NEXT,
    COL_WHY,
    QueueModel,
)

COLUMN_WIDTHS = {COL_CUSTOMER: 165, COL_WHY: 180, COL_ARREARS: 88, COL_NEXT: 140, COL_BEST: 70}


class QueuePanel(QWidget):
    customer_chosen = Signal(int)

    def __init__(self, model: QueueModel, tr: Translator, title: str) -> None:
        super().__init__()
        self.setObjectName("queuePanel")
        self.model = model
        self.tr_ = tr
        self._title = title
        self.title = QLabel()
        self.title.setObjectName("panelTitle")
        self.search = QLineEdit()
        self.search.setObjectName("queueSearch")
        self.search.setClearButtonEnabled(True)
        self.search.setPlaceholderText(tr("Search name, number, phone or postcode  (Ctrl+F)"))
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(250)
        self._debounce.timeout.connect(self.apply_search)
        self.search.textChanged.connect(lambda _text: self._debounce.start())
        self.search.returnPressed.connect(self.apply_search)

        self.view = QTableView()
        self.view.setObjectName("queueView")
        self.view.setModel(model)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.setAlternatingRowColors(True)
        self.view.setShowGrid(False)
        self.view.setWordWrap(False)
        self.view.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.view.verticalHeader().setVisible(False)
        self.view.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.view.verticalHeader().setDefaultSectionSize(30)
        header = self.view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        header.setHighlightSections(False)
        for column, width in COLUMN_WIDTHS.items():
            self.view.setColumnWidth(column, width)
        header.setSortIndicator(COL_WHY, Qt.SortOrder.AscendingOrder)
        self.view.setSortingEnabled(True)
        self.view.activated.connect(self._activated)
        self.view.doubleClicked.connect(self._activated)

        top = QHBoxLayout()
        top.addWidget(self.title)
        top.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 12, 6, 8)
        layout.addLayout(top)
        layout.addWidget(self.search)
        layout.addWidget(self.view, 1)
        model.loaded.connect(self._update_title)
        model.modelReset.connect(self._update_title)
        self._update_title()

    def _update_title(self) -> None:
        self.title.setText(f"{self._title} ({self.model.rowCount()})")

    def apply_search(self) -> None:
        self._debounce.stop()
        self.model.search(self.search.text())

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
