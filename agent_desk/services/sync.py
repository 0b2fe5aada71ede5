"""Live sync: read the change log incrementally and get woken when it grows.

A desk remembers the last change id it saw and asks for what came after it
(``ChangeCursor``); a listener wakes it when there is something new: on PostgreSQL a
``LISTEN`` on :data:`~agent_desk.services.changelog.NOTIFY_CHANNEL` in a background
thread with its own connection (``ChangeListener``), on SQLite a poll of the highest
change id (``PollingListener``). Notifications are only hints: after every
(re)connect the listener calls ``on_reconnect`` and the desk reads from its cursor,
so a missed notification loses nothing.

Own echo: every change-log row names the desk session that made it (``origin``,
migration 0010). A desk already refreshed from what its own action changed, so its
listener does not wake it for rows of its own origin (``own_origin``) and its cursor
leaves them out of the summary; a colleague's change (another origin, or none) still
wakes it at once.

Listeners are Qt-free; their callbacks run on the listener's own thread, so a UI
must hand them over to its GUI thread (a queued signal) and must not touch a
``Session`` in them. Callbacks should return quickly.

Why gaps: PostgreSQL hands out change ids when rows are inserted but makes them
visible at commit, so id 11 can become visible after id 12. A cursor that simply
jumped to 12 would never see 11. ``ChangeCursor`` therefore remembers the holes
below its high-water mark for ``gap_timeout`` (longer than any write transaction)
and asks for them again on every read. Holes left by rolled-back transactions are
forgotten when they time out.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Self

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from agent_desk.models import ChangeLog
from agent_desk.services.changelog import NOTIFY_CHANNEL
from agent_desk.services.database import Database

if TYPE_CHECKING:
    import psycopg

log = logging.getLogger(__name__)


# --------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class Change:
    """One changed row, as the change log recorded it."""

    id: int
    table: str
    row_id: int
    kind: str  # insert | update | delete
    customer_id: int | None
    origin: str | None = None  # the desk session that made it (None: a tool)


@dataclass(frozen=True)
class ChangeSummary:
    """What a batch of changes touched, so each view decides whether to refresh.

    ``last_id`` is the highest id in the batch (or the id the reader started from when
    the batch is empty); ``complete`` is False when the batch hit the read limit and
    the desk should read again at once. ``origins`` are the desk sessions the counted
    changes came from (None: a tool); ``own`` counts the reader's own changes that were
    left out (its echo, see ``ChangeCursor.own_origin``).
    """

    last_id: int
    count: int = 0
    customer_ids: frozenset[int] = frozenset()
    tables: frozenset[str] = frozenset()
    rows: dict[str, frozenset[int]] = field(default_factory=dict)
    complete: bool = True
    origins: frozenset[str | None] = frozenset()
    own: int = 0

    @property
    def empty(self) -> bool:
        return self.count == 0

    def touches(self, *tables: str) -> bool:
        return any(t in self.tables for t in tables)

    def touches_customer(self, customer_id: int) -> bool:
        return customer_id in self.customer_ids

    def came_from(self, origin: str) -> bool:
        """Every counted change was made by the desk session ``origin``."""
        return bool(self.count) and self.origins == frozenset({origin})

    @classmethod
    def of(
        cls,
        changes: Sequence[Change],
        since: int,
        *,
        complete: bool = True,
        skip_origin: str | None = None,
    ) -> ChangeSummary:
        """Sum ``changes`` up; those made by ``skip_origin`` only count as ``own``."""
        last_id = max((c.id for c in changes), default=since)
        counted = [c for c in changes if skip_origin is None or c.origin != skip_origin]
        rows: dict[str, set[int]] = {}
        for change in counted:
            rows.setdefault(change.table, set()).add(change.row_id)
        return cls(
            last_id=last_id,
            count=len(counted),
            customer_ids=frozenset(c.customer_id for c in counted if c.customer_id is not None),
            tables=frozenset(rows),
            rows={table: frozenset(ids) for table, ids in rows.items()},
            complete=complete,
            origins=frozenset(c.origin for c in counted),
            own=len(changes) - len(counted),
        )


def _read(session: Session, condition: ColumnElement[bool], limit: int) -> list[Change]:
    statement = (
        select(
            ChangeLog.id,
            ChangeLog.table_name,
            ChangeLog.row_id,
            ChangeLog.kind,
            ChangeLog.customer_id,
            ChangeLog.origin,
        )
        .where(condition)
        .order_by(ChangeLog.id)
        .limit(limit)
    )
    return [
        Change(int(r[0]), r[1], int(r[2]), r[3], r[4], r[5]) for r in session.execute(statement)
    ]


def changes_since(session: Session, last_id: int, limit: int = 1000) -> list[Change]:
    """The changes after ``last_id``, oldest first, at most ``limit``."""
    if limit < 1:
        raise ValueError("limit must be 1 or more")
    return _read(session, ChangeLog.id > last_id, limit)


def summarize(changes: Sequence[Change], since: int = 0) -> ChangeSummary:
    return ChangeSummary.of(changes, since)


def latest_change_id(session: Session) -> int:
    """Where a desk that has just loaded everything starts reading."""
    return int(session.scalar(select(func.coalesce(func.max(ChangeLog.id), 0))) or 0)


class ChangeCursor:
    """A desk's position in the change log, including holes that may still fill.

    ``own_origin``: the desk session reading; its own changes are passed over in the
    summaries (counted in ``own``), the desk refreshed from its action already.
    Not thread-safe: use it from the thread that owns the session (the desk's
    database worker).
    """

    def __init__(
        self,
        last_id: int = 0,
        *,
        gap_timeout: float = 300.0,
        max_gaps: int = 500,
        clock: Callable[[], float] = time.monotonic,
        own_origin: str | None = None,
    ) -> None:
        self.last_id = last_id
        self.own_origin = own_origin
        self.gap_timeout = gap_timeout
        self.max_gaps = max_gaps
        self._clock = clock
        # Holes below last_id, as inclusive ranges, with the time they were first seen.
        self._gaps: list[tuple[int, int, float]] = []

    @property
    def pending_gaps(self) -> list[tuple[int, int]]:
        return [(low, high) for low, high, _seen in self._gaps]

    def read(self, session: Session, limit: int = 1000) -> ChangeSummary:
        """Everything new since the last read (and late arrivals in earlier holes)."""
        now = self._clock()
        self._gaps = [g for g in self._gaps if now - g[2] < self.gap_timeout]
        since = self.last_id
        condition: ColumnElement[bool] = ChangeLog.id > since
        if self._gaps:
            holes = [and_(ChangeLog.id >= low, ChangeLog.id <= high) for low, high, _ in self._gaps]
            condition = or_(condition, *holes)
        changes = _read(session, condition, limit)
        late = {c.id for c in changes if c.id <= since}
        if late:
            self._fill(late)
        previous = since
        for change in changes:
            if change.id <= since:
                continue
            if change.id > previous + 1:
                self._gaps.append((previous + 1, change.id - 1, now))
            previous = change.id
        self.last_id = previous
        del self._gaps[: max(0, len(self._gaps) - self.max_gaps)]
        return ChangeSummary.of(
            changes, since, complete=len(changes) < limit, skip_origin=self.own_origin
        )

    def _fill(self, ids: set[int]) -> None:
        remaining: list[tuple[int, int, float]] = []
        for low, high, seen in self._gaps:
            start = low
            for found in sorted(i for i in ids if low <= i <= high):
                if found > start:
                    remaining.append((start, found - 1, seen))
                start = found + 1
            if start <= high:
                remaining.append((start, high, seen))
        self._gaps = remaining


# --------------------------------------------------------------------------- listening


class ConnectionState(StrEnum):
    ONLINE = "online"
    OFFLINE = "offline"


WakeCallback = Callable[[int], None]
ReconnectCallback = Callable[[], None]
StateCallback = Callable[[ConnectionState, str], None]


def _ignore_wake(_max_id: int) -> None:
    return None


def _ignore_reconnect() -> None:
    return None


def _ignore_state(_state: ConnectionState, _reason: str) -> None:
    return None


class _ListenerThread:
    """What both listeners share: the thread, the callbacks and the state changes."""

    thread_name = "agent-desk-listener"

    def __init__(
        self,
        on_wake: WakeCallback | None,
        on_reconnect: ReconnectCallback | None,
        on_state: StateCallback | None,
        own_origin: str | None = None,
    ) -> None:
        self.own_origin = own_origin
        self.echoes = 0  # wakes left out because only the desk's own changes came
        self.on_wake = on_wake or _ignore_wake
        self.on_reconnect = on_reconnect or _ignore_reconnect
        self.on_state = on_state or _ignore_state
        self.state: ConnectionState | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("the listener is already running")
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=self.thread_name, daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop listening and wait for the thread to end."""
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def _run(self) -> None:
        raise NotImplementedError

    def _call(self, callback: Callable[..., None], *args: Any) -> None:
        try:
            callback(*args)
        except Exception:  # a bad callback must not kill the listener
            log.exception("change listener callback %r failed", callback)

    def _set_state(self, state: ConnectionState, reason: str = "") -> None:
        if state is not self.state:
            self.state = state
            if state is ConnectionState.OFFLINE:
                log.warning("database connection lost: %s", reason)
            self._call(self.on_state, state, reason)


