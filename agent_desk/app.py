"""Composition root of the desk: database, worker, settings, language, windows.

Nothing here is a module-level singleton: ``DeskApp`` builds everything and passes
it in, so the tests build the same objects on a temporary database.

Why this is one room although it is long (about 800 lines): it is the whole start of
the desk, in the order it happens: the process (the agent's lock before any window,
signals from the first moment, the QApplication, the first paint) and the composition
(``DeskApp``: database, worker, settings, language, windows, the known agent's early
window). The next seam, should it grow: the process half (``claim_desk`` to
``run_desk``) into a module of its own.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, cast

from PySide6.QtCore import QEvent, QEventLoop, QLocale, QObject, QTimer, Signal
from PySide6.QtGui import QFontDatabase, QIcon
from PySide6.QtWidgets import QApplication, QWidget

from agent_desk import config
from agent_desk.crash_log import CrashLog
from agent_desk.errors import AgentDeskError, DatabaseUnavailableError, UsageError
from agent_desk.i18n import Translator
from agent_desk.resources import resource_path
from agent_desk.ui.deferred_database import DeferredDatabase
from agent_desk.ui.errors import ExceptHook, install_qt_logging
from agent_desk.ui.import_hook import spare_source_scan
from agent_desk.ui.prompter import Prompter
from agent_desk.ui.settings import DeskSettings
from agent_desk.ui.signals import SignalBridge
from agent_desk.ui.single_instance import ALREADY_OPEN, SingleInstance
from agent_desk.ui.startup import StartupWindow, shown_url
from agent_desk.ui.theme import apply_theme

# The desk's window and dialogs (and the services behind them) are imported while the
# start-up window is on screen and the database is being opened, not before the
# first window: see DeskApp.start and bench/bench_startup.py.
if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from agent_desk.domain.actor import Actor
    from agent_desk.services.agents import AgentSummary
    from agent_desk.services.database import Database
    from agent_desk.services.startup import StartState
    from agent_desk.ui.app_window import DeskWindow
    from agent_desk.ui.dialogs.agent_picker import AgentPicker
    from agent_desk.ui.dialogs.notices import MessageDialog
    from agent_desk.ui.dialogs.previous_crash import PreviousCrashDialog
    from agent_desk.ui.dialogs.sign_in import SignIn, SignInDialog

log = logging.getLogger(__name__)

ICON_SIZES = (16, 24, 32, 48, 64, 128, 256)


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


def desk_icon() -> QIcon:
    """The window and task-bar icon (PNG sizes made from resources/icons/agent-desk.svg)."""
    icon = QIcon()
    for size in ICON_SIZES:
        icon.addFile(str(resource_path("icons", f"agent-desk-{size}.png")))
    return icon


def style_application(app: QApplication) -> None:
    for name in ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf"):
        QFontDatabase.addApplicationFont(str(resource_path("fonts", name)))
    app.setStyle("Fusion")
    apply_theme(app)  # the style sheet for the colour scheme, and the keyboard rules
    app.setWindowIcon(desk_icon())


def load_desk_modules() -> None:
    """Import the desk's window and what it needs (idempotent; about half a second)."""
    import agent_desk.ui.app_window  # noqa: F401


