"""Ctrl+Shift+R (supervisors): move customers to another agent, or spread them.

Choose which customers (from an agent, a segment, a postcode range, days past due,
first-time arrears) and to whom (one or more agents). While choosing, a preview on
the worker says how many would move ("142 customers move from Sanne to Daan and
Eva"), and how many are skipped because they are open on a desk right now. Confirm
moves them in one transaction on the worker; the window then reloads its queue.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from agent_desk.domain.codes import Role, Segment
from agent_desk.errors import AgentDeskError, ValidationError
from agent_desk.i18n import N_
from agent_desk.ui.labels import Words
from agent_desk.ui.plain import PlainLabel
from agent_desk.ui.worker import DatabaseWorker

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from agent_desk.services.actor import Actor
    from agent_desk.services.agents import AgentSummary
    from agent_desk.services.reassign import (
        ReassignFilter,
        ReassignPreview,
        ReassignResult,
    )
    from agent_desk.ui.action_path import ActionRunner

SEGMENTS: dict[str, str] = {
    Segment.CONSUMER: N_("consumer"),
    Segment.SELF_EMPLOYED: N_("self-employed"),
    Segment.SMALL_BUSINESS: N_("small business"),
}
PREVIEW_DELAY_MS = 250


class ReassignDialog(QDialog):
    agents_loaded = Signal()
    previewed = Signal()  # a preview (or its error) is on screen
    reassigned = Signal(object)  # ReassignResult, after the move is saved

    def __init__(
        self,
        worker: DatabaseWorker,
        actor: Actor,
        words: Words,
        clock: Callable[[], datetime],
        parent: QWidget | None = None,
        *,
        from_agent: str | None = None,
    ) -> None:
        super().__init__(parent)
        tr = words.tr
        self.tr_, self.words = tr, words
        self.worker, self.actor, self.clock = worker, actor, clock
        self.agents: list[AgentSummary] = []
        self.preview: ReassignPreview | None = None
        self.previewing = False
        self.saving = False
        self._generation = 0
        self._initial_from = from_agent
        self.setObjectName("reassignDialog")
        self.setWindowTitle(tr("Reassign customers"))
        heading = PlainLabel(tr("Reassign customers"))
        heading.setObjectName("dialogTitle")
        intro = PlainLabel(
            tr(
                "Choose which customers move and to whom. With several agents the "
                "customers are spread evenly, the most urgent ones too."
            )
        )
        intro.setObjectName("hint")
        intro.setWordWrap(True)
        self.notice = PlainLabel()
        self.notice.setObjectName("notice")
        self.notice.setWordWrap(True)
        self.notice.hide()

        self.errors: dict[str, QLabel] = {}
        form = QFormLayout()
        form.setVerticalSpacing(6)
        self.from_agent = QComboBox()
        self.from_agent.setObjectName("fromAgent")
        self.segment = QComboBox()
        self.segment.setObjectName("segment")
        self.segment.addItem(tr("any segment"), None)
        for code, label in SEGMENTS.items():
            self.segment.addItem(tr(label), str(code))
        self.postcode_from = QLineEdit()
        self.postcode_from.setObjectName("postcodeFrom")
        self.postcode_from.setPlaceholderText("1000")
        self.postcode_from.setMaxLength(4)
        self.postcode_to = QLineEdit()
        self.postcode_to.setObjectName("postcodeTo")
        self.postcode_to.setPlaceholderText("9999")
        self.postcode_to.setMaxLength(4)
        postcodes = QWidget()
        row = QHBoxLayout(postcodes)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.postcode_from)
        row.addWidget(PlainLabel(tr("to")))
        row.addWidget(self.postcode_to)
        row.addStretch(1)
        for edit in (self.postcode_from, self.postcode_to):
            edit.setFixedWidth(80)
        self.min_days = QSpinBox()
        self.min_days.setObjectName("minDaysPastDue")
        self.min_days.setRange(0, 3650)
        self.min_days.setSpecialValueText(tr("any"))
        self.min_days.setSuffix(tr(" days"))
        self.min_days.setFixedWidth(120)
        self.first_time = QCheckBox(tr("Only customers in arrears for the first time"))
        self.first_time.setObjectName("firstTimeOnly")
        self.targets = QListWidget()
        self.targets.setObjectName("targets")
        self.targets.setMinimumHeight(120)
        self.targets.setMaximumHeight(170)

        form.addRow(PlainLabel(tr("From agent")), self._field(self.from_agent, "from"))
        form.addRow(PlainLabel(tr("Segment")), self._field(self.segment, "segment"))
        form.addRow(
            PlainLabel(tr("Postcode from")), self._field(postcodes, "postcode_from", "postcode_to")
        )
        form.addRow(
            PlainLabel(tr("At least past due")), self._field(self.min_days, "min_days_past_due")
        )
        form.addRow(PlainLabel(), self._field(self.first_time, "filter"))
        form.addRow(PlainLabel(tr("Move to")), self._field(self.targets, "to"))

        preview_title = PlainLabel(tr("What will happen"))
        preview_title.setObjectName("sectionTitle")
        self.sentence = PlainLabel()
        self.sentence.setObjectName("previewSentence")
        self.sentence.setWordWrap(True)
        font = self.sentence.font()
        font.setBold(True)
        self.sentence.setFont(font)
        self.details = PlainLabel()
        self.details.setObjectName("previewDetails")
        self.details.setWordWrap(True)

        self.confirm = QPushButton(tr("Move customers"))
        self.confirm.setObjectName("saveButton")
        self.confirm.setAutoDefault(False)
        self.confirm.setEnabled(False)
        cancel = QPushButton(tr("Cancel"))
        cancel.setObjectName("cancelButton")
        cancel.setAutoDefault(False)
        buttons = QDialogButtonBox()
        buttons.addButton(self.confirm, QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.addButton(cancel, QDialogButtonBox.ButtonRole.RejectRole)
        self.confirm.clicked.connect(self.submit)
        cancel.clicked.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 16, 20, 14)
        layout.setSpacing(10)
        layout.addWidget(heading)
        layout.addWidget(intro)
        layout.addWidget(self.notice)
        layout.addLayout(form)
        layout.addWidget(preview_title)
        layout.addWidget(self.sentence)
        layout.addWidget(self.details)
        layout.addStretch(1)
        layout.addWidget(buttons)
        self.setMinimumWidth(620)
        self.resize(660, 640)

        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(PREVIEW_DELAY_MS)
        self.timer.timeout.connect(self.refresh_preview)
        self.from_agent.currentIndexChanged.connect(self._source_changed)
        self.segment.currentIndexChanged.connect(self._changed)
        for edit in (self.postcode_from, self.postcode_to):
            edit.textChanged.connect(self._changed)
        self.min_days.valueChanged.connect(self._changed)
        self.first_time.toggled.connect(self._changed)
        self.targets.itemChanged.connect(self._changed)
        self._show_hint()

    def _field(self, widget: QWidget, *fields: str) -> QWidget:
        box = QWidget()
        inner = QVBoxLayout(box)
        inner.setContentsMargins(0, 0, 0, 0)
        inner.setSpacing(2)
        inner.addWidget(widget)
        error = PlainLabel()
        error.setObjectName("fieldError")
        error.setWordWrap(True)
        error.hide()
        inner.addWidget(error)
        for field in fields:
            self.errors[field] = error
        return box

    # -- agents ----------------------------------------------------------------------

    def load_agents(self) -> None:
        now = self.clock()

        def load(session: Session) -> list[AgentSummary]:
            from agent_desk.services.agents import list_agents

            return list_agents(session, now)

        self.worker.submit(
            load,
            self._agents_loaded,
            self._failed,
            busy=self.tr_("Loading the agents…"),
        )

    def _agents_loaded(self, agents: list[AgentSummary]) -> None:
        tr = self.tr_
        self.agents = [a for a in agents if a.active]
        self.from_agent.blockSignals(True)
        self.targets.blockSignals(True)
        self.from_agent.clear()
        self.from_agent.addItem(tr("any agent"), None)
        self.targets.clear()
        for agent in self.agents:
            label = tr(
                "{name} ({count} open customers)", name=agent.display_name, count=agent.assigned
            )
            self.from_agent.addItem(label, agent.login)
            if agent.role == Role.AGENT.value:
                item = QListWidgetItem(label)
                item.setData(Qt.ItemDataRole.UserRole, agent.login)
                item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsUserCheckable)
                item.setCheckState(Qt.CheckState.Unchecked)
                self.targets.addItem(item)
        if self._initial_from:
            self.choose_from(self._initial_from)
        self.from_agent.blockSignals(False)
        self.targets.blockSignals(False)
        self.agents_loaded.emit()
        self._source_changed()

    def _source_changed(self, *_args: object) -> None:
        """The source agent cannot also be a target: untick and grey it out there."""
        source = self.from_agent.currentData()
        self.targets.blockSignals(True)
        for row in range(self.targets.count()):
            item = self.targets.item(row)
            flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsUserCheckable
            if item.data(Qt.ItemDataRole.UserRole) == source:
                item.setCheckState(Qt.CheckState.Unchecked)
                flags = Qt.ItemFlag.NoItemFlags
            item.setFlags(flags)
        self.targets.blockSignals(False)
        self._changed()

    def choose_from(self, login: str | None) -> None:
        index = self.from_agent.findData(login)
        self.from_agent.setCurrentIndex(max(index, 0))

    def choose_targets(self, logins: Sequence[str]) -> None:
        wanted = set(logins)
        self.targets.blockSignals(True)
        for row in range(self.targets.count()):
            item = self.targets.item(row)
            login = item.data(Qt.ItemDataRole.UserRole)
            chosen = login in wanted and bool(item.flags() & Qt.ItemFlag.ItemIsEnabled)
            item.setCheckState(Qt.CheckState.Checked if chosen else Qt.CheckState.Unchecked)
        self.targets.blockSignals(False)
        self._changed()

    def target_logins(self) -> list[str]:
        return [
            str(item.data(Qt.ItemDataRole.UserRole))
            for row in range(self.targets.count())
            if (item := self.targets.item(row)).checkState() == Qt.CheckState.Checked
        ]

    # -- the selection ----------------------------------------------------------------

    def selection(self) -> ReassignFilter | None:
        """The filter from the fields, or None after putting an error beside a field."""
        tr = self.tr_
        postcodes: dict[str, int | None] = {}
        ok = True
        for name, edit in (
            ("postcode_from", self.postcode_from),
            ("postcode_to", self.postcode_to),
        ):
            text = edit.text().strip()
            if not text:
                postcodes[name] = None
            elif len(text) == 4 and text.isdigit() and text[0] != "0":
                postcodes[name] = int(text)
            else:
                self.show_error(name, tr("A postcode has four digits, e.g. 1012."))
                ok = False
        if not ok:
            return None
        low, high = postcodes["postcode_from"], postcodes["postcode_to"]
        if low is not None and high is not None and low > high:
            self.show_error("postcode_from", tr("Put the lower postcode first."))
            return None
        from agent_desk.services.reassign import ReassignFilter

        return ReassignFilter(
            from_agent=self.from_agent.currentData(),
            segment=self.segment.currentData(),
            postcode_from=low,
            postcode_to=high,
            min_days_past_due=self.min_days.value() or None,
            first_time_only=self.first_time.isChecked(),
        )

    def _changed(self, *_args: object) -> None:
        self._generation += 1  # any preview on its way is now out of date
        self.preview = None
        self.confirm.setEnabled(False)
        self.timer.start()

    def clear_errors(self) -> None:
        for label in self.errors.values():
            label.hide()
        self.notice.hide()

    def show_error(self, field: str | None, message: str) -> None:
        label = self.errors.get(field or "")
        if label is None:
            self.notice.setText("⚠ " + message)
            self.notice.show()
            return
        label.setText("⚠ " + message)
        label.show()

    def error_text(self, field: str) -> str:
        label = self.errors.get(field)
        return label.text() if label is not None and not label.isHidden() else ""

    def _show_hint(self) -> None:
        self.sentence.setText(self.tr_("Choose which customers move and to whom."))
        self.details.setText("")

    # -- preview ----------------------------------------------------------------------

    def refresh_preview(self) -> None:
        """Ask the worker how many would move (nothing changes)."""
        self.timer.stop()
        self.clear_errors()
        selection = self.selection()
        targets = self.target_logins()
        if selection is None or selection.empty or not targets:
            self.preview = None
            self.confirm.setEnabled(False)
            self._show_hint()
            self.previewed.emit()
            return
        generation = self._generation
        actor, now = self.actor, self.clock()
        self.previewing = True

        def task(session: Session) -> ReassignPreview:
            from agent_desk.services.reassign import preview_reassign

            return preview_reassign(session, actor, selection, targets, now)

        def done(preview: ReassignPreview) -> None:
            if generation != self._generation:
                return
            self.previewing = False
            self.preview = preview
            self._show_preview(preview)
            self.confirm.setEnabled(preview.count > 0 and not self.saving)
            self.previewed.emit()

        def failed(error: BaseException) -> None:
            if generation != self._generation:
                return
            self.previewing = False
            self.preview = None
            self.confirm.setEnabled(False)
            self._show_hint()
            self._error(error)
            self.previewed.emit()

        self.worker.submit(task, done, failed)

    def _show_preview(self, preview: ReassignPreview) -> None:
        self.sentence.setText(self.preview_sentence(preview))
        details: list[str] = []
        if len(preview.to_names) > 1 and preview.count:
            shares = ", ".join(
                f"{name}: {count}"
                for name, count in zip(preview.to_names, preview.per_target.values(), strict=False)
            )
            details.append(self.tr_("Spread evenly: {shares}.", shares=shares))
        if preview.sample_names and preview.count:
            details.append(
                self.tr_("First in line: {names}.", names=", ".join(preview.sample_names))
            )
        if preview.skipped_held:
            details.append(
                self.tr_(
                    "{count} skipped: open on a desk right now; move them later.",
                    count=preview.skipped_held,
                )
            )
        self.details.setText("\n".join(details))

    def preview_sentence(self, preview: ReassignPreview) -> str:
        tr = self.tr_
        targets = self._and_list(preview.to_names)
        if preview.count == 0:
            return tr("No customers match; nothing would move.")
        if preview.from_name:
            if preview.count == 1:
                return tr(
                    "1 customer moves from {source} to {targets}.",
                    source=preview.from_name,
                    targets=targets,
                )
            return tr(
                "{count} customers move from {source} to {targets}.",
                count=preview.count,
                source=preview.from_name,
                targets=targets,
            )
        if preview.count == 1:
            return tr("1 customer moves to {targets}.", targets=targets)
        return tr("{count} customers move to {targets}.", count=preview.count, targets=targets)

    def _and_list(self, names: Sequence[str]) -> str:
        if len(names) <= 1:
            return "".join(names)
        return self.tr_("{names} and {last}", names=", ".join(names[:-1]), last=names[-1])

    # -- confirm ----------------------------------------------------------------------

    def submit(self) -> None:
        """Move the customers (one transaction on the worker)."""
        tr = self.tr_
        self.clear_errors()
        selection = self.selection()
        if selection is None:
            return
        targets = self.target_logins()
        if selection.empty:
            self.show_error("filter", tr("Choose which customers move: at least one filter."))
            return
        if not targets:
            self.show_error("to", tr("Tick the agent (or agents) the customers move to."))
            return
        actor, now = self.actor, self.clock()
        self.saving = True
        self.confirm.setEnabled(False)

        def task(session: Session) -> ReassignResult:
            from agent_desk.services.reassign import reassign

            return reassign(session, actor, selection, targets, now)

        def done(result: ReassignResult) -> None:
            self.saving = False
            self.reassigned.emit(result)
            self.accept()

        def failed(error: BaseException) -> None:
            self.saving = False
            self.confirm.setEnabled(self.preview is not None and self.preview.count > 0)
            self._error(error)

        actions: ActionRunner | None = getattr(self.parent(), "action_path", None)
        if actions is None:  # a dialog without a desk (tools, tests of the dialog)
            self.worker.submit(task, done, failed, busy=tr("Moving customers…"))
            return

        # The one action path: the same routing as every desk action, and the desk
        # refreshes from what the move changed.
        def refused(_error: BaseException) -> bool:
            self.set_busy(False)  # Confirm again; the path shows the error
            return False

        actions.op(None, task, busy=tr("Moving customers…")).form(self, close=False).failure(
            refused
        ).success(done).run()

    # How the one action path answers here.

    def show_notice(self, message: str) -> None:
        self.show_error(None, message)

    def set_busy(self, busy: bool) -> None:
        if not busy:
            self.saving = False
            self.confirm.setEnabled(self.preview is not None and self.preview.count > 0)

    def _error(self, error: BaseException) -> None:
        if isinstance(error, ValidationError):
            self.show_error(error.field, self.tr_.error(error))
        elif isinstance(error, AgentDeskError):
            self.show_error(None, self.tr_.error(error))
        else:
            raise error

    def _failed(self, error: BaseException) -> None:
        self._error(error)
        self.agents_loaded.emit()

    def result_message(self, result: ReassignResult) -> str:
        tr = self.tr_
        text = tr("{count} customers moved.", count=result.moved)
        if result.skipped_held:
            text += " " + tr(
                "{count} skipped because they are open on a desk.", count=result.skipped_held
            )
        return text