class ChangeListener(_ListenerThread):
    """PostgreSQL: ``LISTEN`` on its own autocommit connection in a background thread.

    ``on_wake(max_id)`` for every notification; ``on_reconnect()`` every time the
    listener is (re)connected and listening, including the first time, so the desk
    reads from its cursor then; ``on_state(state, reason)`` when the connection goes
    offline or comes back. A dead connection is noticed by the notification wait
    failing or by a ``SELECT 1`` heartbeat every ``heartbeat`` seconds (TCP keepalives
    and ``tcp_user_timeout`` bound how long a silent network drop can hide).
    Reconnects back off from ``retry_initial`` to ``retry_max`` seconds.
    """

    thread_name = "agent-desk-change-listener"

    def __init__(
        self,
        conninfo: dict[str, Any],
        *,
        on_wake: WakeCallback | None = None,
        on_reconnect: ReconnectCallback | None = None,
        on_state: StateCallback | None = None,
        channel: str = NOTIFY_CHANNEL,
        poll_interval: float = 0.25,
        heartbeat: float = 2.0,
        retry_initial: float = 0.2,
        retry_max: float = 10.0,
        own_origin: str | None = None,
    ) -> None:
        super().__init__(on_wake, on_reconnect, on_state, own_origin)
        self.conninfo = dict(conninfo)
        self.channel = channel
        self.poll_interval = poll_interval
        self.heartbeat = heartbeat
        self.retry_initial = retry_initial
        self.retry_max = retry_max
        self.connects = 0
        self._backend_pid: int | None = None
        self._looked_up_to: int | None = None  # the newest change id an echo check saw

    @classmethod
    def for_database(cls, database: Database, **kwargs: Any) -> ChangeListener:
        return cls(listener_conninfo(database), **kwargs)

    @property
    def backend_pid(self) -> int | None:
        """The server process of the current connection (None while offline)."""
        return self._backend_pid

    def _run(self) -> None:
        import psycopg  # PostgreSQL only: not loaded by a desk on SQLite

        delay = self.retry_initial
        while not self._stop.is_set():
            try:
                connection = psycopg.connect(autocommit=True, **self.conninfo)
                self._looked_up_to = None  # the desk reads all on (re)connect
            except psycopg.Error as error:
                self._set_state(ConnectionState.OFFLINE, _reason(error))
                self._stop.wait(delay)
                delay = min(delay * 2, self.retry_max)
                continue
            try:
                with connection:
                    connection.execute(f'LISTEN "{self.channel}"')
                    self._backend_pid = connection.info.backend_pid
                    self.connects += 1
                    delay = self.retry_initial
                    self._set_state(ConnectionState.ONLINE)
                    self._call(self.on_reconnect)
                    self._listen(connection)
            except psycopg.Error as error:
                self._set_state(ConnectionState.OFFLINE, _reason(error))
                self._stop.wait(delay)
                delay = min(delay * 2, self.retry_max)
            finally:
                self._backend_pid = None

    def _listen(self, connection: psycopg.Connection[Any]) -> None:
        last_beat = time.monotonic()
        while not self._stop.is_set():
            # The generator holds the connection: gather, then look at the rows.
            arrived = list(connection.notifies(timeout=self.poll_interval, stop_after=1))
            for notify in arrived:
                max_id = _payload_id(notify.payload)
                if self._own_echo(connection, max_id):
                    self.echoes += 1
                    continue
                self._call(self.on_wake, max_id)
                if self._stop.is_set():
                    return
            if time.monotonic() - last_beat >= self.heartbeat:
                connection.execute("SELECT 1")
                last_beat = time.monotonic()

    def _own_echo(self, connection: psycopg.Connection[Any], max_id: int) -> bool:
        """Only this desk's own changes came since the listener last looked.

        Not just the notified row: a claim's wake-up hint is sent by one desk at a
        time (``queue_claims``), so a colleague's claim committed meanwhile may have
        no notification of its own, and rides on this desk's; its row may even be
        newer than the notified one. So every row after the last one looked at
        counts (row security shows only the rows this person may read)."""
        if self.own_origin is None or max_id <= 0:
            return False
        since = self._looked_up_to
        if since is None:  # the first notification: its own row says it
            row = connection.execute("SELECT origin FROM change_log WHERE id = %s", (max_id,))
            found = row.fetchone()
            own = found is not None and found[0] == self.own_origin
        else:
            row = connection.execute(
                "SELECT count(*) FROM change_log WHERE id > %s "
                "AND (origin IS NULL OR origin <> %s)",
                (since, self.own_origin),
            )
            counted = row.fetchone()
            own = counted is not None and int(counted[0]) == 0
        self._looked_up_to = max(max_id, since or 0)
        return own


