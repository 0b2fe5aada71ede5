"""``agent-desk scripts``: check and list the call scripts.

``check`` is for supervisors who edit script files: it prints one ``path:line:
message`` per problem and exits 1 when there are any, so it can run in CI too.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from agent_desk.cli._common import EXIT_FAILED, EXIT_OK, add_command
from agent_desk.domain.scripts import LANGUAGES, check_directory, load_library
from agent_desk.errors import UsageError
from agent_desk.resources import resource_path


def register(subparsers: Any) -> None:
    parser = add_command(subparsers, "scripts", "check and list the call scripts", database=False)
    commands = parser.add_subparsers(dest="scripts_command", metavar="ACTION", required=True)

    check = commands.add_parser(
        "check",
        help="validate every call script (format, steps, placeholders, both languages)",
        description=(
            "Validate every call script in DIR (default: the shipped scripts). Prints "
            "'path:line: message' per problem; exit status 1 when problems are found."
        ),
    )
    check.add_argument("directory", nargs="?", metavar="DIR", help="folder with nl/ and en/")
    check.set_defaults(func=run_check)

    listing = commands.add_parser(
        "list",
        help="list the call scripts",
        description="List the call scripts with their titles.",
    )
    listing.add_argument(
        "--lang", dest="script_lang", choices=list(LANGUAGES), help="only this language"
    )
    listing.add_argument("directory", nargs="?", metavar="DIR", help="folder with nl/ and en/")
    listing.set_defaults(func=run_list)


def _directory(args: argparse.Namespace) -> Path:
    if args.directory is None:
        return resource_path("scripts")
    directory = Path(args.directory)
    if not directory.is_dir():
        raise UsageError(
            f"'{args.directory}' is not a folder; give the folder holding nl/ and en/."
        )
    return directory


def run_check(args: argparse.Namespace) -> int:
    directory = _directory(args)
    library, problems = check_directory(directory)
    for problem in problems:
        print(problem)
    if problems:
        count = len(problems)
        print(
            f"{count} problem{'s' if count != 1 else ''} found in the call scripts.",
            file=sys.stderr,
        )
        return EXIT_FAILED
    print(f"All {len(library)} call scripts are fine ({', '.join(library.languages)}).")
    return EXIT_OK


def run_list(args: argparse.Namespace) -> int:
    library = load_library(_directory(args))
    languages = [args.script_lang] if args.script_lang else list(library.languages)
    for language in languages:
        for script_id in library.ids(language):
            script = library.get(script_id, language)
            print(f"{language}  {script.id:<28} {script.title}")
    return EXIT_OK
