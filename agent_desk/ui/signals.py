"""SIGTERM and SIGINT close the desk through Qt, like the agent closing its window.

Python runs a signal handler only when the interpreter gets control, and during
``app.exec()`` Qt's event loop has it. So the C-level handler writes the signal's
number into a socket (``signal.set_wakeup_fd``) that a ``QSocketNotifier`` watches:
Qt wakes up, and ``received`` is emitted inside the event loop, where the desk
closes its window (layout saved, holds released, outbox closed) and quits.

``install()`` can come before the QApplication exists (the signal is then noted in
the socket); ``watch()`` starts watching it in Qt's event loop once there is one. A
timer drains the socket too, once a second: a signal is acted on even when the
notifier did not wake the loop.
"""

from __future__ import annotations

import signal
import socket
from types import FrameType
from typing import Any

from PySide6.QtCore import QCoreApplication, QObject, QSocketNotifier, QTimer, Signal

SIGNALS = (signal.SIGTERM, signal.SIGINT)
#: How often the socket is drained besides the notifier (milliseconds).
DRAIN_EVERY = 1000


def _note(_signum: int, _frame: FrameType | None) -> None:
    """The Python-level handler: nothing to do, the wakeup byte carries the signal."""


class SignalBridge(QObject):
    received = Signal(int)  # the signal's number

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._reader, self._writer = socket.socketpair()
        self._reader.setblocking(False)
        self._writer.setblocking(False)
        self._notifier: QSocketNotifier | None = None
        self._timer: QTimer | None = None
        self._previous: dict[int, Any] = {}
        self._previous_fd: int | None = None
        self._closed = False

    def install(self) -> None:
        """Catch the signals from now on (before or after the QApplication is made)."""
        self._previous_fd = signal.set_wakeup_fd(self._writer.fileno(), warn_on_full_buffer=False)
        for number in SIGNALS:
            self._previous[number] = signal.signal(number, _note)
        self.watch()

    def watch(self) -> bool:
        """Watch the socket in Qt's event loop (once a QApplication exists; idempotent)."""
        if self._notifier is not None or self._closed:
            return self._notifier is not None
        if QCoreApplication.instance() is None:
            return False
        self._notifier = QSocketNotifier(self._reader.fileno(), QSocketNotifier.Type.Read, self)
        self._notifier.activated.connect(self._drain)
        self._timer = QTimer(self)
        self._timer.setInterval(DRAIN_EVERY)
        self._timer.timeout.connect(self._drain)
        self._timer.start()
        self._drain()  # what came before there was a loop to wake
        return True

    def uninstall(self) -> None:
        for number, handler in self._previous.items():
            signal.signal(number, handler)
        self._previous.clear()
        if self._previous_fd is not None:
            signal.set_wakeup_fd(self._previous_fd)
            self._previous_fd = None
        if self._notifier is not None:
            self._notifier.setEnabled(False)
        if self._timer is not None:
            self._timer.stop()
        self._closed = True
        self._reader.close()
        self._writer.close()

    def _drain(self) -> None:
        if self._closed:
            return
        try:
            data = self._reader.recv(64)
        except OSError:
            return
        for number in data:
            if number in SIGNALS:
                self.received.emit(number)
