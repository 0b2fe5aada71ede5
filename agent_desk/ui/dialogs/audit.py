"""Ctrl+Shift+U (supervisors): who opened and who changed which customer, and when.

Filters (customer number, agent, period), the newest events first, and Export CSV
of everything that matches. The file chooser goes through ``CsvDestination`` so
tests can answer it; reading and writing run on the worker.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QDate, QStandardPaths, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from agent_desk.domain.actor import Actor
from agent_desk.errors import AgentDeskError, ValidationError
from agent_desk.i18n import Translator
from agent_desk.ui.labels import Words
from agent_desk.ui.plain import PlainLabel, plain_tip
from agent_desk.ui.typed_dates import TypedDateEdit
from agent_desk.ui.worker import DatabaseWorker

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from agent_desk.services.agents import AgentSummary
    from agent_desk.services.audit_view import AuditRow

PAGE = 500
DEFAULT_DAYS = 30


class CsvDestination:
    """Asks where to save the CSV with a real window-modal file dialog."""

    def choose_save_path(
        self, parent: QWidget, tr: Translator, suggested: Path, then: Callable[[Path], None]
    ) -> None:
        dialog = QFileDialog(parent, tr("Export the audit trail"), str(suggested.parent))
        dialog.setObjectName("saveCsvDialog")
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setFileMode(QFileDialog.FileMode.AnyFile)
        dialog.setNameFilter(tr("CSV files (*.csv)"))
        dialog.setDefaultSuffix("csv")
        dialog.selectFile(suggested.name)
        dialog.fileSelected.connect(lambda name: then(Path(name)))
        dialog.open()


class ScriptedCsvDestination(CsvDestination):
    """For tests: answers at once with ``path`` (or cancels when it is None)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.asked: list[Path] = []

    def choose_save_path(
        self, parent: QWidget, tr: Translator, suggested: Path, then: Callable[[Path], None]
    ) -> None:
        self.asked.append(suggested)
        if self.path is not None:
            then(self.path)


def _documents() -> Path:
    folder = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
    return Path(folder) if folder and Path(folder).is_dir() else Path.home()


