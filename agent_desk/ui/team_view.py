"""Ctrl+Shift+T (supervisors): the team at a glance.

One row per agent (queue, assigned, work done today, the share of their promises of
the last 30 days that were kept), four figures that need a
supervisor's eye (approvals waiting, stale contact data, no next step, unassigned)
and two charts: queue size per agent and outcomes per day over the last 14 days.
Everything is read on the worker in one task; Refresh reads it again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from agent_desk.domain.actor import Actor
from agent_desk.errors import AgentDeskError
from agent_desk.ui.buttons import button_row, plain_button
from agent_desk.ui.dialogs.audit import AuditDialog, CsvDestination
from agent_desk.ui.dialogs.reassign import ReassignDialog
from agent_desk.ui.labels import Words
from agent_desk.ui.plain import PlainLabel
from agent_desk.ui.worker import DatabaseWorker

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from agent_desk.services.reassign import ReassignResult
    from agent_desk.services.team import AgentStats, TeamSummary

RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
LEFT = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
CHART_DAYS = 14


@dataclass(frozen=True)
class TeamData:
    summary: TeamSummary
    days: list[date]
    outcomes: dict[date, dict[str, int]]


def load_team(session: Session, now: datetime) -> TeamData:
    """Everything the team view shows, read in one transaction."""
    from agent_desk.domain.team_day import local_day
    from agent_desk.services.team import outcomes_per_day, team_summary

    today = local_day(now)  # the team's day, as the books and the figures count it
    first = today - timedelta(days=CHART_DAYS - 1)
    days = [first + timedelta(days=n) for n in range(CHART_DAYS)]
    return TeamData(
        summary=team_summary(session, now),
        days=days,
        outcomes=outcomes_per_day(session, first, today + timedelta(days=1)),
    )


class _Figure(QFrame):
    """A big number with a small caption under it."""

    def __init__(self, caption: str, name: str) -> None:
        super().__init__()
        self.setObjectName("teamFigure")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.value = PlainLabel("–")
        self.value.setObjectName(name)
        self.value.setStyleSheet("font-size: 20pt; font-weight: 600;")
        label = PlainLabel(caption)
        label.setObjectName("hint")
        label.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 8, 12, 8)
        layout.setSpacing(2)
        layout.addWidget(self.value)
        layout.addWidget(label)

    def set(self, number: int) -> None:
        self.value.setText(str(number))


class TeamViewDialog(QDialog):
    loaded = Signal()
    reassign_requested = Signal()

    def __init__(
        self,
        worker: DatabaseWorker,
        actor: Actor,
        words: Words,
        clock: Callable[[], datetime],
        parent: QWidget | None = None,
    ) -> None:
        from agent_desk.services.team import PROMISE_DAYS

        super().__init__(parent)
        tr = words.tr
        self.tr_, self.words = tr, words
        self.worker, self.actor, self.clock = worker, actor, clock
        self.data: TeamData | None = None
        self.loading = False
        self.setObjectName("teamViewDialog")
        self.setWindowTitle(tr("Team view"))
        heading = PlainLabel(tr("Team view"))
        heading.setObjectName("dialogTitle")
        self.updated = PlainLabel()
        self.updated.setObjectName("hint")
        self.notice = PlainLabel()
        self.notice.setObjectName("notice")
        self.notice.setWordWrap(True)
        self.notice.hide()

        self.pending = _Figure(tr("arrangements waiting for approval"), "pendingFigure")
        self.stale = _Figure(tr("customers with contact data to check"), "staleFigure")
        self.no_step = _Figure(tr("customers without a next step"), "noStepFigure")
        self.unassigned = _Figure(tr("customers not assigned to anyone"), "unassignedFigure")
        figures = QHBoxLayout()
        figures.setSpacing(10)
        for figure in (self.pending, self.stale, self.no_step, self.unassigned):
            figures.addWidget(figure, 1)

        self.headers = [
            tr("Agent"),
            tr("Queue"),
            tr("Assigned"),
            tr("Attempts today"),
            tr("Reached today"),
            tr("Promises today"),
            tr("Arrangements today"),
            tr("Promises kept\n(last {days} days)", days=PROMISE_DAYS),
        ]
        self.kept_column = len(self.headers) - 1
        self.table = QTableWidget(0, len(self.headers))
        self.table.setObjectName("teamTable")
        self.table.setAccessibleName(tr("Team view"))
        self.table.setHorizontalHeaderLabels(self.headers)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(26)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setShowGrid(False)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setHighlightSections(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in range(1, len(self.headers)):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
            item = self.table.horizontalHeaderItem(column)
            if item is not None:
                item.setTextAlignment(RIGHT)
        self._explain_kept_column(PROMISE_DAYS)

        from agent_desk.ui.charts import OutcomesChart, QueueChart  # QtCharts: on first use

        self.queue_chart = QueueChart(words)
        self.outcomes_chart = OutcomesChart(words)
        charts = QHBoxLayout()
        charts.setSpacing(10)
        charts.addWidget(self.queue_chart, 2)
        charts.addWidget(self.outcomes_chart, 3)

        self.refresh_button = plain_button(tr("Refresh"), "refreshButton")
        self.reassign_button = plain_button(tr("Reassign…"), "reassignButton")
        close = plain_button(tr("Close"), "cancelButton")
        buttons = button_row([self.refresh_button, self.reassign_button], close)
        self.refresh_button.clicked.connect(self.reload)
        self.reassign_button.clicked.connect(self.reassign_requested.emit)
        close.clicked.connect(self.reject)

        top = QGridLayout()
        top.addWidget(heading, 0, 0)
        top.addWidget(self.updated, 0, 1, Qt.AlignmentFlag.AlignRight)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 16, 20, 14)
        layout.setSpacing(10)
        layout.addLayout(top)
        layout.addWidget(self.notice)
        layout.addLayout(figures)
        layout.addWidget(self.table, 1)
        layout.addLayout(charts, 2)
        layout.addWidget(buttons)
        self.resize(1180, 820)

    # -- loading -------------------------------------------------------------------

    def reload(self) -> None:
        self.loading = True
        self.refresh_button.setEnabled(False)
        now = self.clock()
        self.worker.submit(
            lambda session: load_team(session, now),
            self._loaded,
            self._failed,
            busy=self.tr_("Loading the team view…"),
        )

    def _loaded(self, data: TeamData) -> None:
        self.data = data
        self.notice.hide()
        summary = data.summary
        self.pending.set(summary.pending_approval)
        self.stale.set(summary.stale_contact_customers)
        self.no_step.set(summary.customers_without_next_step)
        self.unassigned.set(summary.unassigned)
        self.table.setRowCount(len(summary.agents))
        for row, agent in enumerate(summary.agents):
            name = agent.display_name
            if agent.role == "supervisor":
                name = f"{name} ({self.tr_('supervisor')})"
            cells: list[str | int] = [
                name,
                agent.queue_size,
                agent.assigned,
                agent.attempts_today,
                agent.customers_reached_today,
                agent.promises_today,
                agent.arrangements_today,
            ]
            for column, value in enumerate(cells):
                cell = QTableWidgetItem(str(value))
                cell.setTextAlignment(RIGHT if column else LEFT)
                if column == 0:
                    cell.setData(Qt.ItemDataRole.UserRole, agent.login)
                self.table.setItem(row, column, cell)
            self.table.setItem(row, self.kept_column, self._kept_cell(agent, summary.promise_days))
        self._explain_kept_column(summary.promise_days)
        shown = min(len(summary.agents), 10)  # the whole team without scrolling, up to ten
        header_height = self.table.horizontalHeader().sizeHint().height()
        row_height = self.table.verticalHeader().defaultSectionSize()
        self.table.setMinimumHeight(header_height + shown * row_height + 6)
        self.queue_chart.show_queues(
            [(a.display_name, a.queue_size) for a in summary.agents if a.role != "supervisor"]
        )
        self.outcomes_chart.show_outcomes(data.days, data.outcomes)
        self.updated.setText(self.tr_("Updated {time}", time=self.words.moment(self.clock())))
        self.loading = False
        self.refresh_button.setEnabled(True)
        self.loaded.emit()

    def _explain_kept_column(self, days: int) -> None:
        item = self.table.horizontalHeaderItem(self.kept_column)
        if item is None:
            return
        item.setText(self.tr_("Promises kept\n(last {days} days)", days=days))
        item.setToolTip(
            self.tr_(
                "Of the promises to pay each agent took in the last {days} days, the share "
                "kept of those kept or broken so far (kept/resolved).",
                days=days,
            )
        )

    def _kept_cell(self, agent: AgentStats, days: int) -> QTableWidgetItem:
        """The kept rate with the counts it rests on: "67% (2/3)"; "–" with none resolved."""
        rate = agent.promise_kept_rate
        resolved = agent.promises_resolved
        text = "–" if rate is None else f"{rate:.0%} ({agent.promises_kept}/{resolved})"
        cell = QTableWidgetItem(text)
        cell.setTextAlignment(RIGHT)
        cell.setToolTip(
            self.tr_(
                "{made} promises taken in the last {days} days: {kept} kept, {broken} broken, "
                "{running} still running.",
                made=agent.promises_made,
                days=days,
                kept=agent.promises_kept,
                broken=agent.promises_broken,
                running=agent.promises_made - resolved,
            )
        )
        return cell

    def _failed(self, error: BaseException) -> None:
        self.loading = False
        self.refresh_button.setEnabled(True)
        text = self.tr_.error(error) if isinstance(error, AgentDeskError) else repr(error)
        self.notice.setText("⚠ " + text)
        self.notice.show()
        self.loaded.emit()

    def chosen_login(self) -> str | None:
        """The agent selected in the table (to reassign their customers), if any."""
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        item = self.table.item(rows[0].row(), 0)
        login = item.data(Qt.ItemDataRole.UserRole) if item is not None else None
        return str(login) if login else None

    def rows(self) -> list[list[str]]:
        """The table as text, for tests."""
        return [
            [
                (item.text() if (item := self.table.item(row, column)) is not None else "")
                for column in range(self.table.columnCount())
            ]
            for row in range(self.table.rowCount())
        ]


#: An open team view reloads at most this often while colleagues work.
LIVE_REFRESH_MS = 3_000


class SupervisorDesk(QObject):
    """Opens the supervisor's team view, reassign and audit dialogs for a desk window.

    Kept out of the window so the window only wires the actions to it.
    """

    reassigned = Signal(object)  # ReassignResult

    def __init__(
        self,
        window: QWidget,
        worker: DatabaseWorker,
        actor: Actor,
        words: Words,
        clock: Callable[[], datetime],
        *,
        reload_queue: Callable[[], None],
        status: Callable[[str], None],
    ) -> None:
        super().__init__(window)
        self.window, self.worker, self.actor = window, worker, actor
        self.words, self.clock = words, clock
        self.reload_queue, self.status = reload_queue, status
        self.team_view: TeamViewDialog | None = None
        self.reassign_dialog: ReassignDialog | None = None
        self.audit_dialog: AuditDialog | None = None
        self.csv_destination: CsvDestination | None = None  # tests swap in a scripted one
        # Live: colleagues' work reloads an open team view, at most once per interval
        # (a busy team changes something every second; the view need not flicker).
        self.live_refresh = QTimer(self)
        self.live_refresh.setObjectName("teamViewLiveRefresh")
        self.live_refresh.setSingleShot(True)
        self.live_refresh.setInterval(LIVE_REFRESH_MS)
        self.live_refresh.timeout.connect(self._refresh_live)

    def team_changed(self) -> None:
        """Something changed in the database: refresh an open team view soon."""
        view = self.team_view
        if view is not None and view.isVisible() and not self.live_refresh.isActive():
            self.live_refresh.start()

    def _refresh_live(self) -> None:
        view = self.team_view
        if view is not None and view.isVisible() and not view.loading:
            view.reload()

    def open_team_view(self) -> TeamViewDialog | None:
        """Ctrl+Shift+T."""
        if not self.actor.is_supervisor:
            return None
        if self.team_view is not None and self.team_view.isVisible():
            self.team_view.raise_()
            self.team_view.reload()
            return self.team_view
        dialog = TeamViewDialog(self.worker, self.actor, self.words, self.clock, self.window)
        dialog.reassign_requested.connect(lambda: self.open_reassign())
        self.team_view = dialog
        dialog.open()
        dialog.reload()
        return dialog

    def open_reassign(self, from_agent: str | None = None) -> ReassignDialog | None:
        """Ctrl+Shift+R."""
        if not self.actor.is_supervisor:
            return None
        if self.reassign_dialog is not None and self.reassign_dialog.isVisible():
            self.reassign_dialog.raise_()
            return self.reassign_dialog
        if from_agent is None and self.team_view is not None and self.team_view.isVisible():
            from_agent = self.team_view.chosen_login()
        dialog = ReassignDialog(
            self.worker, self.actor, self.words, self.clock, self.window, from_agent=from_agent
        )
        dialog.reassigned.connect(lambda result: self._reassigned(dialog, result))
        self.reassign_dialog = dialog
        dialog.open()
        dialog.load_agents()
        return dialog

    def _reassigned(self, dialog: ReassignDialog, result: ReassignResult) -> None:
        self.status(dialog.result_message(result))
        self.reload_queue()
        if self.team_view is not None and self.team_view.isVisible():
            self.team_view.reload()
        self.reassigned.emit(result)

    def open_audit(self) -> AuditDialog | None:
        """Ctrl+Shift+U."""
        if not self.actor.is_supervisor:
            return None
        if self.audit_dialog is not None and self.audit_dialog.isVisible():
            self.audit_dialog.raise_()
            return self.audit_dialog
        dialog = AuditDialog(
            self.worker,
            self.actor,
            self.words,
            self.clock,
            self.window,
            destination=self.csv_destination,
        )
        self.audit_dialog = dialog
        dialog.open()
        dialog.load_agents()
        dialog.reload()
        return dialog