class DeskApp(QObject):
    """Start-up flow: prepare the database → pick the agent → the desk."""

    finished = Signal(int)  # exit status when the desk cannot start
    window_ready = Signal(object)  # the DeskWindow, once shown
    _progress = Signal(int, int)

    def __init__(
        self,
        database: Database | DeferredDatabase,
        *,
        demo: bool = False,
        lang: str | None = None,
        agent_login: str | None = None,
        settings: DeskSettings | None = None,
        prompter: Prompter | None = None,
        clock: Callable[[], datetime] = local_now,
        demo_customers: int | None = None,  # None: demo.DEMO_CUSTOMERS
        previous_crash: Path | None = None,
        data_folder: Path | None = None,
        instance: SingleInstance | None = None,  # claimed before any window was shown
    ) -> None:
        super().__init__()
        self.previous_crash = previous_crash
        self.data_folder = data_folder if data_folder is not None else config.data_dir()
        self.instance: SingleInstance | None = None
        self.already_open = False  # this start found the agent's desk open elsewhere
        self.crash_dialog: PreviousCrashDialog | None = None
        self.closing = False
        self.database = database
        self.demo = demo
        self.agent_login = agent_login
        self.settings = settings or DeskSettings()
        self.prompter = prompter or Prompter()
        self.clock = clock
        self.demo_customers = demo_customers
        self.translator = Translator(choose_language(lang, self.settings))
        from agent_desk.ui.worker import DatabaseWorker

        # A DeferredDatabase stands in for the Database: the worker opens it on first use.
        self.worker = DatabaseWorker(cast("Database", database))
        self.window: DeskWindow | None = None
        self.startup: StartupWindow | None = None
        self.picker: AgentPicker | None = None
        self.message: MessageDialog | None = None
        self.sign_in: SignInDialog | None = None
        self._signing_in: SignIn | None = None  # remembered in the keyring once it works
        self._own_databases: list[Database] = []  # made here after a sign-in
        self.actor: Actor | None = None
        self.excepthook = ExceptHook(lambda: self.translator, self._top_window)
        if instance is not None and instance.held:
            self._adopt(instance)

    def _top_window(self) -> QWidget | None:
        return self.window

    def install_error_handling(self) -> None:
        install_qt_logging()
        self.excepthook.install()

    # -- start-up ------------------------------------------------------------------

    def start(self, startup: StartupWindow | None = None) -> None:
        """Open the database on the worker; ``startup``: a start-up window already shown."""
        if startup is not None:
            self.startup = startup
            startup.set_database(self.database.display)
        if self.agent_login and not self.claim(self.agent_login):
            self._close_startup()
            return
        if self.startup is None:
            self.startup = StartupWindow(self.translator, self.database.display, self.demo)
        self._progress.connect(self.startup.progress)
        self.startup.show()
        demo, customers, emit = self.demo, self.demo_customers, self._progress.emit

        def prepare(database: Database) -> StartState:
            from agent_desk.services.startup import prepare_database

            if not demo:
                return prepare_database(database)  # a real database is never filled here
            from agent_desk.demo import DEMO_CUSTOMERS, load_demo

            count = DEMO_CUSTOMERS if customers is None else customers
            return prepare_database(
                database, fill=lambda session: load_demo(session, customers=count, progress=emit)
            )

        self.worker.submit_raw(prepare, self._prepared, self._cannot_start)
        QTimer.singleShot(0, load_desk_modules)  # while the start-up window is shown

    def start_remembered(self, actor: Actor) -> None:
        """SQLite, an agent seen here before: the desk's main window first, then the database.

        The worker's first tasks (queued before the window's own) prepare the database
        and look the agent up again once the window is painted; a different agent (a
        new name or role) reopens the desk, a failure closes it and says why.
        """
        database = self.database
        assert isinstance(database, DeferredDatabase)
        if not self.claim(actor.login):
            return
        demo, customers, login = self.demo, self.demo_customers, actor.login

        def prepare(_deferred: Database) -> StartState:
            opened = database.real()  # waits for the window's paint: nothing imported before
            from agent_desk.services.startup import prepare_database

            if not demo:
                return prepare_database(opened)  # a real database is never filled here
            from agent_desk.demo import DEMO_CUSTOMERS, load_demo

            count = DEMO_CUSTOMERS if customers is None else customers
            return prepare_database(
                opened, fill=lambda session: load_demo(session, customers=count)
            )

        def verify(session: Session) -> Actor:
            from agent_desk.services.actor import actor_for_login

            found = actor_for_login(session, login)
            if found != actor:
                database.hold()  # what the first window queued must not run as `actor`
            return found

        self.worker.submit_raw(prepare, self._prepared_behind, self._failed_behind)
        self.worker.submit(verify, self._verified, self._failed_behind)
        self.open_desk(actor)

    def _prepared_behind(self, state: StartState) -> None:
        if state.empty and self.window is not None:
            from agent_desk.ui.dialogs.notices import EMPTY_DATABASE_TEXT

            self.settings.forget_actor(self.database.display, self.window.actor.login)
            self._close_remembered()
            print(f"agent-desk: {EMPTY_DATABASE_TEXT}", file=sys.stderr)
            tr = self.translator
            self._show_message(tr("There is no work here yet"), tr(EMPTY_DATABASE_TEXT), status=1)

    def _verified(self, found: Actor) -> None:
        if self.window is None or found == self.actor:
            return
        database = self.database
        assert isinstance(database, DeferredDatabase)
        log.info("the agent %s changed since the last start: the desk opens again", found.login)
        # Tasks the first window queued fail (held); the new window's run after this one.
        self.worker.submit_raw(lambda _database: database.resume())
        self.open_desk(found)

    def _failed_behind(self, error: BaseException) -> None:
        if isinstance(self.database, DeferredDatabase):
            self.database.hold()
        if self.window is None:
            return  # the first failure closed the desk already
        self.settings.forget_actor(self.database.display, self.window.actor.login)
        self._close_remembered()
        self._cannot_start(error)

    def _close_remembered(self) -> None:
        window, self.window = self.window, None
        if window is not None:
            window.releasing_on_close = False
            window.close()
            window.deleteLater()

    def _prepared(self, state: StartState) -> None:
        from agent_desk.services.actor import actor_for_login
        from agent_desk.services.agents import list_agents
        from agent_desk.ui.dialogs.notices import EMPTY_DATABASE_TEXT

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
        from agent_desk.ui.dialogs.agent_picker import AgentPicker

        picker = AgentPicker(
            self.translator, agents, self.database.display, self.settings.last_agent()
        )
        picker.chosen.connect(self._agent_chosen)
        picker.rejected.connect(lambda: self.finished.emit(0))
        self.picker = picker
        picker.show()
        self._close_startup()

    def _agent_chosen(self, login: str) -> None:
        if not self.claim(login):
            if self.picker is not None:
                self.picker.hide()
            return
        self.settings.set_last_agent(login)
        from agent_desk.services.actor import actor_for_login

        self.worker.submit(
            lambda session: actor_for_login(session, login), self.open_desk, self._cannot_start
        )

    def _cannot_start(self, error: BaseException) -> None:
        from agent_desk.ui.dialogs.sign_in import needs_sign_in

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
        from agent_desk.ui.dialogs.sign_in import SignInDialog

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
        from agent_desk.services.database import Database

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
        from agent_desk.ui.dialogs.notices import MessageDialog

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

    # -- one desk per agent and data folder ---------------------------------------

    def claim(self, login: str) -> bool:
        """This agent's desk on this data folder is ours; False (and we stop) if open elsewhere."""
        if self.instance is not None and self.instance.agent == login:
            return True
        instance = SingleInstance(self.data_folder, login, self)
        if instance.claim():
            if self.instance is not None:
                self.instance.release()
            self._adopt(instance)
            return True
        say_already_open(instance)
        self.already_open = True
        # Inside the event loop, so that quitting takes effect.
        QTimer.singleShot(0, lambda: self.finished.emit(0))
        return False

    def _adopt(self, instance: SingleInstance) -> None:
        instance.setParent(self)
        self.instance = instance
        instance.raise_requested.connect(self.raise_window)

    def raise_window(self) -> None:
        """A second start of the same desk: come to the front instead."""
        target: QWidget | None = self.window or self.picker or self.startup or self.message
        if target is None:
            return
        if target.isMinimized():
            target.showNormal()
        target.show()
        target.raise_()
        target.activateWindow()

    def request_close(self, reason: str = "") -> None:
        """Close as the agent would (SIGTERM, SIGINT, --quit-after-start): through Qt."""
        if self.closing:
            return
        self.closing = True
        if isinstance(self.database, DeferredDatabase):
            self.database.release()  # the close releases holds on the worker
        if reason:
            log.info("closing the desk: %s", reason)
        if self.window is not None and self.window.isVisible():
            self.window.close()  # saves the layout, releases holds, closes the outbox
            return
        self.finished.emit(0)

    # -- the desk ------------------------------------------------------------------

    def open_desk(self, actor: Actor) -> None:
        from agent_desk.ui.app_window import DeskWindow

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
        if self.database.is_sqlite:
            self.settings.remember_actor(self.database.display, actor)
        if isinstance(self.database, DeferredDatabase):
            # The database libraries load on the worker once the window is painted.
            release = self.database.release
            PaintWatch(window, on_paint=release)  # a child of the window
            QTimer.singleShot(1000, release)  # also when the window is never painted (hidden)
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
        # "Open" once the outbox file is open too (after the first paint on a known
        # agent's start): from then on what the agent saves offline is kept on disk.
        login = actor.login
        log.info("the desk's window is shown for %s", login)
        window.offline.ready.connect(lambda: log.info("the desk is open for %s", login))
        self.window_ready.emit(window)
        if self.previous_crash is not None and old is None:
            from agent_desk.ui.dialogs.previous_crash import PreviousCrashDialog

            self.crash_dialog = PreviousCrashDialog(self.translator, self.previous_crash, window)
            self.previous_crash = None
            self.crash_dialog.open()

    def set_language(self, lang: str) -> None:
        """Remember the choice and rebuild the desk in that language (same customer)."""
        if lang == self.translator.lang:
            return
        self.settings.set_language(lang)
        self.translator = Translator(lang)
        if self.actor is not None:
            self.open_desk(self.actor)

    def shutdown(self) -> None:
        if isinstance(self.database, DeferredDatabase):
            self.database.release()
        if self.window is not None:
            self.window.offline.close()  # the outbox is on disk and closed, also after a signal
        self.worker.shutdown()
        self.excepthook.uninstall()
        for database in self._own_databases:
            database.dispose()
        if self.instance is not None:
            self.instance.release()
            self.instance = None