class PollingListener(_ListenerThread):
    """SQLite (or any database without ``LISTEN``): watch for commits of others.

    Same callbacks as :class:`ChangeListener`. On SQLite it keeps one connection open
    and asks ``PRAGMA data_version`` every ``interval`` (20 ms by default): the
    number changes whenever another connection commits, and asking costs a memory
    read, no disk access and no transaction. Only then does it read the highest
    change id; ``on_wake`` fires when that grew. So a colleague's change on the same
    database file wakes the desk within a few tens of milliseconds, where polling
    ``max(id)`` every half second took up to 500 ms. (Other databases: the highest
    change id every ``interval``.)
    """

    thread_name = "agent-desk-change-poller"

    def __init__(
        self,
        database: Database,
        *,
        on_wake: WakeCallback | None = None,
        on_reconnect: ReconnectCallback | None = None,
        on_state: StateCallback | None = None,
        interval: float = 0.02,
        own_origin: str | None = None,
    ) -> None:
        super().__init__(on_wake, on_reconnect, on_state, own_origin)
        self.database = database
        self.interval = interval
        self.last_seen: int | None = None
        self.data_version: int | None = None  # the last PRAGMA data_version seen
        self.version_changes = 0  # how often it changed (for tests and benchmarks)

    def _run(self) -> None:
        online = False
        raw: Any = None
        while not self._stop.is_set():
            try:
                if raw is None:
                    raw = self.database.engine.raw_connection()
                highest = self._highest_if_changed(raw)
            except Exception as error:
                online = False
                self.data_version = None
                if raw is not None:
                    with suppress(Exception):
                        raw.invalidate()
                    raw = None
                self._set_state(ConnectionState.OFFLINE, _reason(error))
            else:
                if not online:
                    online = True
                    if highest is not None:
                        self.last_seen = highest
                    self._set_state(ConnectionState.ONLINE)
                    self._call(self.on_reconnect)
                elif highest is not None and (self.last_seen is None or highest > self.last_seen):
                    since, self.last_seen = self.last_seen, highest
                    if since is not None and self._only_own(raw, since, highest):
                        self.echoes += 1
                    else:
                        self._call(self.on_wake, highest)
            self._stop.wait(self.interval)
        if raw is not None:
            with suppress(Exception):
                raw.close()

    def _highest_if_changed(self, raw: Any) -> int | None:
        """The highest change id when something may have changed since the last look,
        else ``None``. Never leaves a transaction open (it would hold back WAL
        checkpoints)."""
        cursor = raw.cursor()
        try:
            if self.database.is_sqlite:
                cursor.execute("PRAGMA data_version")
                version = int(cursor.fetchone()[0])
                if version == self.data_version and self.last_seen is not None:
                    return None
                if self.data_version is not None:
                    self.version_changes += 1
                self.data_version = version
            cursor.execute("SELECT coalesce(max(id), 0) FROM change_log")
            highest = int(cursor.fetchone()[0])
        finally:
            cursor.close()
        raw.rollback()
        return highest

    def _only_own(self, raw: Any, since: int, highest: int) -> bool:
        """SQLite: every change in (since, highest] is this desk's own (ids come in
        commit order there, so nothing below can still appear)."""
        if self.own_origin is None or not self.database.is_sqlite:
            return False
        cursor = raw.cursor()
        try:
            cursor.execute(
                "SELECT count(*) FROM change_log WHERE id > ? AND id <= ? "
                "AND (origin IS NULL OR origin <> ?)",
                (since, highest, self.own_origin),
            )
            others = int(cursor.fetchone()[0])
        finally:
            cursor.close()
        raw.rollback()
        return others == 0


