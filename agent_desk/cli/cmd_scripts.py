"""``agent-desk scripts``: check, list and save the call scripts.

``check`` is for supervisors who edit script files: it prints one ``path:line:
message`` per problem and exits 1 when there are any, so it can run in CI too. With
a team database at hand (``--database``, the environment, or the desk's own file)
it checks the team's scripts in the database as well. ``put`` saves a script file
as the team's new version (refused with the line and the reason when it has a
problem).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from agent_desk.cli._common import EXIT_FAILED, EXIT_OK, add_command, add_database_option
from agent_desk.cli._db import open_database, team_database
from agent_desk.domain import team_rules as team_rules_domain
from agent_desk.domain.scripts.vocabulary import LANGUAGES
from agent_desk.errors import UsageError
from agent_desk.resources import resource_path
from agent_desk.services import team_rules
from agent_desk.services.actor import actor_for_login
from agent_desk.services.script_files import check_directory, load_library


def register(subparsers: Any) -> None:
    parser = add_command(subparsers, "scripts", "check and list the call scripts")
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
    add_database_option(check)
    check.set_defaults(func=run_check)

    put = commands.add_parser(
        "put",
        help="save a script file as the team's version (a supervisor)",
        description=(
            "Check FILE (nl/<id>.yaml or en/<id>.yaml, or give --lang) and save it as "
            "the team's new version of that script."
        ),
    )
    put.add_argument("file", metavar="FILE")
    put.add_argument("--lang", dest="script_lang", choices=list(LANGUAGES))
    put.add_argument("--as", dest="as_login", metavar="LOGIN", required=True)
    put.add_argument("--reason", default="")
    add_database_option(put)
    put.set_defaults(func=run_put)

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
    library, found = check_directory(directory)
    problems: list[object] = list(found)
    database = team_database(args)
    if database is not None:
        with database, database.sessions() as session:
            problems += team_rules_domain.check_script_set(team_rules.script_texts(session))
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
    if database is not None:
        print("The team's call scripts in the database are fine too.")
    return EXIT_OK


def run_put(args: argparse.Namespace) -> int:
    path = Path(args.file)
    try:
        body = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        raise UsageError(f"Cannot read '{args.file}' as UTF-8 text.") from None
    language = args.script_lang or path.parent.name
    if language not in LANGUAGES:
        raise UsageError("Give --lang nl or --lang en (or keep the file in nl/ or en/).")
    key = team_rules_domain.script_key(language, path.stem)
    with open_database(args) as database, database.sessions() as session:
        actor = actor_for_login(session, args.as_login)
        try:
            version = team_rules.save(
                session, actor, team_rules_domain.SCRIPT, key, body, reason=args.reason
            )
        except team_rules_domain.RuleRefused as refused:
            for problem in refused.problems:
                print(problem)
            print(f"agent-desk: {refused}", file=sys.stderr)
            return EXIT_FAILED
        session.commit()
    print(f"Saved script {key} as version {version.version}.")
    return EXIT_OK


def run_list(args: argparse.Namespace) -> int:
    library = load_library(_directory(args))
    languages = [args.script_lang] if args.script_lang else list(library.languages)
    for language in languages:
        for script_id in library.ids(language):
            script = library.get(script_id, language)
            print(f"{language}  {script.id:<28} {script.title}")
    return EXIT_OK
