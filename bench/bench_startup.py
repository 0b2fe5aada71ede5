"""Start-up of the desk against a bare PySide6 window, whole process, side by side.

Run: ``python bench/bench_startup.py [--runs 11] [--customers 300] [--bundle DIR]``.

Each figure is the wall time of a whole process, from ``exec`` to exit, on the
offscreen platform:

- ``bare``: ``QApplication``, a ``QMainWindow`` shown, quit at the next event-loop turn
  (the anchor, what any PySide6 program pays);
- ``desk``: ``agent-desk --agent sanne --quit-after-start`` on a SQLite database with
  demo data: the display check, the database opened and checked at its newest
  revision, the desk's main window shown (its queue loading behind it), then closed
  as the agent closes it (layout saved, holds released, outbox closed);
- ``bundle`` (with ``--bundle DIR``, an unpacked bundle folder): the same desk start of
  the frozen program.

The runs alternate (bare, desk, desk, bare, …) after one warm-up of each, so a
machine whose speed drifts affects both alike; the medians, the ratio of the medians
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
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMainWindow
app = QApplication(sys.argv[:1])
window = QMainWindow()
window.setWindowTitle("bare")
window.resize(1440, 900)
window.show()
QTimer.singleShot(0, app.quit)
app.exec()
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
        start = ["--database", url, "--lang", "en", "--agent", "sanne", "--quit-after-start"]
        commands = {"bare": [sys.executable, "-c", BARE], "desk": [*desk, *start]}
        if args.bundle is not None:
            commands["bundle"] = [str(args.bundle.resolve() / "agent-desk"), *start]
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
    print("target: startup_desk_s <= 4 x startup_bare_s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
