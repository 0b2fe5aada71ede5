"""One desk per agent and data folder.

Two desks of the same agent on one laptop would share one offline outbox and replay
it twice, and the agent would not know which window holds their work. The first desk
takes a ``QLockFile`` in the data folder (the lock names the agent) and listens on a
``QLocalServer``; a second start finds the lock taken, asks the first desk over the
local socket to come to the front, says "Agent Desk is already open" and exits 0.

A lock left by a desk that crashed is stale: Qt sees that its process is gone (same
host, process id no longer running that program) and the next start takes it over.
The stale time by age is off (0), since a desk legitimately runs for days.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from PySide6.QtCore import QLockFile, QObject, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

from agent_desk.private_files import private_dir

RAISE = b"raise\n"
ALREADY_OPEN = "Agent Desk is already open"
_WAIT_MS = 2000


def _key(folder: Path, agent: str) -> str:
    return hashlib.sha256(f"{folder.resolve()}\0{agent}".encode()).hexdigest()[:20]


class SingleInstance(QObject):
    """The claim of one agent's desk on one data folder."""

    raise_requested = Signal()  # a second start asked this desk to come to the front

    def __init__(self, folder: Path, agent: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.folder = folder
        self.agent = agent
        key = _key(folder, agent)
        self.lock_path = folder / f"desk-{key}.lock"
        self.server_name = f"agent-desk-{key}"
        self._lock = QLockFile(str(self.lock_path))
        self._lock.setStaleLockTime(0)  # stale only when its desk's process is gone
        self._server: QLocalServer | None = None

    @property
    def held(self) -> bool:
        return self._lock.isLocked()

    def claim(self) -> bool:
        """Take the lock (a stale one is taken over) and listen; False if another desk has it."""
        private_dir(self.folder)
        if not self._lock.tryLock(100):
            return False
        server = QLocalServer(self)
        server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        QLocalServer.removeServer(self.server_name)  # the socket file of a crashed desk
        if server.listen(self.server_name):
            server.newConnection.connect(self._connected)
            self._server = server
        return True

    def ask_first_to_raise(self) -> bool:
        """Tell the desk that holds the lock to show itself; False if it did not answer."""
        socket = QLocalSocket()
        socket.connectToServer(self.server_name)
        if not socket.waitForConnected(_WAIT_MS):
            return False
        socket.write(RAISE)
        sent = socket.waitForBytesWritten(_WAIT_MS)
        socket.disconnectFromServer()
        return sent

    def _connected(self) -> None:
        assert self._server is not None
        while (socket := self._server.nextPendingConnection()) is not None:
            socket.readyRead.connect(lambda s=socket: self._read(s))
            socket.disconnected.connect(socket.deleteLater)
            if socket.bytesAvailable():
                self._read(socket)

    def _read(self, socket: QLocalSocket) -> None:
        if bytes(socket.readAll().data()).startswith(RAISE.strip()):
            self.raise_requested.emit()

    def release(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        if self._lock.isLocked():
            self._lock.unlock()
