"""Work around a reference-count bug of PySide6 6.12 on Python 3.11.

PySide6 6.12.0 hands out ``None``/``True``/``False`` from Qt's ``QVariant`` without
taking a reference (e.g. ``index.data(UserRole)``, ``combo.currentData()``, item
views deleting their items). On Python 3.12+ these objects are immortal and nothing
happens; on 3.11 their count drifts down until the interpreter aborts with
"none_dealloc"/"bool_dealloc" after some hours of work. We give them a reference
count they can never exhaust, which is what Python 3.12 does itself.
"""

from __future__ import annotations

import ctypes
import sys

_DONE = False


def make_singletons_immortal() -> None:
    global _DONE
    if _DONE or sys.version_info >= (3, 12) or sys.implementation.name != "cpython":
        return
    for singleton in (None, True, False):
        ctypes.c_ssize_t.from_address(id(singleton)).value += 1 << 40
    _DONE = True
