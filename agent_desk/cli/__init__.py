"""The ``agent-desk`` command.

Without a subcommand it starts the desk (GUI). Subcommands live in ``cmd_*.py``
modules beside this one; each defines ``register(subparsers)``. They are listed
explicitly in ``COMMANDS`` (not discovered at run time) so that a freezer such as
PyInstaller sees every one of them, and so that only the module of the command
being run is imported: ``agent-desk queue`` does not load the PDF library, and
opening the desk loads none of them. Exit status: 0 ok, 1 failed, 2 bad usage.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import NoReturn

from agent_desk import __version__
from agent_desk.cli._common import EXIT_FAILED, EXIT_USAGE, DeskArgumentParser, add_database_option
from agent_desk.errors import AgentDeskError, UsageError

log = logging.getLogger(__name__)

# Every subcommand and the module that registers it, in the order of ``--help``.
# tests/unit/test_cli_commands.py checks this against the cmd_*.py files present.
COMMANDS: dict[str, str] = {
    "admin": "agent_desk.cli.cmd_admin",
    "agents": "agent_desk.cli.cmd_agents",
    "arrange": "agent_desk.cli.cmd_arrange",
    "balance": "agent_desk.cli.cmd_balance",
    "plan": "agent_desk.cli.cmd_calc",
    "fees": "agent_desk.cli.cmd_calc",
    "interest": "agent_desk.cli.cmd_calc",
    "creditor": "agent_desk.cli.cmd_creditor",
    "db": "agent_desk.cli.cmd_db",
    "demo": "agent_desk.cli.cmd_demo",
    "import": "agent_desk.cli.cmd_import",
    "letter": "agent_desk.cli.cmd_letters",
    "letters": "agent_desk.cli.cmd_letters",
    "login": "agent_desk.cli.cmd_login",
    "messages": "agent_desk.cli.cmd_messages",
    "next": "agent_desk.cli.cmd_next",
    "release": "agent_desk.cli.cmd_next",
    "nightly": "agent_desk.cli.cmd_nightly",
    "objection": "agent_desk.cli.cmd_objection",
    "promise": "agent_desk.cli.cmd_promise",
    "queue": "agent_desk.cli.cmd_queue",
    "reassign": "agent_desk.cli.cmd_reassign",
    "policy": "agent_desk.cli.cmd_rules",
    "rates": "agent_desk.cli.cmd_rules",
    "letter-texts": "agent_desk.cli.cmd_rules",
    "scripts": "agent_desk.cli.cmd_scripts",
    "search": "agent_desk.cli.cmd_search",
    "signals": "agent_desk.cli.cmd_signals",
    "team": "agent_desk.cli.cmd_team",
}

_DESK_CLOSED = {"value": False}  # the desk ran and shut down cleanly in this process

# Options of the main parser that take a value as the next word (``--lang nl``).
_VALUE_OPTIONS = frozenset({"--database", "--lang", "--agent"})


def command_modules() -> list[str]:
    """Each command module once, in ``--help`` order (the freezer's hidden imports)."""
    return list(dict.fromkeys(COMMANDS.values()))


def _wanted_modules(argv: Sequence[str]) -> list[str]:
    """The modules to register for this command line.

    The command's own module when the first word that is not an option names one;
    none when there is no command (the desk opens); all for ``--help`` or an unknown
    word, so that argparse can list the commands or say which are valid.
    """
    skip = False
    for word in argv:
        if skip:
            skip = False
            continue
        if word == "--":
            break
        if word.startswith("-"):
            skip = word in _VALUE_OPTIONS
            if word in ("-h", "--help"):
                return command_modules()
            continue
        module = COMMANDS.get(word)
        return [module] if module else command_modules()
    return []


def build_parser(argv: Sequence[str] | None = None) -> DeskArgumentParser:
    """The parser; with ``argv``, only the command modules that line needs."""
    parser = DeskArgumentParser(
        prog="agent-desk",
        description=(
            "Agent Desk, a workstation for social collection. Without a command it "
            "opens the desk; the commands below are for scripting and administration."
        ),
    )
    add_database_option(parser)
    parser.add_argument("--version", action="version", version=f"agent-desk {__version__}")
    parser.add_argument(
        "--demo",
        action="store_true",
        help="open the separate demo database (filled with demo data on first start)",
    )
    parser.add_argument("--lang", choices=["nl", "en"], help="language of the desk")
    parser.add_argument("--agent", metavar="LOGIN", help="open the desk as this agent")
    # For CI and the start-up benchmark: quit as soon as the desk's window is shown.
    parser.add_argument("--quit-after-start", action="store_true", help=argparse.SUPPRESS)
    # For the start-up benchmark: quit once the first window (start-up) is painted.
    parser.add_argument("--quit-after-first-window", action="store_true", help=argparse.SUPPRESS)
    # For the start-up benchmark: exit once the desk's main window is painted and usable.
    parser.add_argument("--quit-after-desk-window", action="store_true", help=argparse.SUPPRESS)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    names = command_modules() if argv is None else _wanted_modules(argv)
    for name in names:
        module: ModuleType = importlib.import_module(name)
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(words)
    try:
        args = parser.parse_args(words)
    except SystemExit as exit_:  # argparse: --help (0) or bad usage (2, message printed)
        return exit_.code if isinstance(exit_.code, int) else EXIT_USAGE
    try:
        if args.command is None:
            from agent_desk.cli.desk import start_desk

            started: int = start_desk(args)
            _DESK_CLOSED["value"] = True
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
    except Exception as error:
        if not _is_database_error(error):
            raise
        # Never a traceback with a row's data in it (the engine hides parameters too).
        log.error("database error: %s", type(error).__name__)
        print(
            f"agent-desk: the database refused this ({type(error).__name__}); nothing was saved.",
            file=sys.stderr,
        )
        return EXIT_FAILED


def _is_database_error(error: BaseException) -> bool:
    """A SQLAlchemy error (looked up only then: the desk's first window comes before it)."""
    exc = sys.modules.get("sqlalchemy.exc")
    return exc is not None and isinstance(error, exc.SQLAlchemyError)


def _reader_went_away() -> int:
    """``agent-desk queue | head``: the reader closed the pipe; stop quietly.

    Python's own advice (the ``signal`` module's notes on SIGPIPE): point stdout at
    ``/dev/null`` so the interpreter's final flush does not raise a second time, and
    leave with the shell's status for a command killed by SIGPIPE (128 + 13).
    Nothing is lost: every command writes the database before it prints.
    """
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return 141


def run() -> NoReturn:
    """The program's entry point (console script, ``python -m agent_desk``, the bundle).

    After the desk has closed, everything is on disk and closed (settings synced,
    outbox and databases closed, crash log removed): the interpreter's own teardown
    of Qt and of hundreds of modules would only add a third of a second of exit.
    """
    try:
        code = main()
        sys.stdout.flush()
    except BrokenPipeError:
        code = _reader_went_away()
    if _DESK_CLOSED["value"]:
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    raise SystemExit(code)