def say_already_open(instance: SingleInstance) -> None:
    """A second start of a desk that is open: bring the first to the front and say so."""
    raised = instance.ask_first_to_raise()
    where = "its window was brought to the front" if raised else "switch to its window"
    print(f"agent-desk: {ALREADY_OPEN} for {instance.agent} ({where}).", file=sys.stderr)
    log.info("a second start for %s found the desk already open", instance.agent)


class DeskAlreadyOpen(Exception):
    """This agent's desk is already open on this data folder (this start stops, 0)."""


def claim_desk(agent_login: str | None) -> SingleInstance | None:
    """One desk per agent and data folder, checked before any window is shown.

    Returns the claim (``None`` without a login: the agent is picked later and
    claimed then). Raises ``DeskAlreadyOpen`` after the first desk was asked to come
    to the front and the agent was told, so that this start shows nothing at all.
    """
    if not agent_login:
        return None
    instance = SingleInstance(config.data_dir(), agent_login)
    if not instance.claim():
        say_already_open(instance)
        raise DeskAlreadyOpen(agent_login)
    return instance


def desk_application() -> QApplication:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName("Agent Desk")
    app.setOrganizationName("agent-desk")
    app.setDesktopFileName("agent-desk")  # Wayland: the .desktop entry's icon and name
    app.setQuitOnLastWindowClosed(False)  # between start-up windows none may be visible
    if not app.property("agentDeskStyled"):  # once per process
        spare_source_scan()  # PySide6's import hook reads no more source files
        style_application(app)
        app.setProperty("agentDeskStyled", True)
    return app


