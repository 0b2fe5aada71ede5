"""Ctrl+K / Ctrl+F: find anyone the agent may see, also an inbound caller not in the queue.

Type-ahead: each pause in typing runs ``services.search.search_customers`` on the
desk's worker (never on the GUI thread); an answer to an older query is dropped.
Up/Down move through the results from the search field, Enter opens the selected
customer (held for this agent, as opening from the queue does), Esc closes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent, QShowEvent
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from agent_desk.domain.actor import Actor
from agent_desk.domain.search_keys import Field
from agent_desk.ui.labels import Words
from agent_desk.ui.plain import PlainLabel
from agent_desk.ui.worker import DatabaseWorker

if TYPE_CHECKING:
    from agent_desk.services.search import SearchHit

#: How long typing must pause before the search runs (ms): one query per word, not per key.
TYPING_PAUSE_MS = 150

HIT_ROLE = Qt.ItemDataRole.UserRole


class FindCustomerDialog(QDialog):
    chosen = Signal(object)  # the SearchHit to open

    def __init__(
        self,
        worker: DatabaseWorker,
        actor: Actor,
        words: Words,
        parent: QWidget | None = None,
        *,
        limit: int | None = None,  # None: services.search.DEFAULT_LIMIT
    ) -> None:
        super().__init__(parent)
        tr = words.tr
        from agent_desk.services.search import DEFAULT_LIMIT

        self.tr_, self.worker, self.actor = tr, worker, actor
        self.limit = DEFAULT_LIMIT if limit is None else limit
        self._asked = 0  # generation of the latest query; older answers are dropped
        self._shown = 0  # generation of the results on screen
        self._open_when_shown = False  # Enter came before the answer
        self.setObjectName("findCustomerDialog")
        self.setWindowTitle(tr("Find a customer"))
        self.setAccessibleName(tr("Find a customer"))
        self.setMinimumWidth(520)

        self.query = QLineEdit()
        self.query.setObjectName("findQuery")
        self.query.setClearButtonEnabled(True)
        for clear in self.query.findChildren(QToolButton):  # Qt's own clear button
            clear.setAccessibleName(tr("Clear the search text"))
        self.query.setPlaceholderText(
            tr("Name, customer number, phone, e-mail, postcode + house number or claim reference")
        )
        self.query.setAccessibleName(tr("Search every customer"))
        self.query.setAccessibleDescription(
            tr("Accents and capitals do not matter. Up and Down choose, Enter opens, Esc closes.")
        )
        self.results = QListWidget()
        self.results.setObjectName("findResults")
        self.results.setAccessibleName(tr("Customers found"))
        self.results.setUniformItemSizes(True)
        self.results.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # keys stay in the search field
        self.status = PlainLabel(tr("Type at least two letters or digits."))
        self.status.setObjectName("findStatus")
        self.status.setAccessibleName(tr("Search status"))
        self.status.setWordWrap(True)

        self.buttons = QDialogButtonBox()
        self.open_button = QPushButton(tr("&Open"))
        self.open_button.setObjectName("findOpen")
        self.open_button.setAccessibleName(tr("Open the selected customer"))
        self.open_button.setAutoDefault(False)
        self.open_button.setEnabled(False)
        self.close_button = QPushButton(tr("&Close"))
        self.close_button.setObjectName("findClose")
        self.close_button.setAccessibleName(tr("Close the search"))
        self.close_button.setAutoDefault(False)
        self.buttons.addButton(self.open_button, QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.addButton(self.close_button, QDialogButtonBox.ButtonRole.RejectRole)

        layout = QVBoxLayout(self)
        layout.addWidget(self.query)
        layout.addWidget(self.status)
        layout.addWidget(self.results, 1)
        layout.addWidget(self.buttons)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(TYPING_PAUSE_MS)
        self._timer.timeout.connect(self._search)
        self.query.textChanged.connect(lambda _text: self._timer.start())
        self.query.returnPressed.connect(self.open_selected)
        self.query.installEventFilter(self)
        self.results.itemActivated.connect(lambda _item: self.open_selected())
        self.results.itemDoubleClicked.connect(lambda _item: self.open_selected())
        self.results.currentRowChanged.connect(lambda row: self.open_button.setEnabled(row >= 0))
        self.open_button.clicked.connect(self.open_selected)
        self.close_button.clicked.connect(self.reject)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.query.setFocus(Qt.FocusReason.ActiveWindowFocusReason)
        self.query.selectAll()

    # -- searching on the worker ---------------------------------------------------

    def _search(self) -> None:
        from agent_desk.services.search import search_customers

        text = self.query.text()
        self._asked += 1
        asked, actor, limit = self._asked, self.actor, self.limit
        if len(text.strip()) < 2:
            self._show([], text)
            return
        self.status.setText(self.tr_("Searching…"))
        self.worker.submit(
            lambda session: search_customers(session, actor, text, limit),
            lambda hits: self._answer(asked, text, hits),
            lambda error: self._failed(asked, error),
        )

    def _answer(self, asked: int, text: str, hits: list[SearchHit]) -> None:
        if asked == self._asked:
            self._show(hits, text)
            if self._open_when_shown:
                self._open_when_shown = False
                self.open_selected()

    def _failed(self, asked: int, error: BaseException) -> None:
        if asked != self._asked:
            return
        self._show([], self.query.text())
        self.status.setText(self.tr_("The search did not work: {error}", error=str(error)))

    def _show(self, hits: list[SearchHit], text: str) -> None:
        self._shown = self._asked
        self.results.clear()
        for hit in hits:
            item = QListWidgetItem(self._line(hit))
            item.setData(HIT_ROLE, hit)
            item.setToolTip(self._line(hit))
            self.results.addItem(item)
        if hits:
            self.results.setCurrentRow(0)
        self.open_button.setEnabled(bool(hits))
        tr = self.tr_
        if len(text.strip()) < 2:
            self.status.setText(tr("Type at least two letters or digits."))
        elif not hits:
            self.status.setText(
                tr(
                    "No customer found for “{text}”. A colleague's customer is found by "
                    "the full customer number, phone, e-mail, postcode + house number or "
                    "claim reference.",
                    text=text.strip(),
                )
            )
        elif len(hits) == 1:
            self.status.setText(tr("One customer found. Enter opens the file."))
        else:
            self.status.setText(
                tr(
                    "{count} customers found, best first. Enter opens the selected one.",
                    count=len(hits),
                )
            )

    def _why(self, field: Field) -> str:
        tr = self.tr_
        return {
            Field.CUSTOMER_NUMBER: tr("customer number"),
            Field.CLAIM_REFERENCE: tr("claim reference"),
            Field.PHONE: tr("phone"),
            Field.EMAIL: tr("e-mail"),
            Field.ADDRESS: tr("postcode + house number"),
            Field.NAME: tr("name"),
        }[field]

    def _line(self, hit: SearchHit) -> str:
        tr = self.tr_
        why = ", ".join(self._why(f) for f in hit.matched)
        line = tr(
            "{name} · {number} — matched on {why}",
            name=hit.name,
            number=hit.customer_number,
            why=why,
        )
        if not hit.visible:
            line += " · " + tr("colleague's customer ({agent})", agent=hit.assigned_agent or "—")
        elif hit.status == "closed":
            line += " · " + tr("closed")
        return line

    # -- keys -----------------------------------------------------------------------

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.query and event.type() == QEvent.Type.KeyPress:
            assert isinstance(event, QKeyEvent)
            step = {Qt.Key.Key_Down: 1, Qt.Key.Key_Up: -1}.get(Qt.Key(event.key()))
            if step is not None and self.results.count():
                row = max(0, min(self.results.count() - 1, self.results.currentRow() + step))
                self.results.setCurrentRow(row)
                return True
        return super().eventFilter(watched, event)

    def selected(self) -> SearchHit | None:
        from agent_desk.services.search import SearchHit

        item = self.results.currentItem()
        hit = item.data(HIT_ROLE) if item is not None else None
        return hit if isinstance(hit, SearchHit) else None

    def open_selected(self) -> None:
        if self._timer.isActive():  # Enter before the pause ran out: search first
            self._timer.stop()
            self._search()
        if self._shown != self._asked:  # open what this text finds, once it is answered
            self._open_when_shown = True
            return
        hit = self.selected()
        if hit is None:
            return
        self.chosen.emit(hit)
        self.accept()
