"""The first start works or explains itself: what Qt's window needs, in one sentence."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from agent_desk.display_check import DEBIAN_PACKAGES, missing_libraries, problem, qt_files

LDD_TWO_MISSING = """\
\tlinux-vdso.so.1 (0x00007ffd)
\tlibxcb-cursor.so.0 => /lib/x86_64-linux-gnu/libxcb-cursor.so.0 (0x00007f)
\tlibxcb-icccm.so.4 => not found
\tlibxcb-keysyms.so.1 => not found
\tlibxcb.so.1 => /lib/x86_64-linux-gnu/libxcb.so.1 (0x00007f)
"""


def fake_ldd(output: str):  # type: ignore[no-untyped-def]
    return lambda _path: output


PLUGIN = [Path("libqxcb.so"), Path("libQt6XcbQpa.so.6")]


def test_missing_xcb_libraries_name_the_debian_packages() -> None:
    sentence = problem(
        {"DISPLAY": ":0"}, platform="linux", files=PLUGIN, ldd=fake_ldd(LDD_TWO_MISSING)
    )
    assert sentence is not None
    assert "sudo apt-get install libxcb-icccm4 libxcb-keysyms1" in sentence
    assert "libxcb-icccm.so.4, libxcb-keysyms.so.1" in sentence
    assert sentence.count(".") <= 8 and "\n" not in sentence  # one sentence


def test_a_complete_system_and_other_platforms_pass() -> None:
    ok = LDD_TWO_MISSING.replace("=> not found", "=> /lib/x.so (0x1)")
    assert problem({"DISPLAY": ":0"}, platform="linux", files=PLUGIN, ldd=fake_ldd(ok)) is None
    assert problem({"QT_QPA_PLATFORM": "offscreen"}, platform="linux", files=PLUGIN) is None
    assert problem({}, platform="win32") is None
    assert problem({"WAYLAND_DISPLAY": "wayland-0"}, platform="linux", files=PLUGIN) is None


def test_no_display_is_said_plainly() -> None:
    sentence = problem({}, platform="linux", files=PLUGIN, ldd=fake_ldd(LDD_TWO_MISSING))
    assert sentence is not None and "no display" in sentence and "DISPLAY" in sentence
    asked = problem({"QT_QPA_PLATFORM": "wayland"}, platform="linux", files=PLUGIN)
    assert asked is not None and "WAYLAND_DISPLAY" in asked


def test_each_library_is_named_once_and_unknown_ones_by_their_file() -> None:
    twice = LDD_TWO_MISSING + "\tlibxcb-icccm.so.4 => not found\n\tlibfoo.so.9 => not found\n"
    assert missing_libraries(PLUGIN, fake_ldd(twice)) == [
        "libxcb-icccm.so.4",
        "libxcb-keysyms.so.1",
        "libfoo.so.9",
    ]
    sentence = problem({"DISPLAY": ":0"}, platform="linux", files=PLUGIN, ldd=fake_ldd(twice))
    assert sentence is not None and "libfoo.so.9" in sentence


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the xcb plugin is Linux's")
def test_the_real_plugin_on_this_machine_agrees_with_the_linker() -> None:
    files = qt_files()
    assert files, "PySide6 ships the xcb plugin"
    real = subprocess.run(["ldd", str(files[0])], capture_output=True, text=True, check=False)
    missing = [line.split()[0] for line in real.stdout.splitlines() if "not found" in line]
    sentence = problem({"DISPLAY": ":0"}, platform="linux")
    if missing:
        assert sentence is not None
        for name in missing:
            assert name in sentence
            assert DEBIAN_PACKAGES.get(name, name) in sentence
    else:
        assert sentence is None


def test_the_desk_without_a_display_exits_1_with_one_sentence(tmp_path: Path) -> None:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")
    }
    done = subprocess.run(
        [sys.executable, "-m", "agent_desk", "--database", f"sqlite:///{tmp_path / 'd.sqlite3'}"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "no display" in lines[0], done.stderr
