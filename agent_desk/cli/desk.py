"""``agent-desk`` without a command: open the desk (the Qt client)."""

from __future__ import annotations

import argparse
import logging
import sys

from agent_desk.cli._common import EXIT_FAILED, EXIT_USAGE
from agent_desk.config import resolve_database_url
from agent_desk.errors import AgentDeskError, UsageError


def start_desk(args: argparse.Namespace) -> int:
    """Run the desk until it is closed; returns the exit status.

    The start-up window is shown before SQLAlchemy and the models are imported; the
    database is opened behind it (see agent_desk.app.run_desk_at).
    """
    try:
        choice = resolve_database_url(getattr(args, "database", None), demo=bool(args.demo))
    except AgentDeskError as error:
        print(f"agent-desk: {error}", file=sys.stderr)
        return EXIT_USAGE if isinstance(error, UsageError) else EXIT_FAILED
    if not logging.getLogger().handlers:
        _configure_logging()

    from agent_desk.display_check import problem

    reason = problem()
    if reason:
        print(f"agent-desk: {reason}", file=sys.stderr)
        return EXIT_FAILED

    from agent_desk.app import run_desk_at

    return run_desk_at(
        choice.url,
        demo=bool(args.demo),
        lang=args.lang,
        agent_login=getattr(args, "agent", None),
        quit_after_start=bool(getattr(args, "quit_after_start", False)),
        quit_after_first_window=bool(getattr(args, "quit_after_first_window", False)),
        quit_after_desk_window=bool(getattr(args, "quit_after_desk_window", False)),
    )


def _configure_logging() -> None:
    """Warnings on the console; the full story (INFO) in a rotating file for crash reports."""
    from agent_desk.config import data_dir
    from agent_desk.private_files import private_log

    root = logging.getLogger()
    root.setLevel(logging.INFO)
    console = logging.StreamHandler()
    console.setLevel(logging.WARNING)
    console.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root.addHandler(console)
    try:
        log_file = private_log(data_dir())
    except OSError:
        return  # a read-only profile: console logging only
    log_file.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(log_file)