def show_and_paint(window: QWidget, app: QApplication) -> None:
    """Show ``window`` and return once it has been painted (what the agent sees).

    The same definition as the bare window of bench/bench_startup.py.
    """
    painted = PaintWatch(window)
    window.show()
    for _turn in range(200):
        if painted.done:
            break
        app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 10)
    window.removeEventFilter(painted)


class PaintWatch(QObject):
    """Notes the first paint of a widget."""

    def __init__(self, widget: QWidget, on_paint: Callable[[], None] | None = None) -> None:
        super().__init__(widget)
        self.done = False
        self.on_paint = on_paint
        widget.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint and not self.done:
            self.done = True
            if self.on_paint is not None:
                self.on_paint()
        return False


def desk_is_usable(window: DeskWindow) -> bool:
    """The agent can work in ``window``: on screen, painted, keys reach it, F8 works."""
    focus = QApplication.focusWidget()
    return (
        window.isVisible()
        and focus is not None
        and (focus is window or window.isAncestorOf(focus))
        and window.actions_.next_customer.isEnabled()
    )


def _exit_when_usable(
    window: DeskWindow, app: QApplication, desk: DeskApp, crash_log: CrashLog
) -> None:
    """bench/bench_startup.py: exit once the desk's main window is painted and usable.

    Called as the window is shown (``window_ready``); waits for its first paint, checks
    that the agent could work in it (exit 3 if not) and leaves at once, without waiting
    for the worker's queued reads (the first queue page): the benchmark's figure is
    process start → desk usable. Nothing is written after this point; the crash log
    and the agent's lock are removed, as on a normal close.
    """
    painted = PaintWatch(window)
    for _turn in range(200):
        if painted.done:
            break
        app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 10)
    usable = painted.done and desk_is_usable(window)
    if not usable:
        print("agent-desk: the desk window was not usable when shown", file=sys.stderr)
    crash_log.disable()
    if desk.instance is not None:
        desk.instance.release()
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0 if usable else 3)


