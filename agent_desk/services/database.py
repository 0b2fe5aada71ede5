"""Opening the database: URL checks, engine set-up, migrations, transactions.

One ``Database`` per process (built by the composition root); services never make
their own engine. Every failure to open or reach the database becomes a
``DatabaseUnavailableError`` with one sentence a person can act on.
"""

from __future__ import annotations

import getpass
import logging
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, inspect
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import (
    ArgumentError,
    DBAPIError,
    DisconnectionError,
    IntegrityError,
    NoSuchModuleError,
    OperationalError,
    ProgrammingError,
)
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from agent_desk.config import data_dir
from agent_desk.errors import (
    ConflictError,
    DatabaseUnavailableError,
    PermissionDeniedError,
    UsageError,
    ValidationError,
)
from agent_desk.private_files import private_dir, private_sqlite
from agent_desk.services import secrets
from agent_desk.services.changelog import install_change_log
from agent_desk.services.search_index import install_search_index

log = logging.getLogger(__name__)

SUPPORTED = {"sqlite", "postgresql"}
_INSUFFICIENT_PRIVILEGE = "42501"  # SQLSTATE: grants or row-level security said no
_CHECK_VIOLATION = "23514"  # SQLSTATE: the database's guards found figures that do not hold


def parse_database_url(text: str) -> URL:
    """Check a URL and fill in the driver; passwords in URLs are refused."""
    try:
        url = make_url(text.strip())
    except ArgumentError:
        raise UsageError(
            "'{text}' is not a database URL; use e.g. sqlite:///path/to/desk.sqlite3 or "
            "postgresql://user@server/database.",
            text=text,
        ) from None
    backend = url.get_backend_name()
    if backend not in SUPPORTED:
        raise UsageError(
            "Agent Desk works with SQLite or PostgreSQL, not '{backend}'; use a sqlite:/// or "
            "postgresql:// URL.",
            backend=backend,
        )
    if url.password:
        raise UsageError(
            "Do not put a password in the database URL; store it in the keyring with "
            "'agent-desk login' and leave it out of the URL."
        )
    if backend == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
        if not url.host or not url.database:
            raise UsageError(
                "A PostgreSQL URL needs a server and a database, e.g. "
                "postgresql://sanne@desk.example.nl/collections."
            )
    return url


def display_url(url: URL) -> str:
    """The URL as shown to people and written to logs: never with a password."""
    return url.render_as_string(hide_password=True)


