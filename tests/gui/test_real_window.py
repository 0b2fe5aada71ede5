"""The desk on the real xcb platform in an X server at 1366×768 (Xvfb), not offscreen.

The offscreen platform cannot say whether a window fits a screen: its windows are
never framed or clamped. This test starts Xvfb (``xvfb-run``; .ci/run installs it)
and runs ``real_window_probe.py`` in a child process with ``QT_QPA_PLATFORM=xcb``.
It is never skipped: without Xvfb it fails and says how to install it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

PROBE = Path(__file__).with_name("real_window_probe.py")


def run_probe(tmp_path: Path, size: str, lang: str, scale: str | None = None) -> dict[str, object]:
    xvfb_run = shutil.which("xvfb-run")
    assert xvfb_run, "xvfb-run is missing: apt-get install xvfb xauth (see .ci/run)"
    env = {k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM", "DISPLAY")}
    env.update(QT_QPA_PLATFORM="xcb", AGENT_DESK_DATA_DIR=str(tmp_path / "data"))
    if scale:
        env["QT_SCALE_FACTOR"] = scale
    done = subprocess.run(
        [xvfb_run, "-a", "-s", f"-screen 0 {size}x24", sys.executable, str(PROBE), lang],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    assert done.returncode == 0 and lines, done.stdout + done.stderr
    result = json.loads(lines[-1])
    assert isinstance(result, dict)
    return result


def inside(rect: list[int], screen: list[int]) -> bool:
    x, y, w, h = rect[:4]
    sx, sy, sw, sh = screen
    return sx <= x and sy <= y and x + w <= sx + sw and y + h <= sy + sh and w > 0 and h > 0


@pytest.mark.parametrize(
    ("size", "lang", "scale"),
    [("1366x768", "en", None), ("1366x768", "nl", None), ("1920x1080", "nl", "1.5")],
)
def test_the_desk_fits_a_laptop_screen_and_does_not_grow(
    tmp_path: Path, size: str, lang: str, scale: str | None
) -> None:
    result = run_probe(tmp_path, size, lang, scale)
    assert result["platform"] == "xcb"
    screen = result["screen"]
    frames = result["frames"]
    assert isinstance(screen, list) and isinstance(frames, list)
    for frame in frames:
        assert inside(frame, screen), (frame, screen)
    # Five customers later the window has the size it had after the first.
    assert all(frame[2:] == frames[0][2:] for frame in frames), frames
    assert isinstance(result["minimum_width"], int) and result["minimum_width"] <= 1024
    for part in ("script", "file", "next"):
        rect = result[part]
        assert isinstance(rect, list) and rect[4] == 1, part
        assert inside(rect, screen), (part, rect, screen)
    assert result["focus_on_script"] is True