class EarlySignals:
    """SIGTERM/SIGINT caught from the first moment of the desk's process.

    The bridge is installed before the lock is taken and any window shown; a signal
    that arrives before the desk runs its event loop is noted here and acted on as
    soon as it does (the desk then closes through Qt as usual).
    """

    def __init__(self) -> None:
        self.bridge = SignalBridge()
        self.received: list[int] = []
        self.bridge.received.connect(self.received.append)

    def install(self) -> None:
        self.bridge.install()

    def watch(self) -> None:
        """The QApplication exists: signals wake its event loop from now on."""
        self.bridge.watch()

    def uninstall(self) -> None:
        self.bridge.uninstall()


def run_desk_at(
    url: str,
    *,
    demo: bool = False,
    lang: str | None = None,
    agent_login: str | None = None,
    quit_after_start: bool = False,
    quit_after_first_window: bool = False,
    quit_after_desk_window: bool = False,
) -> int:
    """The desk's process from a database URL: the start-up window is on screen first.

    The agent's lock is checked before any window (a second start shows none). The
    start-up window is shown and painted before SQLAlchemy, the models and the desk's
    window are imported (about half of the start); then the database is opened behind it.
    """
    signals = EarlySignals()
    signals.install()  # before the QApplication: a signal from now on closes the desk
    try:
        app = desk_application()
        signals.watch()
        try:  # before any window: a second start of an open desk shows nothing
            instance = claim_desk(agent_login)
        except DeskAlreadyOpen:
            return 0
        try:
            return _open_at(
                app,
                url,
                demo=demo,
                lang=lang,
                agent_login=agent_login,
                quit_after_start=quit_after_start,
                quit_after_first_window=quit_after_first_window,
                quit_after_desk_window=quit_after_desk_window,
                instance=instance,
                signals=signals,
            )
        finally:
            if instance is not None:
                instance.release()  # idempotent: the desk released it when it closed
    finally:
        signals.uninstall()


