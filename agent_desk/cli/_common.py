"""Shared pieces of the subcommands: parser, options, output and value parsing."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from typing import Any, NoReturn

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


class DeskArgumentParser(argparse.ArgumentParser):
    """An argparse parser whose errors are one sentence on stderr and exit status 2."""

    def error(self, message: str) -> NoReturn:
        text = message[0].upper() + message[1:] if message else "Invalid usage"
        if not text.endswith("."):
            text += "."
        self.exit(EXIT_USAGE, f"{self.prog}: {text} See '{self.prog} --help'.\n")


def add_database_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--database",
        metavar="URL",
        default=argparse.SUPPRESS,
        help=(
            "database URL (default: $AGENT_DESK_DATABASE_URL, else a SQLite file in the "
            "user data directory); passwords come from the keyring, never from the URL"
        ),
    )


def add_command(
    subparsers: Any, name: str, help_text: str, *, database: bool = True
) -> argparse.ArgumentParser:
    """Add a subcommand parser of our own class, with ``--database`` where it applies."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        name, help=help_text, description=help_text
    )
    if database:
        add_database_option(parser)
    return parser


def print_json(value: Any) -> None:
    json.dump(value, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")


def iso_date(text: str) -> date:
    """argparse type for an ISO date with a plain-words error."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"'{text}' is not a valid date; use the form YYYY-MM-DD, e.g. 2027-01-31"
        ) from None
