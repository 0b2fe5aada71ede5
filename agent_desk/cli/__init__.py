"""The ``agent-desk`` command.

Without a subcommand it starts the desk (GUI). Subcommands live in ``cmd_*.py``
modules beside this one; each defines ``register(subparsers)`` and is found
automatically. Exit status: 0 ok, 1 failed, 2 bad usage.
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
import sys
from collections.abc import Sequence

from sqlalchemy.exc import SQLAlchemyError

from agent_desk.cli._common import EXIT_FAILED, EXIT_USAGE, DeskArgumentParser, add_database_option
from agent_desk.errors import AgentDeskError, UsageError

log = logging.getLogger(__name__)


def build_parser() -> DeskArgumentParser:
    parser = DeskArgumentParser(
        prog="agent-desk",
        description=(
            "Agent Desk, a workstation for social collection. Without a command it "
            "opens the desk; the commands below are for scripting and administration."
        ),
    )
    add_database_option(parser)
    parser.add_argument(
        "--demo",
        action="store_true",
        help="open the separate demo database (filled with demo data on first start)",
    )
    parser.add_argument("--lang", choices=["nl", "en"], help="language of the desk")
    parser.add_argument("--agent", metavar="LOGIN", help="open the desk as this agent")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    package = importlib.import_module(__name__)
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        if info.name.startswith("cmd_"):
            module = importlib.import_module(f"{__name__}.{info.name}")
            module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # argparse: --help (0) or bad usage (2, message printed)
        return exit_.code if isinstance(exit_.code, int) else EXIT_USAGE
    try:
        if args.command is None:
            from agent_desk.cli.desk import start_desk

            started: int = start_desk(args)
            return started
        result: int = args.func(args)
        return result
    except UsageError as error:
        print(f"agent-desk: {error}", file=sys.stderr)
        return EXIT_USAGE
    except AgentDeskError as error:
        print(f"agent-desk: {error}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("agent-desk: interrupted.", file=sys.stderr)
        return EXIT_FAILED
    except SQLAlchemyError as error:
        # Never a traceback with a row's data in it (the engine hides parameters too).
        log.error("database error: %s", type(error).__name__)
        print(
            f"agent-desk: the database refused this ({type(error).__name__}); nothing was saved.",
            file=sys.stderr,
        )
        return EXIT_FAILED
