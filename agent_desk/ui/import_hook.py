"""PySide6's import hook without its source scan (a tenth of the desk's start-up).

Once PySide6 is imported it replaces ``builtins.__import__`` to support its optional
``from __feature__ import snake_case, true_property``. After every import of a module
it has not seen, it decides whether that module "uses PySide" by reading the module's
whole source file (``inspect.getsource``) and searching it for the word ``PySide6``:
for the desk's ~400 modules (SQLAlchemy's included) that is about a tenth of the time
to a usable desk, spent reading files.

The answer only matters to modules that switch a feature on, and the desk never does
(no ``__feature__`` anywhere). ``spare_source_scan`` gives PySide6 the same answer
from the module's namespace instead: a module uses PySide if it holds a PySide6
module, class or object. Guarded: with a PySide6 whose hook looks different, nothing
is changed.
"""

from __future__ import annotations

import sys
from types import ModuleType

_PYSIDE = ("PySide6", "shiboken6")


def uses_pyside(module: ModuleType) -> bool:
    """Whether ``module`` holds anything of PySide6 (read from its namespace, not its file)."""
    for value in list(vars(module).values()):
        if isinstance(value, ModuleType):
            name = value.__name__
        elif isinstance(value, type):
            name = value.__module__
        else:
            name = type(value).__module__
        if isinstance(name, str) and name.startswith(_PYSIDE):
            return True
    return False


def spare_source_scan() -> bool:
    """Replace PySide6's source scan with ``uses_pyside``; True if it was (or is) replaced."""
    feature = sys.modules.get("shibokensupport.feature")
    scan = getattr(feature, "_mod_uses_pyside", None)
    if feature is None or not callable(scan):
        return False
    if scan is uses_pyside:
        return True
    feature._mod_uses_pyside = uses_pyside  # type: ignore[attr-defined]
    return True