class AuditDialog(QDialog):
    loaded = Signal()
    exported = Signal(object)  # the path, after the CSV is written (or None on failure)

    def __init__(
        self,
        worker: DatabaseWorker,
        actor: Actor,
        words: Words,
        clock: Callable[[], datetime],
        parent: QWidget | None = None,
        *,
        destination: CsvDestination | None = None,
    ) -> None:
        super().__init__(parent)
        tr = words.tr
        self.tr_, self.words = tr, words
        self.worker, self.actor, self.clock = worker, actor, clock
        self.destination = destination or CsvDestination()
        self.rows: list[AuditRow] = []
        self.loading = False
        self.setObjectName("auditDialog")
        self.setWindowTitle(tr("Audit trail"))
        heading = PlainLabel(tr("Audit trail"))
        heading.setObjectName("dialogTitle")
        intro = PlainLabel(tr("Who opened and who changed which customer, and when. Newest first."))
        intro.setObjectName("hint")
        intro.setWordWrap(True)
        self.notice = PlainLabel()
        self.notice.setObjectName("notice")
        self.notice.setWordWrap(True)
        self.notice.hide()

        self.customer = QLineEdit()
        self.customer.setObjectName("auditCustomer")
        self.customer.setPlaceholderText(tr("customer number"))
        self.customer.setClearButtonEnabled(True)
        self.agent = QComboBox()
        self.agent.setObjectName("auditAgent")
        self.agent.addItem(tr("everyone"), None)
        today = clock().astimezone().date()
        self.since = TypedDateEdit(QDate(today - timedelta(days=DEFAULT_DAYS - 1)))  # type: ignore[call-overload, unused-ignore]  # PySide6 6.11 stubs
        self.since.setObjectName("auditSince")
        self.until = TypedDateEdit(QDate(today))  # type: ignore[call-overload, unused-ignore]  # PySide6 6.11 stubs
        self.until.setObjectName("auditUntil")
        for edit in (self.since, self.until):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("dd-MM-yyyy")
        self.period_error = PlainLabel()
        self.period_error.setObjectName("fieldError")
        self.period_error.hide()
        self.show_button = QPushButton(tr("Show"))
        self.show_button.setObjectName("showButton")
        self.show_button.setDefault(True)
        filters = QGridLayout()
        filters.setHorizontalSpacing(8)
        filters.addWidget(PlainLabel(tr("Customer")), 0, 0)
        filters.addWidget(self.customer, 0, 1)
        filters.addWidget(PlainLabel(tr("Agent")), 0, 2)
        filters.addWidget(self.agent, 0, 3)
        filters.addWidget(PlainLabel(tr("From")), 0, 4)
        filters.addWidget(self.since, 0, 5)
        filters.addWidget(PlainLabel(tr("until")), 0, 6)
        filters.addWidget(self.until, 0, 7)
        filters.addWidget(self.show_button, 0, 8)
        filters.addWidget(self.period_error, 1, 4, 1, 5)
        filters.setColumnStretch(1, 1)
        filters.setColumnStretch(3, 1)

        headers = [tr("When"), tr("Who"), tr("Action"), tr("What"), tr("Customer"), tr("Detail")]
        self.table = QTableWidget(0, len(headers))
        self.table.setObjectName("auditTable")
        self.table.setAccessibleName(tr("Audit trail"))
        self.table.setHorizontalHeaderLabels(headers)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(26)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setShowGrid(False)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setHighlightSections(False)
        for column, width in ((0, 120), (1, 150), (2, 160), (3, 160), (4, 90)):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Interactive)
            self.table.setColumnWidth(column, width)
        header.setSectionResizeMode(5, QHeaderView.ResizeMode.Stretch)
        self.count = PlainLabel()
        self.count.setObjectName("hint")

        self.export_button = QPushButton(tr("Export CSV…"))
        self.export_button.setObjectName("exportButton")
        self.export_button.setAutoDefault(False)
        close = QPushButton(tr("Close"))
        close.setObjectName("cancelButton")
        close.setAutoDefault(False)
        buttons = QDialogButtonBox()
        buttons.addButton(self.export_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(close, QDialogButtonBox.ButtonRole.RejectRole)
        self.show_button.clicked.connect(self.reload)
        self.customer.returnPressed.connect(self.reload)
        self.export_button.clicked.connect(self.export)
        close.clicked.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 16, 20, 14)
        layout.setSpacing(10)
        layout.addWidget(heading)
        layout.addWidget(intro)
        layout.addLayout(filters)
        layout.addWidget(self.notice)
        layout.addWidget(self.table, 1)
        bottom = QHBoxLayout()
        bottom.addWidget(self.count, 1)
        bottom.addWidget(buttons)
        layout.addLayout(bottom)
        self.resize(1100, 680)

    # -- filters -------------------------------------------------------------------

    def load_agents(self) -> None:
        from agent_desk.services.agents import list_agents

        now = self.clock()
        self.worker.submit(lambda session: list_agents(session, now), self._agents_loaded)

    def _agents_loaded(self, agents: list[AgentSummary]) -> None:
        chosen = self.agent.currentData()
        self.agent.clear()
        self.agent.addItem(self.tr_("everyone"), None)
        for agent in agents:
            self.agent.addItem(agent.display_name, agent.login)
        self.agent.setCurrentIndex(max(self.agent.findData(chosen), 0))

    def filters(self) -> dict[str, object] | None:
        """The service's keyword filters, or None after showing an error."""
        self.period_error.hide()
        first: date = self.since.date().toPython()  # type: ignore[assignment]
        last: date = self.until.date().toPython()  # type: ignore[assignment]
        if first > last:
            self.period_error.setText("⚠ " + self.tr_("Put the earlier date first."))
            self.period_error.show()
            return None
        zone = self.clock().astimezone().tzinfo
        return {
            "customer_number": self.customer.text().strip() or None,
            "agent_login": self.agent.currentData(),
            "since": datetime.combine(first, time(0), zone),
            "until": datetime.combine(last + timedelta(days=1), time(0), zone),
        }

    # -- loading -------------------------------------------------------------------

    def reload(self) -> None:
        filters = self.filters()
        if filters is None:
            return
        self.notice.hide()
        self.loading = True
        actor = self.actor

        def task(session: Session) -> list[AuditRow]:
            from agent_desk.services.audit_view import audit_events

            return audit_events(session, actor, limit=PAGE, **filters)  # type: ignore[arg-type]

        self.worker.submit(
            task, self._loaded, self._failed, busy=self.tr_("Loading the audit trail…")
        )

    def _loaded(self, rows: list[AuditRow]) -> None:
        from agent_desk.ui.audit_words import readable_action, readable_detail, readable_entity

        words = self.words
        self.rows = rows
        self.table.setRowCount(len(rows))
        for row, event in enumerate(rows):
            cells = [
                words.moment(event.when),
                event.who,
                readable_action(words, event.action),
                readable_entity(words, event.entity),
                event.customer_number,
                readable_detail(words, event.detail),  # the CSV keeps the machine data
            ]
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if column == 5:
                    item.setToolTip(plain_tip(text))
                self.table.setItem(row, column, item)
        if len(rows) >= PAGE:
            self.count.setText(
                self.tr_(
                    "Showing the newest {count}; narrow the filter, or export them all.",
                    count=len(rows),
                )
            )
        else:
            self.count.setText(self.tr_("{count} events", count=len(rows)))
        self.loading = False
        self.loaded.emit()

    def _failed(self, error: BaseException) -> None:
        self.loading = False
        self._notice(error)
        self.loaded.emit()

    def _notice(self, error: BaseException) -> None:
        if isinstance(error, ValidationError) and error.field == "since":
            self.period_error.setText("⚠ " + self.tr_.error(error))
            self.period_error.show()
            return
        if not isinstance(error, AgentDeskError):
            raise error
        self.notice.setText("⚠ " + self.tr_.error(error))
        self.notice.show()

    # -- export --------------------------------------------------------------------

    def export(self) -> None:
        filters = self.filters()
        if filters is None:
            return
        stamp = self.clock().astimezone().strftime("%Y-%m-%d")
        suggested = _documents() / f"audit-trail-{stamp}.csv"
        self.destination.choose_save_path(
            self, self.tr_, suggested, lambda path: self._write(path, filters)
        )

    def _write(self, path: Path, filters: dict[str, object]) -> None:
        actor, tr = self.actor, self.tr_
        self.export_button.setEnabled(False)

        def task(session: Session) -> int:
            from agent_desk.services.audit_view import export_audit_csv

            return export_audit_csv(session, actor, path, **filters)  # type: ignore[arg-type]

        def done(count: int) -> None:
            self.export_button.setEnabled(True)
            self.notice.setText(tr("{count} events saved to {path}.", count=count, path=str(path)))
            self.notice.show()
            self.exported.emit(path)

        def failed(error: BaseException) -> None:
            self.export_button.setEnabled(True)
            self.exported.emit(None)
            if isinstance(error, OSError):
                self.notice.setText(
                    "⚠ " + tr("The file could not be saved: {reason}", reason=error.strerror or "")
                )
                self.notice.show()
                return
            self._notice(error)

        self.worker.submit(task, done, failed, busy=tr("Exporting the audit trail…"))