def listener_for(
    database: Database,
    *,
    on_wake: WakeCallback | None = None,
    on_reconnect: ReconnectCallback | None = None,
    on_state: StateCallback | None = None,
    own_origin: str | None = None,
) -> ChangeListener | PollingListener:
    """The right listener for the database (not started yet); ``own_origin``: the desk
    session listening, not woken for its own changes."""
    if database.is_sqlite:
        return PollingListener(
            database,
            on_wake=on_wake,
            on_reconnect=on_reconnect,
            on_state=on_state,
            own_origin=own_origin,
        )
    return ChangeListener.for_database(
        database,
        on_wake=on_wake,
        on_reconnect=on_reconnect,
        on_state=on_state,
        own_origin=own_origin,
    )


def listener_conninfo(database: Database) -> dict[str, Any]:
    """psycopg connection arguments for the database's server (with the password).

    Keepalives and ``tcp_user_timeout`` make a silently dropped VPN show as an error
    within seconds instead of minutes.
    """
    url = database.engine.url
    info: dict[str, Any] = {
        "host": url.host,
        "port": url.port or 5432,
        "dbname": url.database,
        "user": url.username,
        "connect_timeout": 5,
        "application_name": "agent-desk-listener",
        "keepalives": 1,
        "keepalives_idle": 5,
        "keepalives_interval": 2,
        "keepalives_count": 2,
        "tcp_user_timeout": 5000,
    }
    if url.password:
        info["password"] = str(url.password)
    for key, value in url.query.items():
        info[key] = value if isinstance(value, str) else value[-1]
    return {k: v for k, v in info.items() if v is not None}


def _payload_id(payload: str) -> int:
    try:
        return int(payload)
    except ValueError:
        return 0


def _reason(error: BaseException) -> str:
    original = getattr(error, "orig", None) or error
    lines = str(original).strip().splitlines()
    return lines[0] if lines else type(original).__name__
