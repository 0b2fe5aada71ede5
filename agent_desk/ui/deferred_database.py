"""A database the desk opens only once its main window is on screen.

A start on SQLite by an agent this desk has seen before builds the main window with
the remembered agent first; SQLAlchemy, the models and the services (about two thirds
of the start) load afterwards, on the database worker. ``DeferredDatabase`` stands in
for ``services.database.Database`` in the worker: the first use on the worker waits
until ``release()`` (the window's first paint), then opens the real database there.
Until then nothing of the database libraries is imported.

``hold()`` refuses every later use until ``resume()``: the desk found that the agent it
remembered is not the one in the database, and what the first window queued must not
run as the wrong agent.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from agent_desk.errors import AgentDeskError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from agent_desk.services.database import Database

#: The longest the worker waits for the window's paint before it opens the database.
RELEASE_TIMEOUT = 5.0


class DeskReopening(AgentDeskError):
    """Work queued by a desk window that is being replaced (another agent or role)."""

    def __init__(self) -> None:
        super().__init__("The desk is opening again for the agent in the database.")


class DeferredDatabase:
    """The desk's database, opened on first use by the worker (after ``release()``)."""

    def __init__(self, url: str, display: str) -> None:
        self.text = url.strip()
        self.display = display
        self.is_sqlite = self.text.lower().startswith("sqlite")
        self._released = threading.Event()
        self._lock = threading.Lock()
        self._real: Database | None = None
        self._held = False

    # -- the GUI thread ------------------------------------------------------------

    def release(self) -> None:
        """The window is painted: the worker may load the libraries and open the database."""
        self._released.set()

    def wait_released(self) -> None:
        """Block (another thread: the outbox's writer) until the window is painted."""
        self._released.wait(RELEASE_TIMEOUT)

    @property
    def opened(self) -> bool:
        return self._real is not None

    # -- the worker ----------------------------------------------------------------

    def real(self) -> Database:
        """The opened database (opened here, after the release, on first use)."""
        if threading.current_thread() is threading.main_thread():
            self._released.set()  # asked for on the GUI thread: waiting would only stall it
        with self._lock:
            if self._real is None:
                self._released.wait(RELEASE_TIMEOUT)
                from agent_desk.services.database import Database

                self._real = Database(self.text)
            return self._real

    def hold(self) -> None:
        self._held = True

    def resume(self) -> None:
        self._held = False

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        if self._held:
            raise DeskReopening()
        with self.real().transaction() as session:
            yield session

    def __getattr__(self, name: str) -> Any:
        # Everything else a task or a listener asks of the database (engine, url, ...).
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.real(), name)

    def dispose(self) -> None:
        with self._lock:
            if self._real is not None:
                self._real.dispose()
