"""The desk: queue | customer file | script, actions one key away, status always visible.

Why this is one room although it is long (about 900 lines): ``DeskWindow`` is the one
place where the three panes, the menus, the toolbar and the status bar meet, and where
each action is wired to the pane it serves; its methods are a few lines of wiring each.
The work lives in the rooms it wires: the action path (``action_path``), recording
(``recording``), live sync and the outbox (``live_sync``), the panes (``queue_panel``,
``customer_panel``, ``script_panel``) and the dialogs. The next seam, should it grow:
the status bar with the connection display, and opening a found customer.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, QTimer, QUrl, Signal
from PySide6.QtGui import (
    QAction,
    QActionGroup,
    QCloseEvent,
    QDesktopServices,
    QGuiApplication,
    QShowEvent,
)
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QMainWindow,
    QProgressBar,
    QSizePolicy,
    QSplitter,
    QToolBar,
    QToolButton,
    QWidget,
)

from agent_desk.domain.codes import NextStepKind, Role
from agent_desk.domain.origin import new_origin
from agent_desk.domain.queue_view import QueueScope
from agent_desk.errors import AgentDeskError, DatabaseUnavailableError
from agent_desk.i18n import Translator
from agent_desk.ui import messaging_hooks
from agent_desk.ui.action_path import ActionRunner, DeskContext
from agent_desk.ui.actions import build_actions, build_pane_actions
from agent_desk.ui.customer_panel import CustomerPanel
from agent_desk.ui.dialogs.about import add_about_action
from agent_desk.ui.dialogs.creditor import open_creditor_profile, open_objection
from agent_desk.ui.dialogs.form import FormDialog
from agent_desk.ui.dialogs.import_file import ImportDesk
from agent_desk.ui.dialogs.letter_output import LetterOutput
from agent_desk.ui.dialogs.log_contact import LogContactDialog
from agent_desk.ui.dialogs.notices import ShortcutsDialog
from agent_desk.ui.dialogs.promise import PromiseInput
from agent_desk.ui.dialogs.release import ReleaseDialog, ReleaseInput, release_note
from agent_desk.ui.keyboard import name_controls
from agent_desk.ui.labels import Words
from agent_desk.ui.live_sync import LiveSync, OfflineWork
from agent_desk.ui.plain import ElidedLabel, PlainLabel
from agent_desk.ui.prompter import Prompter
from agent_desk.ui.queue_model import QueueModel
from agent_desk.ui.queue_panel import QueuePanel
from agent_desk.ui.recording import Recorder
from agent_desk.ui.script_panel import ScriptPanelHost
from agent_desk.ui.settings import DeskSettings
from agent_desk.ui.team_view import SupervisorDesk
from agent_desk.ui.theme import apply_theme, effective_scheme
from agent_desk.ui.typed_dates import TypedDateTimeEdit
from agent_desk.ui.worker import DatabaseWorker

# The dialogs that only some screens need are imported when first opened.
if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from agent_desk.domain.scripts import ScriptLibrary
    from agent_desk.services.actor import Actor
    from agent_desk.services.customer_file import CustomerFile
    from agent_desk.services.opening import Opened
    from agent_desk.services.outbox import ReplayResult
    from agent_desk.services.search import SearchHit
    from agent_desk.services.sync import ChangeSummary
    from agent_desk.ui.dialogs.approvals import ApprovalsDialog
    from agent_desk.ui.dialogs.arrangement import ArrangementDesk, ArrangementDialog
    from agent_desk.ui.dialogs.find_customer import FindCustomerDialog
    from agent_desk.ui.dialogs.letters import LettersDialog
    from agent_desk.ui.dialogs.outbox_review import OutboxReviewDialog


#: How often the open customer's hold is renewed (the lease is 20 minutes).
HOLD_RENEWAL_MS = 5 * 60 * 1000


class DeskWindow(QMainWindow):
    language_requested = Signal(str)
    file_shown = Signal(int)  # customer id, after the file is on screen
    closed = Signal()  # the agent closed the desk (not a rebuild for another language)

    def __init__(
        self,
        *,
        worker: DatabaseWorker,
        actor: Actor,
        tr: Translator,
        settings: DeskSettings,
        prompter: Prompter,
        clock: Callable[[], datetime],
        database_label: str,
        team_server: bool,
    ) -> None:
        super().__init__()
        self.setObjectName("deskWindow")
        self.worker, self.actor, self.tr_ = worker, actor, tr
        self.settings, self.prompter, self.clock = settings, prompter, clock
        self.words = Words(tr)
        self.releasing_on_close = True
        self.setWindowTitle(
            tr("Agent Desk — {name} ({role})", name=actor.display_name, role=self._role())
        )
        self.actions_ = build_actions(self, tr)
        self.pane_actions = build_pane_actions(self, tr)
        self.release_dialog: ReleaseDialog | None = None
        TypedDateTimeEdit.translate = staticmethod(tr)
        self.call_opener: Callable[[QUrl], object] = QDesktopServices.openUrl
        own_queue = actor.role is Role.AGENT
        scope = QueueScope(agent_id=actor.agent_id if own_queue else None)
        self.queue_model = QueueModel(worker, self.words, clock, scope, actor.agent_id)
        title = tr("My queue") if own_queue else tr("Team queue")
        self.queue_panel = QueuePanel(self.queue_model, tr, title)
        self.customer_panel = CustomerPanel(self.words, clock)
        self.script_host = ScriptPanelHost(tr)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("deskSplitter")
        self.splitter.setChildrenCollapsible(False)
        for widget, stretch in ((self.queue_panel, 4), (self.customer_panel, 6)):
            self.splitter.addWidget(widget)
            self.splitter.setStretchFactor(self.splitter.indexOf(widget), stretch)
        self.splitter.addWidget(self.script_host)
        self.splitter.setStretchFactor(2, 2)
        # The file keeps room to be read; each column scrolls or elides below its minimum
        # instead of pushing the window wider (the desk fits 1,024 px).
        self.customer_panel.setMinimumWidth(340)
        self.splitter.setSizes([480, 560, 330])
        self.setCentralWidget(self.splitter)
        self.importer = ImportDesk(
            self, worker, actor, tr, clock, reload_queue=self.queue_model.reload
        )
        self._build_menus()
        self.campaign_dialog: QDialog | None = None  # issue 14
        self.campaign_action: QAction | None = None
        self.send_message_action = messaging_hooks.install(self)
        self._build_action_bar()
        self._build_status_bar(database_label, team_server)
        worker.origin = new_origin(actor.agent_id)  # this desk session's changes
        # Every room asks the window for the time, so the desk has one clock (a test
        # or a later feature that sets ``self.clock`` sets it for all of them).
        desk_clock: Callable[[], datetime] = lambda: self.clock()  # noqa: E731
        self.action_path = ActionRunner(
            self,
            worker,
            actor,
            self.words,
            desk_clock,
            self.current_file,
            conflicted=self._after_conflict,
            unexpected=self.unexpected,
        )
        self.desk_context = DeskContext(
            parent=self,
            worker=worker,
            actor=actor,
            words=self.words,
            clock=desk_clock,
            prompter=prompter,
            current_file=self.current_file,
            actions=self.action_path,
            settings=settings,
            status=lambda text: self.statusBar().showMessage(text, 15_000),
            unexpected=self.unexpected,
        )
        self.recorder = Recorder(self.desk_context)
        self.letter_output = LetterOutput()  # tests swap in a ScriptedLetterOutput
        self.letters_dialog: LettersDialog | None = None
        self.send_message_dialog: QDialog | None = None  # issue 14
        self._arranger: ArrangementDesk | None = None  # made when first used
        self.approvals_dialog: ApprovalsDialog | None = None
        self.supervisor = SupervisorDesk(
            self,
            worker,
            actor,
            self.words,
            desk_clock,
            reload_queue=self.queue_model.reload,
            status=lambda text: self.statusBar().showMessage(text, 15_000),
        )
        self.review_dialog: OutboxReviewDialog | None = None
        self.live_sync = LiveSync(worker, desk_clock, self)
        self.offline = OfflineWork(worker, actor, desk_clock, parent=self)
        self.action_path.offline = self.offline
        self.action_path.kept.connect(self._kept_offline)
        self.action_path.changed.connect(self._action_changed)
        self._stale_file: int | None = None
        self._fitted_once = False
        self._connect()
        self.reload_team_rules()
        self._restore_layout()
        self.customer_panel.clear()
        name_controls(self)  # the action bar and the panels, before any file is shown

    # -- the team's rules (issue 15) ---------------------------------------------

    def open_team_rules(self) -> None:
        from agent_desk.ui.dialogs.team_rules import TeamRulesDialog

        dialog = TeamRulesDialog(self.worker, self.actor, self.tr_, self)
        self.team_rules_dialog = dialog
        dialog.open()

    def reload_team_rules(self) -> None:
        """The team's scripts for the script panel, and the rates warning (supervisors)."""
        today = self.clock().date()

        def library(session: Session) -> ScriptLibrary:
            from agent_desk.services import team_rules  # on the worker

            return team_rules.script_library(session)

        def since(session: Session) -> date | None:
            from agent_desk.services import team_rules

            return team_rules.unconfirmed_since(session, today)

        self.worker.submit(library, self.script_host.use_library, lambda _error: None)
        if self.actor.is_supervisor:
            self.worker.submit(since, self._show_rates_warning, lambda _error: None)

    def _show_rates_warning(self, since: date | None) -> None:
        if since is None:
            self.rates_label.hide()
            return
        self.rates_label.setText(
            self.tr_("⚠ Rates unconfirmed since {date}", date=self.words.day(since))
        )
        self.rates_label.setToolTip(
            self.tr_(
                "The statutory interest rates are confirmed only until the day before {date}; "
                "interest after it is provisional. Record the checked rate: agent-desk rates "
                "add (or Supervisor → Team rules).",
                date=self.words.day(since),
            )
        )
        self.rates_label.show()

    def _role(self) -> str:
        return self.tr_("supervisor") if self.actor.is_supervisor else self.tr_("agent")

    # -- building ----------------------------------------------------------------

    def _build_menus(self) -> None:
        tr, a = self.tr_, self.actions_
        bar = self.menuBar()
        desk = bar.addMenu(tr("&Desk"))
        desk.addActions([a.next_customer, a.refresh])
        desk.addSeparator()
        desk.addAction(a.quit)
        customer = bar.addMenu(tr("&Customer"))
        customer.addActions([a.log_contact, a.promise, a.arrangement, a.pause, a.letter])
        customer.addActions([a.verify, a.note, a.next_step])
        objection = customer.addAction(tr("Ob&jection to an early signal…"), self._open_objection)
        objection.setObjectName("signalObjection")
        customer.addSeparator()
        customer.addActions([self.pane_actions.call, self.pane_actions.release])
        queue = bar.addMenu(tr("&Queue"))
        queue.addActions([a.find_customer, a.search, a.refresh])
        view = bar.addMenu(tr("&View"))
        language = view.addMenu(tr("Language"))
        group = QActionGroup(self)
        for code, name in (("nl", "Nederlands"), ("en", "English")):
            item = language.addAction(name)
            item.setObjectName(f"language_{code}")
            item.setCheckable(True)
            item.setChecked(code == self.tr_.lang)
            group.addAction(item)
            item.triggered.connect(lambda _checked=False, c=code: self.language_requested.emit(c))
        colours = view.addMenu(tr("Colours"))
        schemes = QActionGroup(self)
        chosen = self.settings.colour_scheme()
        for scheme, label in (
            ("system", tr("Follow the system (light or dark)")),
            ("light", tr("Light")),
            ("dark", tr("Dark")),
            ("contrast", tr("High contrast")),
        ):
            item = colours.addAction(label)
            item.setObjectName(f"scheme_{scheme}")
            item.setCheckable(True)
            item.setChecked(scheme == chosen)
            schemes.addAction(item)
            item.triggered.connect(lambda _checked=False, s=scheme: self.set_colour_scheme(s))
        view.addSeparator()
        view.addActions([self.pane_actions.next_pane, self.pane_actions.previous_pane])
        for action in a.supervisor_only():
            action.setVisible(self.actor.is_supervisor)
            action.setEnabled(self.actor.is_supervisor)
        if self.actor.is_supervisor:
            supervisor = bar.addMenu(tr("&Supervisor"))
            supervisor.addAction(a.approvals)
            supervisor.addSeparator()
            supervisor.addActions([a.team_view, a.reassign, a.audit_trail])
            supervisor.addSeparator()
            team_rules_action = supervisor.addAction(tr("Team rules…"))
            team_rules_action.setObjectName("teamRulesAction")
            team_rules_action.triggered.connect(self.open_team_rules)
            profile = supervisor.addAction(tr("C&reditor profile…"), self._open_creditor_profile)
            profile.setObjectName("creditorProfile")
            supervisor.addAction(self.importer.action)
        help_ = bar.addMenu(tr("&Help"))
        help_.addAction(a.shortcuts)
        add_about_action(help_, self, tr, lambda: self.database_label.text())

    def _open_creditor_profile(self) -> None:
        """Supervisor › Creditor profile (issue 15)."""
        open_creditor_profile(self.desk_context)

    def _open_objection(self) -> None:
        """Customer › Objection to an early signal (issue 15)."""
        file = self.recorder.current_file()
        if file is not None:
            # The file and queue refresh from what the objection changed.
            open_objection(self.desk_context, file.id, file.name, lambda: None)

    def _build_action_bar(self) -> None:
        a = self.actions_
        bar = QToolBar(self.tr_("Actions"))
        bar.setObjectName("actionBar")
        bar.setMovable(False)
        bar.setFloatable(False)
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        bar.addActions(
            [a.log_contact, a.promise, a.arrangement, a.pause, a.letter, a.verify, a.note]
        )
        spacer = QWidget()
        spacer.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        bar.addWidget(spacer)
        bar.addAction(a.next_customer)
        next_button = bar.widgetForAction(a.next_customer)
        if next_button is not None:
            next_button.setObjectName("nextButton")
        self.addToolBar(Qt.ToolBarArea.BottomToolBarArea, bar)
        self.action_bar = bar
        for button in bar.findChildren(QToolButton, "qt_toolbar_ext_button"):
            button.setAccessibleName(self.tr_("More actions"))  # shown when the bar is narrow

    def _build_status_bar(self, database_label: str, team_server: bool) -> None:
        tr, bar = self.tr_, self.statusBar()
        self.busy_label = PlainLabel()
        self.busy_label.setObjectName("busyLabel")
        self.busy_bar = QProgressBar()
        self.busy_bar.setObjectName("busyBar")
        self.busy_bar.setRange(0, 0)
        self.busy_bar.setFixedWidth(90)
        self.busy_bar.setTextVisible(False)
        self.busy_bar.hide()
        bar.addWidget(self.busy_bar)
        bar.addWidget(self.busy_label)
        kind = tr("team server") if team_server else tr("embedded")
        self.database_label = ElidedLabel(
            tr("Database: {name} ({kind})", name=database_label, kind=kind), minimum_chars=12
        )
        self.database_label.setObjectName("databaseLabel")
        self.connection_label = PlainLabel()
        self.connection_label.setObjectName("connectionLabel")
        self.agent_label = PlainLabel(f"{self.actor.display_name} · {self._role()}")
        self.agent_label.setObjectName("agentLabel")
        self.rates_label = PlainLabel()
        self.rates_label.setObjectName("ratesWarning")
        self.rates_label.hide()
        bar.addPermanentWidget(self.rates_label)
        for label in (self.database_label, self.connection_label, self.agent_label):
            bar.addPermanentWidget(label)
        self.set_connected(True)

    def _connect(self) -> None:
        a = self.actions_
        a.next_customer.triggered.connect(self.next_customer)
        a.refresh.triggered.connect(self.refresh)
        a.search.triggered.connect(self.queue_panel.focus_search)
        a.find_customer.triggered.connect(self.find_customer)
        a.log_contact.triggered.connect(self.recorder.log_contact)
        a.promise.triggered.connect(self.recorder.promise)
        a.pause.triggered.connect(self.recorder.pause)
        a.note.triggered.connect(self.recorder.note)
        a.next_step.triggered.connect(self.recorder.next_step)
        a.arrangement.triggered.connect(lambda _checked=False: self.arranger.open())
        a.approvals.triggered.connect(self.open_approvals)
        a.team_view.triggered.connect(self.supervisor.open_team_view)
        a.reassign.triggered.connect(lambda: self.supervisor.open_reassign())
        a.audit_trail.triggered.connect(self.supervisor.open_audit)
        a.letter.triggered.connect(self.open_letters)
        a.verify.triggered.connect(self.recorder.verify)
        self.script_host.attach(self)
        self.script_host.log_requested.connect(a.log_contact.trigger)
        self.script_host.calculator_requested.connect(a.arrangement.trigger)
        self.script_host.verify_requested.connect(a.verify.trigger)
        self.recorder.script_outcome = self.script_host.current_outcome
        self.recorder.promise_saved = self._promise_saved
        a.shortcuts.triggered.connect(self.show_shortcuts)
        a.quit.triggered.connect(self.close)
        self.pane_actions.next_pane.triggered.connect(lambda: self.cycle_pane(1))
        self.pane_actions.previous_pane.triggered.connect(lambda: self.cycle_pane(-1))
        self.pane_actions.call.triggered.connect(lambda: self.call_number(None))
        self.pane_actions.release.triggered.connect(self.release_customer)
        self.customer_panel.call_requested.connect(self.call_number)
        # Tab walks the columns in reading order: search, queue, file, script.
        QWidget.setTabOrder(self.queue_panel.search, self.queue_panel.view)
        QWidget.setTabOrder(self.queue_panel.view, self.customer_panel.file_scroll)
        QWidget.setTabOrder(self.customer_panel.file_scroll, self.script_host)
        self.queue_panel.customer_chosen.connect(self.open_customer)
        self.queue_model.loaded.connect(self._queue_loaded)
        self.worker.busy_changed.connect(self._busy)
        self.worker.failed.connect(self.handle_error)
        self.live_sync.changed.connect(self._changes_arrived)
        self.live_sync.connection_changed.connect(self._connection_changed)
        self.live_sync.synced.connect(lambda _at: self._show_connection())
        self.live_sync.reconnected.connect(self.offline.replay)
        self.offline.replayed.connect(self._replayed)
        # While a customer is open the hold is renewed well within its lease (20
        # minutes): a long call keeps its customer; another desk cannot claim it.
        self.hold_renewal = QTimer(self)
        self.hold_renewal.setInterval(HOLD_RENEWAL_MS)
        self.hold_renewal.timeout.connect(self.renew_hold)
        self.hold_renewal.start()

    # -- state -------------------------------------------------------------------

    def current_file(self) -> CustomerFile | None:
        return self.customer_panel.file

    def start(self) -> None:
        self.queue_model.reload()
        self.live_sync.start()

    def refresh(self) -> None:
        self.queue_model.reload()
        file = self.current_file()
        if file is not None:
            self._reload_file(file.id)

    # -- keyboard: the three columns ------------------------------------------------

    def panes(self) -> list[QWidget]:
        """The focus stops Ctrl+F6 cycles through: queue, file, script."""
        file = self.customer_panel.currentWidget() or self.customer_panel
        return [self.queue_panel.view, file, self.script_host]

    def pane_of(self, widget: QWidget | None) -> int | None:
        for index, pane in enumerate(self.panes()):
            if widget is not None and (widget is pane or pane.isAncestorOf(widget)):
                return index
        if widget is self.queue_panel.search:
            return 0
        return None

    def cycle_pane(self, step: int) -> QWidget:
        panes = self.panes()
        current = self.pane_of(QApplication.focusWidget())
        index = 0 if current is None and step > 0 else ((current or 0) + step) % len(panes)
        target = panes[index]
        if target is not self.script_host:
            target.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        target.setFocus(Qt.FocusReason.ShortcutFocusReason)
        return target

    def focus_script(self) -> None:
        """After F8 or opening a customer: the keys 1–9 answer the script."""
        self.script_host.setFocus(Qt.FocusReason.OtherFocusReason)

    # -- click-to-call -----------------------------------------------------------

    def call_number(self, number: str | None = None) -> bool:
        """Hand ``number`` (default: the preferred phone) to the softphone and start the
        contact attempt (F2) with the call's start time filled in."""
        file = self.current_file()
        if file is None:
            return False
        if number is None:
            number = self.customer_panel.phone_to_call()
        if not number:
            self.statusBar().showMessage(self.tr_("This customer has no phone number."), 15_000)
            return False
        dial = "".join(ch for ch in number if ch.isdigit() or ch == "+")
        url = QUrl(self.settings.call_url().replace("{number}", dial))
        started = self.clock()
        self.call_opener(url)
        self.statusBar().showMessage(self.tr_("Calling {number}…", number=number), 15_000)
        dialog = self.recorder.log_contact()
        if isinstance(dialog, LogContactDialog):
            dialog.start_call(number, started)
        return True

    def release_customer(self) -> ReleaseDialog | None:
        """Ctrl+Shift+S: let the customer go for now, with a reason, and take the next."""
        file = self.current_file()
        if file is None:
            return None
        dialog = ReleaseDialog(self.words, file, self.clock(), self)
        customer_id, actor = file.id, self.actor

        def release(value: ReleaseInput) -> None:
            now, note = self.clock(), release_note(self.words, value)

            def task(session: Session) -> None:
                from agent_desk.services.activity import NextStepInput, add_note, plan_next_step
                from agent_desk.services.queue_claims import release_holds

                step = NextStepInput(NextStepKind.RETRY, value.back_at, note)
                plan_next_step(session, actor, customer_id, step, now)
                add_note(session, actor, customer_id, note, now)
                release_holds(session, actor)

            def done(_result: object) -> None:
                self.customer_panel.clear()
                self.script_host.clear()
                for action in [*self.actions_.on_customer(), self.pane_actions.call]:
                    action.setEnabled(False)
                self.pane_actions.release.setEnabled(False)
                self.statusBar().showMessage(self.tr_("Customer released."), 15_000)
                self.next_customer()  # the queue refreshes from what the release changed

            self.action_path.op(customer_id, task, busy=self.tr_("Releasing the customer…")).form(
                dialog, typed=value
            ).success(done).run()

        dialog.submitted.connect(release)
        self.release_dialog = dialog
        dialog.open()
        return dialog

    def _promise_saved(self, customer_id: int, value: PromiseInput) -> None:
        self.script_host.show_saved(
            customer_id,
            self.tr_(
                "Promise saved (F3): {amount} on {date}",
                amount=self.words.money(value.amount_cents),
                date=self.words.day(value.due_date),
            ),
        )

    def set_colour_scheme(self, scheme: str) -> str:
        self.settings.set_colour_scheme(scheme)
        app = QApplication.instance()
        if isinstance(app, QApplication):
            apply_theme(app, scheme)
            return effective_scheme(app)
        return scheme

    def open_customer(self, customer_id: int) -> None:
        actor, now = self.actor, self.clock()

        def task(session: Session) -> Opened:
            from agent_desk.services.opening import open_customer

            return open_customer(session, actor, customer_id, now)

        self.worker.submit(
            task,
            self._opened,
            busy=self.tr_("Opening the customer file…"),
        )

    def find_customer(self) -> FindCustomerDialog:
        """Ctrl+K: anyone the agent may see, also an inbound caller not in the queue."""
        from agent_desk.ui.dialogs.find_customer import FindCustomerDialog

        dialog = FindCustomerDialog(self.worker, self.actor, self.words, self)
        dialog.chosen.connect(self._open_found)
        dialog.open()
        return dialog

    def _open_found(self, hit: SearchHit) -> None:
        actor, now = self.actor, self.clock()

        def task(session: Session) -> Opened:
            from agent_desk.services.search import open_found

            return open_found(session, actor, hit, now)

        self.worker.submit(
            task,
            self._opened,
            busy=self.tr_("Opening the customer file…"),
        )

    def _opened(self, opened: Opened) -> None:
        if opened.file is None:
            self.prompter.inform(
                self,
                self.tr_("Customer is with a colleague"),
                self.tr_("A colleague has this customer open right now. Please choose another."),
            )
            return
        self._show(opened.file)
        self.focus_script()

    def next_customer(self) -> None:
        actor, now = self.actor, self.clock()

        def task(session: Session) -> CustomerFile | None:
            from agent_desk.services.opening import next_customer

            return next_customer(session, actor, now)

        self.worker.submit(
            task,
            self._next_loaded,
            self._next_failed,
            busy=self.tr_("Finding your next customer…"),
        )

    def _next_failed(self, error: BaseException) -> None:
        if not isinstance(error, DatabaseUnavailableError):
            self.handle_error(error)
            return
        self.live_sync.set_online(False)
        self.prompter.inform(
            self,
            self.tr_("Next customer needs the connection"),
            self.tr_(
                "Taking a new customer needs the connection to the team database, so "
                "that no colleague gets the same customer. The customer on screen stays "
                "readable and what you save is kept on this computer. Try again when the "
                "status bar says Connected."
            ),
        )

    def _next_loaded(self, file: CustomerFile | None) -> None:
        if file is None:
            self.prompter.inform(
                self,
                self.tr_("Queue is empty"),
                self.tr_("There is no one waiting in your queue right now. Well done."),
            )
            return
        self._show(file)
        self.focus_script()
        self.queue_model.reload()

    def _show(self, file: CustomerFile) -> None:
        self.customer_panel.show_file(file)
        self._show_waiting()
        self.script_host.show_file(file, self.actor.display_name, self.clock())
        for action in self.actions_.on_customer():
            action.setEnabled(True)
        self.pane_actions.call.setEnabled(True)
        self.pane_actions.release.setEnabled(True)
        self.queue_panel.select_customer(file.id)
        name_controls(self)  # the new file's and script's buttons get their names
        self.file_shown.emit(file.id)

    def renew_hold(self) -> None:
        """Hold the open customer again for a whole lease (quietly: when the database
        cannot be reached, the next renewal or the reconnect tries again)."""
        file = self.current_file()
        if file is None or not self.live_sync.online:
            return
        actor, now, customer_id = self.actor, self.clock(), file.id

        def task(session: Session) -> bool:
            from agent_desk.services.queue_claims import hold

            return hold(session, actor, customer_id, now)

        def renewed(held: bool) -> None:
            if not held and self.current_file() is not None:
                self.statusBar().showMessage(
                    self.tr_("A colleague has this customer open now; your changes still save."),
                    15_000,
                )

        self.worker.submit(task, renewed, lambda _error: None)

    def _reload_file(self, customer_id: int) -> None:
        actor, now = self.actor, self.clock()

        def task(session: Session) -> CustomerFile:
            from agent_desk.services.opening import reload_file

            return reload_file(session, actor, customer_id, now)

        self.worker.submit(task, self._show)

    def _action_changed(self, summary: ChangeSummary, _initiator: object) -> None:
        """What the desk's own action changed: the one refresh it causes (its echo from
        live sync is skipped by origin). The file on screen reloads if it was touched,
        the queue if a customer row changed (its bucket, next step, hold...)."""
        if summary.touches("team_rule"):
            self.reload_team_rules()
        if summary.touches("customer"):
            self.queue_model.reload()
        file = self.current_file()
        if file is not None and summary.touches_customer(file.id):
            self._reload_file(file.id)

    def _after_conflict(self, customer_id: int) -> None:
        self._reload_file(customer_id)

    def _queue_loaded(self) -> None:
        self.live_sync.set_online(True)
        file = self.current_file()
        self.queue_panel.select_customer(file.id if file else None)

    def _busy(self, text: str) -> None:
        self.busy_bar.setVisible(bool(text))
        self.busy_label.setText(text)

    def set_connected(self, connected: bool) -> None:
        tr = self.tr_
        self._connected = connected
        synced = self.live_sync.last_synced if hasattr(self, "live_sync") else None
        if not connected:
            text = tr("○ Offline — your work is kept")
        elif synced is not None:
            text = tr("● Connected · synced {time}", time=synced.strftime("%H:%M:%S"))
        else:
            text = tr("● Connected")
        self.connection_label.setText(text)
        self.connection_label.setProperty("offline", "false" if connected else "true")
        self.connection_label.style().unpolish(self.connection_label)
        self.connection_label.style().polish(self.connection_label)

    def _show_connection(self) -> None:
        self.set_connected(getattr(self, "_connected", True))

    # -- live sync and offline work ----------------------------------------------

    def _changes_arrived(self, summary: ChangeSummary) -> None:
        """Refresh only what a colleague's (or our own) change touched."""
        if summary.touches("team_rule"):
            self.reload_team_rules()
        if summary.touches("customer"):
            self.queue_model.reload()
        if self.actor.is_supervisor:
            self.supervisor.team_changed()
        file = self.current_file()
        if file is not None and summary.touches_customer(file.id):
            self._refresh_open_file(file.id)

    def _refresh_open_file(self, customer_id: int) -> None:
        """Reload the file on screen, but not under a dialog the agent is typing in."""
        dialog = self._open_form()
        if dialog is None:
            self._reload_file(customer_id)
            return
        if self._stale_file is None:
            dialog.finished.connect(lambda _result: self._dialog_closed())
        self._stale_file = customer_id

    def _open_form(self) -> QDialog | None:
        for dialog in (
            self.recorder.dialog,
            self.recorder.verification_dialog,
            self.arrangement_dialog,
            self.letters_dialog,
        ):
            if dialog is not None and dialog.isVisible():
                return dialog
        return None

    def _dialog_closed(self) -> None:
        stale, self._stale_file = self._stale_file, None
        file = self.current_file()
        if stale is not None and file is not None and file.id == stale:
            self._reload_file(stale)

    def _connection_changed(self, online: bool) -> None:
        self.set_connected(online)
        if online:
            self.offline.replay()

    def _kept_offline(self, customer_id: int, behind_earlier: bool = False) -> None:
        self._show_waiting()
        if behind_earlier and self.live_sync.online:
            # Online again, but earlier offline work for this customer was still
            # waiting: this save queued behind it so the order holds. Send it all now.
            self.statusBar().showMessage(self.tr_("Saved; sending your offline work…"), 15_000)
            self.offline.replay()
            return
        self.live_sync.set_online(False)
        self.statusBar().showMessage(
            self.tr_("Saved on this computer; it will be sent when the connection is back."),
            30_000,
        )

    def _show_waiting(self) -> None:
        """The open customer's offline work that is not yet sent, in the file."""
        file = self.current_file()
        if file is None:
            return
        waiting = self.offline.waiting_for(file.id)
        if not waiting:  # (the outbox's words load with the first kept work)
            self.customer_panel.show_waiting([])
            return
        from agent_desk.services.outbox import OperationKind

        tr = self.tr_
        names = {
            OperationKind.CONTACT_ATTEMPT: tr("contact attempt"),
            OperationKind.NOTE: tr("note"),
            OperationKind.PROMISE: tr("promise"),
            OperationKind.NEXT_STEP: tr("next step"),
            OperationKind.PAUSE: tr("pause"),
        }
        items = [
            f"{names[op.kind]} ({op.created_at.astimezone().strftime('%H:%M')})" for op in waiting
        ]
        self.customer_panel.show_waiting(items)

    def _replayed(self, result: ReplayResult) -> None:
        self._show_waiting()
        if result.applied:
            self.statusBar().showMessage(
                self.tr_("{count} saved while offline sent to the database.", count=result.applied),
                15_000,
            )
            self.refresh()
        if result.needs_review:
            self.open_review()

    def open_review(self) -> OutboxReviewDialog:
        """The review list of offline work that could not be applied as it was."""
        if self.review_dialog is not None and self.review_dialog.isVisible():
            self.review_dialog.reload()
            return self.review_dialog
        from agent_desk.ui.dialogs.outbox_review import OutboxReviewDialog

        dialog = OutboxReviewDialog(self.tr_, self.offline, self)
        dialog.resolved.connect(lambda _op, _action: self.offline.replay())
        self.review_dialog = dialog
        dialog.open()
        return dialog

    # -- errors and dialogs ------------------------------------------------------

    def handle_error(self, error: BaseException) -> None:
        if isinstance(error, DatabaseUnavailableError):
            self.live_sync.set_online(False)
        if isinstance(error, AgentDeskError):
            self.prompter.warn(self, self.tr_("Agent Desk"), self.tr_.error(error))
            return
        self.unexpected(error)

    def unexpected(self, error: BaseException) -> None:
        sys.excepthook(type(error), error, error.__traceback__)

    def shortcuts(self) -> list[tuple[str, str]]:
        """Every key of the desk, then the rules every dialog follows (docs/keyboard.md)."""
        tr = self.tr_
        keys = [
            (action.shortcut().toString(), action.text())
            for action in [*self.actions_.all(), *self.pane_actions.all()]
            if action.isVisible()
        ]
        rules = [
            ("1–9", tr("answer the script (focus is on the script after F8)")),
            ("Alt+Left / Alt+Right", tr("script: back / forward")),
            ("Tab", tr("queue → customer file → script; the queue is one stop")),
            ("↑ ↓ Enter", tr("queue: choose a customer, open the file")),
            ("Esc", tr("close a dialog without saving; in the search: clear it and leave")),
            ("Enter", tr("in a one-line field: go to the next field (never saves)")),
            ("Ctrl+Enter", tr("save the dialog (Save, Agree, Send)")),
            ("Alt+letter", tr("press the button with that underlined letter")),
            ("15-12, 15 dec, +7", tr("date fields: type the date; Up/Down step a day")),
        ]
        return keys + rules

    def show_shortcuts(self) -> ShortcutsDialog:
        dialog = ShortcutsDialog(self.tr_, self.shortcuts(), self)
        dialog.open()
        return dialog

    def open_letters(self) -> LettersDialog | None:
        """F6: preview, print or save a letter for the customer on screen."""
        file = self.current_file()
        if file is None:
            return None
        if self.letters_dialog is not None and self.letters_dialog.isVisible():
            self.letters_dialog.reject()
        from agent_desk.ui.dialogs.letters import LettersDialog

        dialog = LettersDialog(self.desk_context, file, self.letter_output)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.destroyed.connect(lambda _obj=None: self._letters_closed(dialog))
        dialog.email_requested.connect(lambda: messaging_hooks.send_confirmation_by_email(self))
        self.letters_dialog = dialog
        dialog.open()
        return dialog

    def _letters_closed(self, dialog: LettersDialog) -> None:
        if self.letters_dialog is dialog:
            self.letters_dialog = None

    def _calculator_context(self) -> Mapping[str, Any] | None:
        """What the script panel learned (e.g. capacity), if it offers it."""
        for source in (self.script_host, getattr(self.script_host, "panel", None)):
            offer = getattr(source, "context_for_calculator", None)
            if callable(offer):
                context = offer()
                if isinstance(context, Mapping):
                    return context
        return None

    @property
    def arranger(self) -> ArrangementDesk:
        """The arrangement calculator's desk (F4), made the first time it is used."""
        if self._arranger is None:
            from agent_desk.ui.dialogs.arrangement import ArrangementDesk

            self._arranger = ArrangementDesk(self.desk_context, context=self._calculator_context)
        return self._arranger

    @property
    def arrangement_dialog(self) -> ArrangementDialog | None:
        return self._arranger.dialog if self._arranger is not None else None

    def open_approvals(self) -> ApprovalsDialog | None:
        """Ctrl+Shift+A: supervisors decide on arrangements outside policy."""
        if not self.actor.is_supervisor:
            return None
        if self.approvals_dialog is not None and self.approvals_dialog.isVisible():
            self.approvals_dialog.raise_()
            return self.approvals_dialog
        from agent_desk.ui.dialogs.approvals import ApprovalsDialog

        dialog = ApprovalsDialog(self.desk_context)
        self.approvals_dialog = dialog
        dialog.open()
        dialog.reload()
        return dialog

    @property
    def open_dialog(self) -> FormDialog | None:
        return self.recorder.dialog

    # -- layout and closing ------------------------------------------------------

    def _restore_layout(self) -> None:
        geometry = self.settings.blob("geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        else:
            self.resize(1440, 900)
        splitter = self.settings.blob("splitter")
        if splitter is not None:
            self.splitter.restoreState(splitter)
        self._splitter_restored = splitter is not None
        self.fit_to_screen()

    def fit_to_screen(self) -> None:
        """Never larger than the screen's free area (a 1366×768 laptop, 150 % scaling);
        a layout saved on a bigger monitor is shrunk, not shown half off-screen."""
        screen = self.screen() or QGuiApplication.primaryScreen()
        if screen is None:
            return
        free = screen.availableGeometry()
        frame = self.frameGeometry().size() - self.geometry().size()
        # Before the window manager framed the window, assume a title bar and borders.
        frame_w = frame.width() if frame.width() > 0 else 8
        frame_h = frame.height() if frame.height() > 0 else 40
        width = min(self.width(), free.width() - frame_w)
        height = min(self.height(), free.height() - frame_h)
        if (width, height) != (self.width(), self.height()):
            self.resize(max(width, self.minimumSizeHint().width()), height)
        if not free.contains(self.frameGeometry().topLeft()):
            self.move(free.topLeft())

    def save_layout(self) -> None:
        self.settings.set_blob("geometry", self.saveGeometry())
        self.settings.set_blob("splitter", self.splitter.saveState())
        self.settings.sync()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._fitted_once:
            self._fitted_once = True
            if not self._splitter_restored:  # queue 30 %, file 45 %, script 25 %
                width = self.splitter.width() or self.width()
                self.splitter.setSizes([width * 30 // 100, width * 45 // 100, width * 25 // 100])
            QTimer.singleShot(300, self.fit_to_screen)  # once framed: the real frame size

    def closeEvent(self, event: QCloseEvent) -> None:
        self.save_layout()
        self.live_sync.stop()
        if self.releasing_on_close:
            actor = self.actor
            try:
                self.worker.run_and_wait(lambda session: _release_holds(session, actor))
            except Exception as error:
                self.statusBar().showMessage(str(error))
            self.closed.emit()
        self.offline.close()
        event.accept()


def _release_holds(session: Session, actor: Actor) -> int:
    from agent_desk.services.queue_claims import release_holds

    return release_holds(session, actor)
