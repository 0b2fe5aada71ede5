"""SIGTERM and SIGINT close the desk through Qt, like the agent closing its window.

Python runs a signal handler only when the interpreter gets control, and during
``app.exec()`` Qt's event loop has it. So the C-level handler writes the signal's
number into a socket (``signal.set_wakeup_fd``) that a ``QSocketNotifier`` watches:
Qt wakes up, and ``received`` is emitted inside the event loop, where the desk
closes its window (layout saved, holds released, outbox closed) and quits.
"""

from __future__ import annotations

import signal
import socket
from types import FrameType
from typing import Any

from PySide6.QtCore import QObject, QSocketNotifier, Signal

SIGNALS = (signal.SIGTERM, signal.SIGINT)


def _note(_signum: int, _frame: FrameType | None) -> None:
    """The Python-level handler: nothing to do, the wakeup byte carries the signal."""


class SignalBridge(QObject):
    received = Signal(int)  # the signal's number

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._reader, self._writer = socket.socketpair()
        self._reader.setblocking(False)
        self._writer.setblocking(False)
        self._notifier = QSocketNotifier(self._reader.fileno(), QSocketNotifier.Type.Read, self)
        self._notifier.activated.connect(self._drain)
        self._previous: dict[int, Any] = {}
        self._previous_fd: int | None = None

    def install(self) -> None:
        self._previous_fd = signal.set_wakeup_fd(self._writer.fileno(), warn_on_full_buffer=False)
        for number in SIGNALS:
            self._previous[number] = signal.signal(number, _note)

    def uninstall(self) -> None:
        for number, handler in self._previous.items():
            signal.signal(number, handler)
        self._previous.clear()
        if self._previous_fd is not None:
            signal.set_wakeup_fd(self._previous_fd)
            self._previous_fd = None
        self._notifier.setEnabled(False)
        self._reader.close()
        self._writer.close()

    def _drain(self) -> None:
        try:
            data = self._reader.recv(64)
        except OSError:
            return
        for number in data:
            if number in SIGNALS:
                self.received.emit(number)
