"""Start-up of the desk against a bare PySide6 window, whole process, side by side.

Run: ``python bench/bench_startup.py [--runs 11] [--customers 300] [--bundle DIR]``.

What "start-up" means here (issue 16: "start-up to a shown window", "the desk is
usable while the first queue page loads"): **process start → the first window shown
and painted**. Each figure is the wall time of a whole process, from ``exec`` to exit,
on the offscreen platform, with the same definition for both sides:

- ``bare``: ``QApplication``, a ``QMainWindow`` shown; the process exits once Qt has
  painted it (the anchor, what any PySide6 program pays);
- ``desk``: ``agent-desk --agent sanne --quit-after-first-window`` on a SQLite
  database with demo data: the display check, the QApplication with the desk's
  fonts, theme and icon, the desk's first window (the start-up window: "Opening the
  database…") shown; the process exits once Qt has painted it. SQLAlchemy, the
  models and the desk's main window are imported after this point, behind the
  painted start-up window (agent_desk.app.run_desk_at);
- ``desk_usable``: ``agent-desk --agent sanne --quit-after-start``: further, until
  the database is opened and checked at its newest revision and the desk's main
  window is shown with its actions enabled while its first queue page is still
  loading; then closed as the agent closes it (layout saved, holds released,
  outbox closed). Printed for honesty: this is the time until the agent can work,
  not the target figure;
- ``bundle`` (with ``--bundle DIR``, an unpacked bundle folder): the ``desk`` start
  of the frozen program.

"Painted" is the first ``QEvent.Paint`` of the window, seen by an event filter, in
both the bare script and the desk (agent_desk.app.show_and_paint).

The runs alternate (bare, desk, …, then reversed) after one warm-up of each, so a
machine whose speed drifts affects all alike; the medians, the ratio of the medians
and the median of the pairwise ratios are printed. Target (issue 16): desk ≤ 4 × bare.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BARE = """
import sys
from PySide6.QtCore import QEvent, QEventLoop, QObject
from PySide6.QtWidgets import QApplication, QMainWindow

class PaintWatch(QObject):
    done = False
    def eventFilter(self, watched, event):
        if event.type() == QEvent.Type.Paint:
            self.done = True
        return False

app = QApplication(sys.argv[:1])
window = QMainWindow()
window.setWindowTitle("bare")
window.resize(1440, 900)
watch = PaintWatch()
window.installEventFilter(watch)
window.show()
for _turn in range(200):
    if watch.done:
        break
    app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 10)
window.close()
"""


def timed(command: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"bench_startup: {command[-1]} failed: {done.stderr[-1000:]}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--runs", type=int, default=11, help="counted runs of each (default 11)")
    parser.add_argument("--customers", type=int, default=300, help="demo customers (default 300)")
    parser.add_argument("--bundle", type=Path, help="an unpacked bundle folder to time as well")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-startup-") as folder:
        root = Path(folder)
        url = f"sqlite:///{root / 'desk.sqlite3'}"
        env = {
            **os.environ,
            "QT_QPA_PLATFORM": "offscreen",
            "AGENT_DESK_DATA_DIR": str(root / "data"),
        }
        # As on an agent's machine: the bytecode cache is written once and then used
        # (a shell that sets PYTHONDONTWRITEBYTECODE would make every run compile).
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        desk = [sys.executable, "-m", "agent_desk"]
        for setup in (["db", "upgrade"], ["demo", "--customers", str(args.customers)]):
            subprocess.run(
                [*desk, *setup, "--database", url], env=env, check=True, capture_output=True
            )
        start = ["--database", url, "--lang", "en", "--agent", "sanne"]
        first = [*start, "--quit-after-first-window"]
        commands = {
            "bare": [sys.executable, "-c", BARE],
            "desk": [*desk, *first],
            "desk_usable": [*desk, *start, "--quit-after-start"],
        }
        if args.bundle is not None:
            commands["bundle"] = [str(args.bundle.resolve() / "agent-desk"), *first]
        for command in commands.values():  # warm-up: the OS file cache, .pyc files
            timed(command, env)
        times: dict[str, list[float]] = {name: [] for name in commands}
        names = list(commands)
        for run in range(args.runs):
            order = names if run % 2 == 0 else list(reversed(names))
            for name in order:
                times[name].append(timed(commands[name], env))

    bare = statistics.median(times["bare"])
    print(f"machine: {os.cpu_count()} cores; {args.runs} runs each, alternated; whole process")
    for name, values in times.items():
        line = (
            f"startup_{name}_s  median {statistics.median(values):.3f}  "
            f"min {min(values):.3f}  max {max(values):.3f}"
        )
        if name != "bare":
            pairs = [a / b for a, b in zip(values, times["bare"], strict=True)]
            line += (
                f"  ratio_to_bare {statistics.median(values) / bare:.2f}"
                f" (pairwise median {statistics.median(pairs):.2f})"
            )
        print(line)
    print("start-up: process start -> first window shown and painted (same for bare and desk)")
    print("target: startup_desk_s <= 4 x startup_bare_s (desk_usable: until the desk can be used)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