def _open_at(
    app: QApplication,
    url: str,
    *,
    demo: bool,
    lang: str | None,
    agent_login: str | None,
    quit_after_start: bool,
    quit_after_first_window: bool,
    quit_after_desk_window: bool,
    instance: SingleInstance | None,
    signals: EarlySignals,
) -> int:
    settings = DeskSettings()
    translator = Translator(choose_language(lang, settings))
    remembered = None
    if agent_login and url.strip().lower().startswith("sqlite:") and not quit_after_first_window:
        remembered = settings.remembered_actor(shown_url(url), agent_login)
    if remembered is not None:  # the desk's main window first, the database behind it
        deferred = DeferredDatabase(url, shown_url(url))
        try:
            return run_desk(
                deferred,
                demo=demo,
                lang=translator.lang,
                agent_login=agent_login,
                quit_after_start=quit_after_start,
                instance=instance,
                signals=signals,
                quit_after_desk_window=quit_after_desk_window,
                remembered=remembered,
            )
        finally:
            deferred.dispose()
    startup = StartupWindow(translator, shown_url(url), demo)
    show_and_paint(startup, app)
    if quit_after_first_window:  # bench/bench_startup.py: the first window's time
        startup.close()
        return 0
    from agent_desk.services.database import Database

    try:
        database = Database(url)
    except AgentDeskError as error:
        startup.close()
        print(f"agent-desk: {error}", file=sys.stderr)
        return 2 if isinstance(error, UsageError) else 1
    try:
        return run_desk(
            database,
            demo=demo,
            lang=translator.lang,
            agent_login=agent_login,
            quit_after_start=quit_after_start,
            startup=startup,
            instance=instance,
            signals=signals,
            quit_after_desk_window=quit_after_desk_window,
        )
    finally:
        database.dispose()


def run_desk(
    database: Database | DeferredDatabase,
    *,
    demo: bool = False,
    lang: str | None = None,
    agent_login: str | None = None,
    quit_after_start: bool = False,
    startup: StartupWindow | None = None,
    instance: SingleInstance | None = None,
    signals: EarlySignals | None = None,
    quit_after_desk_window: bool = False,
    remembered: Actor | None = None,
) -> int:
    """The desk's process: the QApplication, crash log, signals, until the desk closes.

    ``remembered``: the agent as seen at the last start on this SQLite database; the
    desk's window is built with it at once (``DeskApp.start_remembered``).
    """
    app = desk_application()
    crash_log = CrashLog(config.data_dir())
    previous = crash_log.take_previous()
    crash_log.enable()
    desk = DeskApp(
        database,
        demo=demo,
        lang=lang,
        agent_login=agent_login,
        previous_crash=previous,
        instance=instance,
    )
    desk.install_error_handling()
    own_signals = signals is None
    if signals is None:
        signals = EarlySignals()
        signals.install()
    signals.bridge.received.connect(lambda number: desk.request_close(f"signal {number}"))
    if signals.received:  # a signal came while the start-up window was shown
        number = signals.received[0]
        QTimer.singleShot(0, lambda: desk.request_close(f"signal {number}"))
    status = {"code": 0, "stopped": False}

    def stop(code: int) -> None:
        status["code"], status["stopped"] = code, True
        app.quit()  # (does nothing before app.exec(): then exec is not entered)

    desk.finished.connect(stop)
    if quit_after_start:  # once the desk is open: the window shown and the outbox open

        def quit_once_open(window: DeskWindow) -> None:
            def close() -> None:
                desk.request_close("started")

            window.offline.ready.connect(lambda: QTimer.singleShot(0, close))
            QTimer.singleShot(30_000, close)  # an outbox that never opens: close anyway

        desk.window_ready.connect(quit_once_open)
    if quit_after_desk_window:
        desk.window_ready.connect(lambda window: _exit_when_usable(window, app, desk, crash_log))
    if remembered is not None:
        desk.start_remembered(remembered)
    else:
        desk.start(startup)
    try:
        if not status["stopped"]:  # closed already while the window was being painted
            app.exec()
    finally:
        if own_signals:
            signals.uninstall()
        desk.shutdown()
        crash_log.disable()
    return status["code"]
