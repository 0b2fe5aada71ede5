"""The Qt desk. Importing it guards against a PySide6 6.12 refcount bug (see _pyside_fix)."""

from agent_desk.ui._pyside_fix import make_singletons_immortal

make_singletons_immortal()