class Database:
    """Engine, session factory and schema management for one database."""

    def __init__(self, url: str | URL, *, password: str | None = None, echo: bool = False) -> None:
        self.url = parse_database_url(url) if isinstance(url, str) else url
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        connect_url = self.url
        if not self.is_sqlite:
            secret = password or secrets.get_password(
                self.url.host or "", self.url.port, self.url.database or "", self.url.username or ""
            )
            if secret:
                connect_url = self.url.set(password=secret)
        else:
            self._ensure_sqlite_folder()
        self.engine = self._create_engine(connect_url, echo)
        self.sessions: sessionmaker[Session] = sessionmaker(self.engine, expire_on_commit=False)
        install_change_log(self.sessions)
        install_search_index(self.sessions)

    @property
    def display(self) -> str:
        return display_url(self.url)

    @property
    def dialect(self) -> str:
        return self.url.get_backend_name()

    def _ensure_sqlite_folder(self) -> None:
        database = self.url.database
        if database and database != ":memory:":
            try:
                path = Path(database).expanduser()
                if path.parent.resolve() == data_dir().resolve():
                    # The desk's own folder and embedded database: the user's alone.
                    private_dir(path.parent)
                    private_sqlite(path)
                else:
                    path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as error:
                raise DatabaseUnavailableError(
                    "Cannot create the folder for the database file {database}: {reason}.",
                    database=database,
                    reason=error.strerror,
                ) from None

    def _create_engine(self, url: URL, echo: bool) -> Engine:
        # hide_parameters: an error or a log line never carries a row's personal data.
        kwargs: dict[str, Any] = {"echo": echo, "future": True, "hide_parameters": True}
        if self.is_sqlite:
            kwargs["connect_args"] = {"timeout": 30}
        else:
            kwargs["connect_args"] = {"connect_timeout": 5, "application_name": "agent-desk"}
        try:
            engine = create_engine(url, **kwargs)
        except NoSuchModuleError:
            raise UsageError("No database driver for '{driver}'.", driver=url.drivername) from None
        if self.is_sqlite:
            event.listen(engine, "connect", _sqlite_pragmas)
        else:
            _ping_when_idle(engine)
        return engine

    def check_connection(self) -> None:
        """Connect once, turning any failure into one plain sentence."""
        try:
            with self.engine.connect() as connection:
                connection.exec_driver_sql("SELECT 1")
        except (OperationalError, DBAPIError) as error:
            raise self._explain(error) from None

    def _explain(self, error: DBAPIError) -> DatabaseUnavailableError:
        if self.is_sqlite:
            return DatabaseUnavailableError(
                "Cannot open the database file {database}: {reason}.",
                database=self.url.database,
                reason=_first_line(error),
            )
        where = f"{self.url.host}:{self.url.port or 5432}"
        reason = _first_line(error)
        lowered = reason.lower()
        if (
            "password" in lowered
            or "authentication" in lowered
            or 'fatal:  role "' in lowered  # no such role, or it may not log in
        ):
            return DatabaseUnavailableError(
                "The server at {where} refused user '{user}': "
                "check the password ('agent-desk login') or ask your supervisor for access.",
                where=where,
                user=self.url.username or _default_user(),
            )
        if "permission denied for database" in lowered:
            return DatabaseUnavailableError(
                "User '{user}' may not use the database '{database}' on {where}; ask your "
                "supervisor for access.",
                where=where,
                user=self.url.username or _default_user(),
                database=self.url.database,
            )
        if "does not exist" in reason:
            return DatabaseUnavailableError(
                "The server at {where} has no database '{database}'.",
                where=where,
                database=self.url.database,
            )
        return DatabaseUnavailableError(
            "Cannot reach the database server at {where}; check your VPN or network ({reason}).",
            where=where,
            reason=reason,
        )

    def is_empty(self) -> bool:
        return "alembic_version" not in inspect(self.engine).get_table_names()

    def upgrade(self) -> None:
        """Apply all migrations (also creates the schema in an empty database)."""
        from agent_desk.services.migrate import upgrade_to_head

        self.check_connection()
        upgrade_to_head(self.engine)

    def is_current(self) -> bool:
        from agent_desk.services.migrate import is_at_head

        return is_at_head(self.engine)

    @contextmanager
    def batch(self) -> Iterator[Connection]:
        """One transaction for several units of work, committed at the end.

        Each unit is a ``transaction(within=connection)``: a savepoint, so a unit that
        fails rolls back alone and the others are committed together (or, with
        ``savepoint=False``, a unit that fails rolls back the batch).
        """
        try:
            with self.engine.begin() as connection:
                yield connection
        except OperationalError as error:
            raise self._explain(error) from None

    @contextmanager
    def transaction(
        self, within: Connection | None = None, *, savepoint: bool = True
    ) -> Iterator[Session]:
        """One unit of work: commit on success, roll back on any error.

        A stale versioned write becomes a ``ConflictError``; nothing is written then.
        ``within`` a ``batch``, the unit is a savepoint of the batch's transaction:
        "commit" releases it, an error rolls back only this unit. With
        ``savepoint=False`` (two round trips fewer) "commit" only flushes and an error
        rolls back the whole batch.
        """
        if within is None:
            session = self.sessions()
        else:
            mode = "create_savepoint" if savepoint else "rollback_only"
            session = self.sessions(bind=within, join_transaction_mode=mode)
        try:
            yield session
            session.commit()
        except StaleDataError:
            session.rollback()
            raise ConflictError(
                "A colleague changed this customer while you were working; nothing was "
                "overwritten. The latest data is shown; your text is kept."
            ) from None
        except OperationalError as error:
            session.rollback()
            raise self._explain(error) from None
        except ProgrammingError as error:
            session.rollback()
            if getattr(error.orig, "sqlstate", None) == _INSUFFICIENT_PRIVILEGE:
                raise PermissionDeniedError(
                    "The database refused this for your role; ask a supervisor if you need it "
                    "({error}).",
                    error=_first_line(error),
                ) from None
            raise
        except IntegrityError as error:
            session.rollback()
            if getattr(error.orig, "sqlstate", None) == _CHECK_VIOLATION:
                raise ValidationError(
                    "The database refused these figures; nothing was saved ({error}).",
                    error=_first_line(error),
                ) from None
            raise
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    @contextmanager
    def autocommitted(self) -> Iterator[Any]:
        """A pooled server connection in autocommit (``.driver_connection``, ``.info``).

        For the hot paths that are one simple query (a claim and its hint): no
        ``Connection``, ``Session`` or isolation-level bookkeeping around it. Errors
        become the same plain sentences as in :meth:`transaction`; a broken
        connection is dropped from the pool. PostgreSQL only.
        """
        import psycopg

        pooled = self.engine.raw_connection()
        raw = pooled.driver_connection
        assert isinstance(raw, psycopg.Connection)
        try:
            raw.autocommit = True
            yield pooled
        except psycopg.Error as error:
            wrapped = DBAPIError.instance(None, None, error, psycopg.Error)
            if raw.broken or raw.closed:
                pooled.invalidate(error)
            raise (
                self._friendly(wrapped) if isinstance(wrapped, DBAPIError) else wrapped
            ) from None
        finally:
            if pooled.is_valid:
                with suppress(psycopg.Error):
                    if raw.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                        raw.rollback()
                    raw.autocommit = False
            pooled.close()

    def _friendly(self, error: DBAPIError) -> Exception:
        """The error a person reads for a database error (as :meth:`transaction` says)."""
        sqlstate = getattr(error.orig, "sqlstate", None)
        if isinstance(error, OperationalError):
            return self._explain(error)
        if isinstance(error, ProgrammingError) and sqlstate == _INSUFFICIENT_PRIVILEGE:
            return PermissionDeniedError(
                "The database refused this for your role; ask a supervisor if you need it "
                "({error}).",
                error=_first_line(error),
            )
        if isinstance(error, IntegrityError) and sqlstate == _CHECK_VIOLATION:
            return ValidationError(
                "The database refused these figures; nothing was saved ({error}).",
                error=_first_line(error),
            )
        return error

    def dispose(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.dispose()


#: A pooled server connection unused for longer than this is pinged before use.
PING_AFTER_IDLE_SECONDS = 1.0
_CHECKED_IN_AT = "agent_desk.checked_in_at"  # key in the pool record's info


def _ping_when_idle(engine: Engine) -> None:
    """Pessimistic disconnect handling, but only for a connection that sat in the pool.

    ``pool_pre_ping`` costs a round trip on every checkout: a third of a claim's. A
    connection handed back a moment ago (a desk claiming, a burst of queries) is
    used as is; one idle for longer than :data:`PING_AFTER_IDLE_SECONDS` (the VPN
    may have dropped, the server restarted) is pinged first and, when dead, replaced
    by a fresh one before anyone sees an error (the pool retries a checkout that
    raises ``DisconnectionError``).
    """

    def checked_in(_dbapi_connection: Any, record: Any) -> None:
        record.info[_CHECKED_IN_AT] = time.monotonic()

    def checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.pop(_CHECKED_IN_AT, None)
        if since is None or time.monotonic() - since < PING_AFTER_IDLE_SECONDS:
            return  # just connected, or just used
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as error:
            log.info("a pooled connection was dead (%s); reconnecting", _first_line(error))
            raise DisconnectionError() from None

    event.listen(engine, "checkin", checked_in)
    event.listen(engine, "checkout", checkout)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _default_user() -> str:
    """Who libpq signs in as when the URL names nobody: $PGUSER, else the OS user."""
    with suppress(Exception):  # getpass finds no user in some containers
        return os.environ.get("PGUSER") or getpass.getuser()
    return "?"


def _first_line(error: BaseException) -> str:
    original = getattr(error, "orig", None) or error
    text = str(original).strip().splitlines()
    return text[0].rstrip(".") if text else type(original).__name__
