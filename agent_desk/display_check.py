"""Before the first window: can Qt show one here? If not, say what to install.

Qt's own message when a library of its X11 (xcb) platform plugin is missing is a
paragraph of plugin jargon followed by an abort (exit 134), and it names the wrong
library. This check runs before the ``QApplication`` is made: it asks the dynamic
linker (``ldd``) which libraries of the plugin cannot be found and turns their names
into the Debian/Ubuntu packages to install, in one sentence. No Qt is imported here.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

# The libraries Qt's xcb plugin and QtGui load, and the Debian/Ubuntu package of each.
DEBIAN_PACKAGES = {
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb-util.so.1": "libxcb-util1",
    "libxcb.so.1": "libxcb1",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libX11.so.6": "libx11-6",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libEGL.so.1": "libegl1",
    "libGL.so.1": "libgl1",
    "libOpenGL.so.0": "libopengl0",
    "libfontconfig.so.1": "libfontconfig1",
    "libfreetype.so.6": "libfreetype6",
    "libdbus-1.so.3": "libdbus-1-3",
    "libglib-2.0.so.0": "libglib2.0-0",
}

_NOT_FOUND = re.compile(r"^\s*(\S+)\s+=>\s+not found", re.MULTILINE)

Ldd = Callable[[Path], str]


def _ldd(path: Path) -> str:
    try:
        done = subprocess.run(
            ["ldd", str(path)], capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return ""  # no ldd: let Qt try
    return done.stdout


def qt_files() -> list[Path]:
    """The xcb plugin and the Qt libraries it pulls in, where PySide6 installed them."""
    spec = importlib.util.find_spec("PySide6")
    if spec is None or not spec.submodule_search_locations:
        return []
    qt = Path(next(iter(spec.submodule_search_locations))) / "Qt"
    candidates = [
        qt / "plugins" / "platforms" / "libqxcb.so",
        qt / "lib" / "libQt6XcbQpa.so.6",
        qt / "lib" / "libQt6Gui.so.6",
    ]
    return [p for p in candidates if p.exists()]


def missing_libraries(files: list[Path], ldd: Ldd = _ldd) -> list[str]:
    """Sonames the linker cannot find for these files, each once, in the order seen."""
    missing: list[str] = []
    for path in files:
        for name in _NOT_FOUND.findall(ldd(path)):
            if name not in missing:
                missing.append(name)
    return missing


def problem(
    env: Mapping[str, str] | None = None,
    *,
    platform: str = sys.platform,
    files: list[Path] | None = None,
    ldd: Ldd = _ldd,
) -> str | None:
    """One sentence saying why no window can be shown, or ``None`` when it can."""
    env = os.environ if env is None else env
    if not platform.startswith("linux"):
        return None
    chosen = env.get("QT_QPA_PLATFORM", "").split(":")[0].strip().lower()
    if chosen and chosen not in ("xcb", "wayland"):
        return None  # offscreen, vnc, eglfs…: the user knows what they asked for
    x11 = bool(env.get("DISPLAY"))
    wayland = bool(env.get("WAYLAND_DISPLAY"))
    if chosen == "wayland" and not wayland:
        return (
            "Qt was asked for Wayland but there is no Wayland display (WAYLAND_DISPLAY is "
            "not set): start the desk from a desktop session."
        )
    if chosen == "wayland" or (not chosen and wayland and not x11):
        return None
    if not x11:
        return (
            "There is no display to show the desk on (DISPLAY is not set): start it from a "
            "desktop session, or use the agent-desk commands without a window (see "
            "'agent-desk --help')."
        )
    missing = missing_libraries(qt_files() if files is None else files, ldd)
    if not missing:
        return None
    packages = sorted({DEBIAN_PACKAGES.get(name, name) for name in missing})
    return (
        f"The desk's window needs system libraries that are missing ({', '.join(missing)}); "
        f"on Debian or Ubuntu install them with: sudo apt-get install {' '.join(packages)}"
    )
