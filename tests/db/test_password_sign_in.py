"""Password sign-in end to end, against a private PostgreSQL that demands a password.

The shared test server trusts local connections, so only here does a wrong, missing
or remembered password make a difference: keyring -> connection, ``agent-desk login``,
the desk's start-up and its sign-in dialog, and a computer without a keyring. Nothing
is mocked but the keyring (in memory, or the "fail" backend) and the typing at the
``getpass`` prompt. See ``private_pg.py`` for the cluster.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import keyring
import psycopg
import pytest
from keyring.backends import fail
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QDialogButtonBox, QFormLayout, QWidget
from pytestqt.qtbot import QtBot
from sqlalchemy import text

from agent_desk.app import DeskApp
from agent_desk.cli import main
from agent_desk.config import resolve_database_url
from agent_desk.domain.codes import Role
from agent_desk.errors import DatabaseUnavailableError
from agent_desk.services import secrets
from agent_desk.services.actor import SYSTEM
from agent_desk.services.database import Database, parse_database_url
from agent_desk.services.startup import prepare_database
from agent_desk.services.team_security import add_user
from agent_desk.ui.dialogs.sign_in import SignIn, SignInDialog, needs_sign_in
from agent_desk.ui.prompter import RecordingPrompter
from agent_desk.ui.settings import DeskSettings
from tests.conftest import MemoryKeyring
from tests.db.private_pg import ClusterUnavailable, PrivateCluster, private_cluster

REQUIRE_PG = os.environ.get("AGENT_DESK_REQUIRE_PG") == "1"
DATABASE = "desk"
HOST = "127.0.0.1"
AGENT = "anna.desk"
# Spaces, quotes, a backslash, non-ASCII and URL delimiters: it must arrive unchanged.
AGENT_PASSWORD = "Zomer 2027 'é' \\ @:/?#"
WRONG_PASSWORD = "Herfst-2027-fout"
STALE_PASSWORD = "Lente-2026-oud"
SUPERUSER_PASSWORD = "Beheer-2027!"
NEW_USER, NEW_PASSWORD = "carla.desk", "Winter 2028 ~ ü"
WAIT = 20_000
# The offscreen platform cannot resize native windows; that notice is not our bug.
OFFSCREEN_NOISE = r"This plugin does not support propagateSizeHints\(\)"


@dataclass(frozen=True)
class Server:
    cluster: PrivateCluster

    @property
    def port(self) -> int:
        return self.cluster.port

    def url(self, user: str | None = None) -> str:
        return self.cluster.tcp_url(DATABASE, user)

    @property
    def service(self) -> str:
        return secrets.service_name(HOST, self.port, DATABASE)

    def refusal(self, user: str = AGENT) -> str:
        return (
            f"The server at {HOST}:{self.port} refused user '{user}': check the password "
            "('agent-desk login') or ask your supervisor for access."
        )


def _set_up(cluster: PrivateCluster) -> None:
    """As the superuser over the trusted socket: database, migrations, people."""
    with psycopg.connect(
        host=str(cluster.socket_dir), port=cluster.port, user="postgres", autocommit=True
    ) as connection:
        connection.execute(f'CREATE DATABASE "{DATABASE}"')
        verifier = connection.pgconn.encrypt_password(
            SUPERUSER_PASSWORD.encode(), b"postgres", b"scram-sha-256"
        )
        connection.execute(f"ALTER ROLE postgres PASSWORD '{verifier.decode('ascii')}'")
    with Database(cluster.superuser_url(DATABASE)) as owner:
        owner.upgrade()  # what 'agent-desk db upgrade' does
        with owner.transaction() as session:  # what 'agent-desk admin add-user' does
            add_user(session, SYSTEM, AGENT, "Anna de Vries", Role.AGENT, AGENT_PASSWORD)


@pytest.fixture(scope="session")
def server() -> Iterator[Server]:
    """A private cluster for this run: started once, stopped and removed at the end."""
    with ExitStack() as stack:
        try:
            cluster = stack.enter_context(private_cluster())
        except ClusterUnavailable as reason:
            if REQUIRE_PG:
                pytest.fail(f"{reason} (AGENT_DESK_REQUIRE_PG=1)")
            pytest.skip(str(reason))
        # Session set-up runs before the per-test in-memory keyring is installed:
        # never let it reach the real one.
        previous = keyring.get_keyring()
        keyring.set_keyring(MemoryKeyring())
        try:
            _set_up(cluster)
        finally:
            keyring.set_keyring(previous)
        yield Server(cluster)


@pytest.fixture(autouse=True)
def _only_the_keyring_knows_passwords(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[None]:
    """libpq must not find a password anywhere else (environment, ~/.pgpass)."""
    for name in ("PGPASSWORD", "PGUSER", "PGSERVICE", "PGSERVICEFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PGPASSFILE", str(tmp_path / "no-pgpass"))
    yield


@pytest.fixture
def no_keyring() -> Iterator[None]:
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())  # type: ignore[no-untyped-call]
    yield
    keyring.set_keyring(previous)


def stored() -> dict[tuple[str, str], str]:
    """What the tests' in-memory keyring holds (conftest installs one per test)."""
    backend = keyring.get_keyring()
    store = getattr(backend, "store", None)
    assert isinstance(store, dict), f"not the in-memory keyring: {backend!r}"
    return dict(store)


