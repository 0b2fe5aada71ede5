"""Start-up of the desk against a bare PySide6 window, whole process, side by side.

Run: ``python bench/bench_startup.py [--runs 11] [--customers 300] [--bundle DIR]``.

It prints the **anchor**, the **project** and their **ratio** (issue 16: "start-up ≤ 4×
a bare PySide6 window ... and the desk is usable while the first queue page loads").
Each figure is the wall time of a whole process, from ``exec`` to exit, on the
offscreen platform, and its CPU time (user + system, from the OS):

- anchor, ``bare``: ``QApplication``, a ``QMainWindow`` shown; the process exits once
  Qt has painted it (what any PySide6 program pays);
- project, ``desk``: ``agent-desk --agent sanne --quit-after-desk-window`` on a SQLite
  database with demo data, as an agent starts the desk every day (the warm-up run was
  the agent's first start here, so the desk knows the agent): the display check, the
  agent's lock, the QApplication with the desk's fonts, theme and icon, the desk's
  **main window** (queue, file and script columns, menus, action bar, status bar) built
  with the remembered agent, shown and painted, with the keyboard focus in it and its
  actions enabled while the database is opened and its first queue page loads on the
  worker behind it; the process checks that (exit 3 if not) and exits at once
  (agent_desk.app._exit_when_usable);
- ``desk_first`` (shown for comparison): the same on a fresh data folder, an agent's
  first start on this machine: the start-up window, the database opened and the agent
  looked up before the main window is built;
- ``first_window`` (shown for comparison): ``--quit-after-first-window``, until the
  desk's first window (the start-up window, "Opening the database…") is painted;
- ``bundle`` (with ``--bundle DIR``, an unpacked bundle folder): the project's start
  of the frozen program.

"Painted" is the first ``QEvent.Paint`` of the window, seen by an event filter, in
both the bare script and the desk.

The runs alternate (bare, desk, …, then reversed) after one warm-up of each, so a
machine whose speed drifts affects all alike; the medians, the ratio of the medians
and the median of the pairwise ratios are printed. Target (issue 16): project ≤ 4 × anchor.
"""

from __future__ import annotations

import argparse
import os
import resource
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


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU seconds of one whole run of ``command``."""
    cpu = _children_cpu()
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"bench_startup: {command[-1]} failed: {done.stderr[-1000:]}")
    return elapsed, _children_cpu() - cpu


def _line(label: str, walls: list[float], cpus: list[float], anchor: list[float]) -> str:
    line = (
        f"{label}  median {statistics.median(walls):.3f} s"
        f"  (min {min(walls):.3f}, max {max(walls):.3f}; cpu {statistics.median(cpus):.3f} s)"
    )
    if walls is not anchor:
        pairs = [a / b for a, b in zip(walls, anchor, strict=True)]
        line += (
            f"  ratio {statistics.median(walls) / statistics.median(anchor):.2f}"
            f" (pairwise median {statistics.median(pairs):.2f})"
        )
    return line


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
        project = [*start, "--quit-after-desk-window"]
        commands = {
            "bare": [sys.executable, "-c", BARE],
            "desk": [*desk, *project],
            "desk_first": [*desk, *project],  # each run on a fresh data folder
            "first_window": [*desk, *start, "--quit-after-first-window"],
        }
        fresh = iter(range(10_000))

        def env_for(name: str) -> dict[str, str]:
            if name != "desk_first":
                return env
            return {**env, "AGENT_DESK_DATA_DIR": str(root / f"fresh-{next(fresh)}")}

        if args.bundle is not None:
            commands["bundle"] = [str(args.bundle.resolve() / "agent-desk"), *project]
        for name, command in commands.items():  # warm-up: the OS file cache, .pyc files
            timed(command, env_for(name))
        walls: dict[str, list[float]] = {name: [] for name in commands}
        cpus: dict[str, list[float]] = {name: [] for name in commands}
        names = list(commands)
        for run in range(args.runs):
            order = names if run % 2 == 0 else list(reversed(names))
            for name in order:
                wall, cpu = timed(commands[name], env_for(name))
                walls[name].append(wall)
                cpus[name].append(cpu)

    anchor = walls["bare"]
    print(f"machine: {os.cpu_count()} cores; {args.runs} runs each, alternated; whole process")
    labels = {
        "bare": "anchor   bare PySide6 window shown and painted     ",
        "desk": "project  desk main window shown and usable        ",
        "desk_first": "also     the same, agent's first start here       ",
        "first_window": "also     desk's first window (start-up) painted   ",
        "bundle": "also     bundle: desk main window shown and usable",
    }
    for name in names:
        print(_line(labels[name], walls[name], cpus[name], anchor))
    ratio = statistics.median(walls["desk"]) / statistics.median(anchor)
    verdict = "met" if ratio <= 4 else "not met"
    print(f"target: project <= 4 x anchor: {verdict} ({ratio:.2f} x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
