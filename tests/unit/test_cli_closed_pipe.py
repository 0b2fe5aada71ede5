"""``agent-desk … | head``: a reader that leaves early gets no traceback."""

from __future__ import annotations

import os
import subprocess
import sys


def test_a_closed_pipe_ends_the_command_quietly() -> None:
    words = ["plan", "--amount", "1200", "--instalments", "12", "--start", "2027-01-05", "--json"]
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader (``head``) has already gone
    try:
        done = subprocess.run(
            [sys.executable, "-m", "agent_desk", *words],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
            check=False,
        )
    finally:
        os.close(write_end)
    assert "Traceback" not in done.stderr
    assert "BrokenPipeError" not in done.stderr
    assert done.returncode == 141  # the shell's status for SIGPIPE (128 + 13)