def typing(monkeypatch: pytest.MonkeyPatch, *answers: str) -> list[str]:
    """Answer the getpass prompts in order; returns the prompts shown."""
    prompts: list[str] = []
    replies = iter(answers)

    def fake_getpass(prompt: str = "") -> str:
        prompts.append(prompt)
        return next(replies)

    monkeypatch.setattr("getpass.getpass", fake_getpass)
    return prompts


def no_prompt(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("getpass.getpass", lambda prompt="": pytest.fail(f"asked: {prompt}"))


def current_user(database: Database) -> str:
    with database.transaction() as session:
        return str(session.scalar(text("SELECT current_user")))


def files_containing(folder: Path, secret: str) -> list[Path]:
    needle = secret.encode("utf-8")
    return [p for p in folder.rglob("*") if p.is_file() and needle in p.read_bytes()]


# ------------------------------------------------------------------------ the CLI


def test_login_keeps_the_password_in_the_keyring_and_the_desk_connects_with_it(
    server: Server, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = server.url(AGENT)
    # The server really demands a password: without one the desk is refused.
    with Database(url) as desk, pytest.raises(DatabaseUnavailableError) as refused:
        desk.check_connection()
    assert str(refused.value) == server.refusal()

    prompts = typing(monkeypatch, AGENT_PASSWORD)
    assert main(["login", "--database", server.url(), "--user", AGENT]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    assert out == (
        f"Signed in as {AGENT}; the password for {HOST}:{server.port}/{DATABASE} is in the keyring.\n"
    )
    assert prompts == [f"Password for {AGENT} on {HOST}:{server.port}/{DATABASE}: "]
    assert stored() == {(server.service, AGENT): AGENT_PASSWORD}

    # The desk's start-up path, nothing typed: URL from the environment, Database,
    # prepare_database; the password comes from the keyring alone.
    no_prompt(monkeypatch)
    monkeypatch.setenv("AGENT_DESK_DATABASE_URL", url)
    with Database(resolve_database_url(None).url) as desk:
        state = prepare_database(desk)
        assert not state.empty
        assert current_user(desk) == AGENT
        with desk.transaction() as session:
            assert session.scalar(
                text("SELECT pg_has_role(current_user, 'agent_desk_agent', 'MEMBER')")
            )
        assert AGENT_PASSWORD not in desk.display
    # A command from the shell uses the same keyring entry.
    assert main(["agents", "--json"]) == 0
    assert f'"login": "{AGENT}"' in capsys.readouterr().out
    # The server checked a SCRAM password for these sign-ins (no trust, no peer).
    assert f'connection authenticated: identity="{AGENT}" method=scram-sha-256' in (
        server.cluster.server_log()
    )


def test_a_wrong_password_is_refused_in_one_sentence_and_never_stored(
    server: Server, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    typing(monkeypatch, WRONG_PASSWORD)
    assert main(["login", "--database", server.url(AGENT)]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err == f"agent-desk: {server.refusal()}\n"
    assert stored() == {}

    # A password that works, stored earlier, survives a mistyped login.
    secrets.set_password(HOST, server.port, DATABASE, AGENT, AGENT_PASSWORD)
    typing(monkeypatch, WRONG_PASSWORD)
    assert main(["login", "--database", server.url(AGENT)]) == 1
    assert capsys.readouterr().err == f"agent-desk: {server.refusal()}\n"
    assert stored() == {(server.service, AGENT): AGENT_PASSWORD}

    # A stale password in the keyring: the app's one sentence, which sends the desk
    # to its sign-in dialog; no traceback, no password in the message.
    secrets.set_password(HOST, server.port, DATABASE, AGENT, STALE_PASSWORD)
    no_prompt(monkeypatch)
    with Database(server.url(AGENT)) as desk, pytest.raises(DatabaseUnavailableError) as refused:
        prepare_database(desk)
    assert str(refused.value) == server.refusal()
    assert needs_sign_in(refused.value)
    assert main(["agents", "--database", server.url(AGENT)]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err == f"agent-desk: {server.refusal()}\n"


def test_a_url_without_a_user_names_who_was_refused(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Bug fixed: the message said "refused user 'None'"; libpq used $PGUSER / the OS user."""
    monkeypatch.setenv("PGUSER", "someone.else")
    with Database(server.url()) as desk, pytest.raises(DatabaseUnavailableError) as refused:
        desk.check_connection()
    assert str(refused.value) == server.refusal("someone.else")
    assert needs_sign_in(refused.value)


def test_without_a_keyring_nothing_is_written_and_each_session_asks(
    server: Server,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    no_keyring: None,
) -> None:
    no_prompt(monkeypatch)  # a password that cannot be kept is not even asked for
    assert main(["login", "--database", server.url(AGENT)]) == 1
    assert capsys.readouterr() == (
        "",
        "agent-desk: No keyring is available on this computer, so the password cannot be "
        "remembered; the desk will ask for it each session.\n",
    )
    for _session in range(2):
        # Nothing remembered: the server refuses, which makes the desk ask (sign-in).
        with Database(server.url(AGENT)) as desk, pytest.raises(DatabaseUnavailableError) as no:
            prepare_database(desk)
        assert needs_sign_in(no.value)
        typed = SignIn(parse_database_url(server.url(AGENT)), AGENT_PASSWORD, remember=True)
        assert not typed.remember_in_keyring()
        with Database(typed.url, password=typed.password) as desk:
            prepare_database(desk)
            assert current_user(desk) == AGENT
    DeskSettings().sync()
    data = Path(os.environ["AGENT_DESK_DATA_DIR"])
    assert files_containing(data, AGENT_PASSWORD) == []


def test_admin_add_user_sets_a_password_the_new_person_signs_in_with(
    server: Server, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``agent-desk admin add-user --password-prompt`` over TCP, as a superuser whose
    own password comes from the keyring."""
    secrets.set_password(HOST, server.port, DATABASE, "postgres", SUPERUSER_PASSWORD)
    typing(monkeypatch, NEW_PASSWORD, NEW_PASSWORD)
    argv = ["admin", "add-user", "--database", server.url("postgres"), "--login", NEW_USER]
    assert main([*argv, "--name", "Carla Jansen", "--role", "supervisor", "--password-prompt"]) == 0
    out = capsys.readouterr().out
    assert out == (
        f"Added {NEW_USER} (Carla Jansen), role: supervisor with a sign-in role on the server.\n"
    )
    with Database(server.url(NEW_USER), password=NEW_PASSWORD) as desk:
        assert current_user(desk) == NEW_USER
    with (
        Database(server.url(NEW_USER), password=AGENT_PASSWORD) as desk,
        pytest.raises(DatabaseUnavailableError, match=f"refused user '{NEW_USER}'"),
    ):
        desk.check_connection()


# ------------------------------------------------------------- the desk (Qt)


@pytest.fixture
def quiet_app(qapp: QApplication) -> QApplication:
    qapp.setQuitOnLastWindowClosed(False)  # between start-up windows none may be visible
    return qapp


def start_desk(database: Database) -> DeskApp:
    desk = DeskApp(database, lang="en", prompter=RecordingPrompter(), settings=DeskSettings())
    desk.start()
    return desk


def wait_for_sign_in(qtbot: QtBot, desk: DeskApp, after: object = None) -> SignInDialog:
    qtbot.waitUntil(
        lambda: desk.sign_in is not None and desk.sign_in is not after and desk.sign_in.isVisible(),
        timeout=WAIT,
    )
    assert desk.sign_in is not None
    return desk.sign_in


def form_position(dialog: SignInDialog, widget: QWidget) -> tuple[int, QFormLayout.ItemRole]:
    position = dialog.form.getWidgetPosition(widget)
    assert isinstance(position, tuple)
    row, role = position
    return int(row), role


def type_into(dialog: SignInDialog, fields: dict[str, str]) -> None:
    for name, value in fields.items():
        edit = getattr(dialog, name)
        edit.clear()
        for char in value:  # QTest types ASCII only; others arrive as from an input method
            if char.isascii():
                QTest.keyClicks(edit, char)
            else:
                edit.insert(char)
        assert edit.text() == value


def click_sign_in(dialog: SignInDialog) -> None:
    button = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
    assert button.isEnabled()
    QTest.mouseClick(button, Qt.MouseButton.LeftButton)


def wait_until_connected(qtbot: QtBot, desk: DeskApp) -> None:
    """Connected and read as the person who signed in: the agent picker lists them."""
    qtbot.waitUntil(lambda: desk.picker is not None and desk.picker.isVisible(), timeout=WAIT)
    assert desk.picker is not None
    names = [desk.picker.list.item(row).text() for row in range(desk.picker.list.count())]
    assert any("Anna de Vries" in name for name in names)


def close(desk: DeskApp, *databases: Database) -> None:
    for dialog in (desk.picker, desk.sign_in):
        if dialog is not None:
            dialog.close()
            dialog.deleteLater()
    desk.shutdown()
    for database in databases:
        database.dispose()


@pytest.mark.qt_log_ignore(OFFSCREEN_NOISE)
def test_the_sign_in_dialog_connects_and_remembers_the_password(
    qtbot: QtBot, server: Server, quiet_app: QApplication
) -> None:
    start = Database(server.url())  # no user, nothing in the keyring: the agent types it all
    desk = start_desk(start)
    try:
        dialog = wait_for_sign_in(qtbot, desk)
        assert dialog.problem.isVisible() and "refused user" in dialog.problem.text()
        type_into(
            dialog,
            {
                "server": f"{HOST}:{server.port}",
                "database": DATABASE,
                "user": AGENT,
                "password": AGENT_PASSWORD,
            },
        )
        QTest.keyClick(dialog.remember, Qt.Key.Key_Space)
        assert dialog.remember.isChecked()
        click_sign_in(dialog)
        wait_until_connected(qtbot, desk)
        assert stored() == {(server.service, AGENT): AGENT_PASSWORD}
        assert current_user(desk.database) == AGENT
        assert AGENT_PASSWORD not in desk.database.display
    finally:
        close(desk, start)
    # The next session starts from the keyring without asking.
    again = Database(server.url(AGENT))
    desk = start_desk(again)
    try:
        wait_until_connected(qtbot, desk)
        assert desk.sign_in is None
    finally:
        close(desk, again)


@pytest.mark.qt_log_ignore(OFFSCREEN_NOISE)
def test_a_wrong_password_in_the_dialog_is_explained_beside_the_password(
    qtbot: QtBot, server: Server, quiet_app: QApplication
) -> None:
    start = Database(server.url(AGENT))
    desk = start_desk(start)
    try:
        first = wait_for_sign_in(qtbot, desk)
        type_into(first, {"password": WRONG_PASSWORD})
        first.remember.setChecked(True)
        click_sign_in(first)
        dialog = wait_for_sign_in(qtbot, desk, after=first)
        # The refusal, in one sentence, in the row under the password field.
        assert dialog.problem.text() == server.refusal()
        assert dialog.problem.isVisible()
        password_row, _ = form_position(dialog, dialog.password)
        assert form_position(dialog, dialog.problem) == (
            password_row + 1,
            QFormLayout.ItemRole.FieldRole,
        )
        # What was typed is still there, except the password that did not work.
        assert dialog.server.text() == f"{HOST}:{server.port}"
        assert (dialog.database.text(), dialog.user.text()) == (DATABASE, AGENT)
        assert dialog.password.text() == ""
        assert dialog.remember.isChecked()  # bug fixed: the tick was lost on a retry
        assert stored() == {}
        assert WRONG_PASSWORD not in dialog.problem.text()

        type_into(dialog, {"password": AGENT_PASSWORD})
        click_sign_in(dialog)
        wait_until_connected(qtbot, desk)
        assert stored() == {(server.service, AGENT): AGENT_PASSWORD}
    finally:
        close(desk, start)


@pytest.mark.qt_log_ignore(OFFSCREEN_NOISE)
def test_without_a_keyring_the_desk_asks_each_session_and_keeps_nothing(
    qtbot: QtBot, server: Server, quiet_app: QApplication, no_keyring: None
) -> None:
    for _session in range(2):
        start = Database(server.url(AGENT))
        desk = start_desk(start)
        try:
            dialog = wait_for_sign_in(qtbot, desk)
            assert not dialog.remember.isEnabled() and not dialog.remember.isChecked()
            type_into(dialog, {"password": AGENT_PASSWORD})
            click_sign_in(dialog)
            wait_until_connected(qtbot, desk)
            assert current_user(desk.database) == AGENT
        finally:
            close(desk, start)
    data = Path(os.environ["AGENT_DESK_DATA_DIR"])
    assert Path(DeskSettings().path).parent == data  # where the desk keeps its files
    assert files_containing(data, AGENT_PASSWORD) == []


# ---------------------------------------------------------------- the server side


def test_no_password_ever_reached_the_server_log_as_text(server: Server) -> None:
    """Runs last: every statement and sign-in of this module is in the server log."""
    log = server.cluster.server_log()
    assert "ALTER ROLE" in log and "SCRAM-SHA-256$" in log  # the verifier, not the text
    for password in (
        AGENT_PASSWORD,
        WRONG_PASSWORD,
        STALE_PASSWORD,
        NEW_PASSWORD,
        SUPERUSER_PASSWORD,
    ):
        assert password not in log
