"""Composition root of the desk: database, worker, settings, language, windows.

Nothing here is a module-level singleton: ``DeskApp`` builds everything and passes
it in, so the tests build the same objects on a temporary database.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import datetime

from PySide6.QtCore import QLocale, QObject, Signal
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import QApplication, QWidget

from agent_desk.errors import AgentDeskError, DatabaseUnavailableError
from agent_desk.i18n import Translator
from agent_desk.resources import resource_path
from agent_desk.services.actor import Actor, actor_for_login
from agent_desk.services.agents import AgentSummary, list_agents
from agent_desk.services.database import Database
from agent_desk.services.desk_support import DEMO_CUSTOMERS, StartState, prepare_database
from agent_desk.ui.app_window import DeskWindow
from agent_desk.ui.dialogs.agent_picker import AgentPicker
from agent_desk.ui.dialogs.notices import EMPTY_DATABASE_TEXT, MessageDialog
from agent_desk.ui.dialogs.sign_in import SignIn, SignInDialog, needs_sign_in
from agent_desk.ui.errors import ExceptHook, install_qt_logging
from agent_desk.ui.prompter import Prompter
from agent_desk.ui.settings import DeskSettings
from agent_desk.ui.startup import StartupWindow
from agent_desk.ui.theme import apply_theme
from agent_desk.ui.worker import DatabaseWorker


def local_now() -> datetime:
    return datetime.now().astimezone()


def choose_language(option: str | None, settings: DeskSettings) -> str:
    """``--lang`` first, then the remembered choice, then the system's language."""
    if option:
        return option
    remembered = settings.language()
    if remembered:
        return remembered
    return "nl" if QLocale.system().name().startswith("nl") else "en"


def style_application(app: QApplication) -> None:
    for name in ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf"):
        QFontDatabase.addApplicationFont(str(resource_path("fonts", name)))
    app.setStyle("Fusion")
    apply_theme(app)  # the style sheet for the colour scheme, and the keyboard rules


class DeskApp(QObject):
    """Start-up flow: prepare the database → pick the agent → the desk."""

    finished = Signal(int)  # exit status when the desk cannot start
    window_ready = Signal(object)  # the DeskWindow, once shown
    _progress = Signal(int, int)

    def __init__(
        self,
        database: Database,
        *,
        demo: bool = False,
        lang: str | None = None,
        agent_login: str | None = None,
        settings: DeskSettings | None = None,
        prompter: Prompter | None = None,
        clock: Callable[[], datetime] = local_now,
        demo_customers: int = DEMO_CUSTOMERS,
    ) -> None:
        super().__init__()
        self.database = database
        self.demo = demo
        self.agent_login = agent_login
        self.settings = settings or DeskSettings()
        self.prompter = prompter or Prompter()
        self.clock = clock
        self.demo_customers = demo_customers
        self.translator = Translator(choose_language(lang, self.settings))
        self.worker = DatabaseWorker(database)
        self.window: DeskWindow | None = None
        self.startup: StartupWindow | None = None
        self.picker: AgentPicker | None = None
        self.message: MessageDialog | None = None
        self.sign_in: SignInDialog | None = None
        self._signing_in: SignIn | None = None  # remembered in the keyring once it works
        self._own_databases: list[Database] = []  # made here after a sign-in
        self.actor: Actor | None = None
        self.excepthook = ExceptHook(lambda: self.translator, self._top_window)

    def _top_window(self) -> QWidget | None:
        return self.window

    def install_error_handling(self) -> None:
        install_qt_logging()
        self.excepthook.install()

    # -- start-up ------------------------------------------------------------------

    def start(self) -> None:
        self.startup = StartupWindow(self.translator, self.database.display, self.demo)
        self._progress.connect(self.startup.progress)
        self.startup.show()
        demo, customers, emit = self.demo, self.demo_customers, self._progress.emit

        def prepare(database: Database) -> StartState:
            return prepare_database(database, demo=demo, customers=customers, progress=emit)

        self.worker.submit_raw(prepare, self._prepared, self._cannot_start)

    def _prepared(self, state: StartState) -> None:
        tr = self.translator
        signed_in, self._signing_in = self._signing_in, None
        if signed_in is not None:
            try:
                signed_in.remember_in_keyring()
            except Exception as error:  # a keyring that fails must not stop the desk
                print(f"agent-desk: the password was not remembered: {error}", file=sys.stderr)
        if state.empty:
            print(f"agent-desk: {EMPTY_DATABASE_TEXT}", file=sys.stderr)
            self._show_message(tr("There is no work here yet"), tr(EMPTY_DATABASE_TEXT), status=1)
            return
        if self.agent_login:
            login = self.agent_login
            self.worker.submit(
                lambda session: actor_for_login(session, login), self.open_desk, self._cannot_start
            )
            return
        now = self.clock()
        self.worker.submit(
            lambda session: list_agents(session, now), self._pick_agent, self._cannot_start
        )

    def _pick_agent(self, agents: list[AgentSummary]) -> None:
        picker = AgentPicker(
            self.translator, agents, self.database.display, self.settings.last_agent()
        )
        picker.chosen.connect(self._agent_chosen)
        picker.rejected.connect(lambda: self.finished.emit(0))
        self.picker = picker
        picker.show()
        self._close_startup()

    def _agent_chosen(self, login: str) -> None:
        self.settings.set_last_agent(login)
        self.worker.submit(
            lambda session: actor_for_login(session, login), self.open_desk, self._cannot_start
        )

    def _cannot_start(self, error: BaseException) -> None:
        typed_in_dialog = self._signing_in is not None or self.sign_in is not None
        if not self.database.is_sqlite and (
            needs_sign_in(error)
            # A mistyped server, port or database in the sign-in dialog: back to the
            # dialog with what was typed and the reason, not "cannot start".
            or (typed_in_dialog and isinstance(error, DatabaseUnavailableError))
        ):
            self.ask_sign_in(str(error))
            return
        if not isinstance(error, AgentDeskError):
            self._close_startup()
            self.excepthook(type(error), error, error.__traceback__)
            self.finished.emit(1)
            return
        print(f"agent-desk: {error}", file=sys.stderr)
        tr = self.translator
        self._show_message(
            tr("Agent Desk cannot start"),
            tr.error(error),
            status=1,
            body=tr("Database: {database}", database=self.database.display),
        )

    def ask_sign_in(self, problem: str = "") -> SignInDialog:
        """The server refused us (wrong or missing password): ask who signs in."""
        remember = self._signing_in is not None and self._signing_in.remember
        self._signing_in = None
        if self.sign_in is not None:  # the one the agent just submitted
            self.sign_in.hide()
            self.sign_in.deleteLater()
        dialog = SignInDialog(
            self.translator, self.database.url, problem=problem, remember=remember
        )
        dialog.signed_in.connect(self._signed_in)
        dialog.rejected.connect(lambda: self.finished.emit(1))
        self.sign_in = dialog
        dialog.show()
        self._close_startup()
        return dialog

    def _signed_in(self, value: SignIn) -> None:
        """Connect again as the person who signed in (the password stays in memory)."""
        try:
            database = Database(value.url, password=value.password)
        except AgentDeskError as error:
            self._cannot_start(error)
            return
        self._own_databases.append(database)
        self.database = database
        self.worker.database = database
        self._signing_in = value
        if self.sign_in is not None:
            self.sign_in.deleteLater()
            self.sign_in = None
        self.start()

    def _show_message(self, title: str, intro: str, *, status: int, body: str = "") -> None:
        if body:
            dialog = MessageDialog(self.translator, title, intro, body)
        else:
            dialog = MessageDialog(self.translator, title, title, intro)
        dialog.finished.connect(lambda _result: self.finished.emit(status))
        self.message = dialog
        dialog.show()
        self._close_startup()

    def _close_startup(self) -> None:
        if self.startup is not None:
            self.startup.close()
            self.startup.deleteLater()
            self.startup = None

    # -- the desk ------------------------------------------------------------------

    def open_desk(self, actor: Actor) -> None:
        self.actor = actor
        old = self.window
        window = DeskWindow(
            worker=self.worker,
            actor=actor,
            tr=self.translator,
            settings=self.settings,
            prompter=self.prompter,
            clock=self.clock,
            database_label=self.database.display,
            team_server=not self.database.is_sqlite,
        )
        window.language_requested.connect(self.set_language)
        window.closed.connect(lambda: self.finished.emit(0))
        self.window = window
        window.show()
        window.start()
        self._close_startup()
        if self.picker is not None:
            self.picker.deleteLater()
            self.picker = None
        if old is not None:
            file = old.current_file()
            old.releasing_on_close = False
            old.close()
            old.deleteLater()
            if file is not None:
                window.open_customer(file.id)
        self.window_ready.emit(window)

    def set_language(self, lang: str) -> None:
        """Remember the choice and rebuild the desk in that language (same customer)."""
        if lang == self.translator.lang:
            return
        self.settings.set_language(lang)
        self.translator = Translator(lang)
        if self.actor is not None:
            self.open_desk(self.actor)

    def shutdown(self) -> None:
        self.worker.shutdown()
        self.excepthook.uninstall()
        for database in self._own_databases:
            database.dispose()
