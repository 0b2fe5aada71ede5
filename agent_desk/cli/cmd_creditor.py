"""``agent-desk creditor show|set|history``: the creditor's profile (team data).

``set KEY VALUE --as LOGIN`` changes one key as a new version, in the supervisor's
name (``services.creditor.set_values``); an agent is refused (on a team database also
by the database itself, migration 0008).
"""

from __future__ import annotations

import argparse
from typing import Any

from agent_desk.cli._common import EXIT_OK, add_command, add_database_option, print_json
from agent_desk.cli._db import open_database
from agent_desk.domain import creditor as rules
from agent_desk.models.base import utcnow
from agent_desk.services.actor import SYSTEM, actor_for_login
from agent_desk.services.creditor import current_profile, history, set_values


def register(subparsers: Any) -> None:
    parser = add_command(subparsers, "creditor", "show or change the creditor's profile")
    actions = parser.add_subparsers(dest="creditor_action", metavar="ACTION", required=True)
    show = actions.add_parser("show", help="the profile in force, with its version")
    add_database_option(show)
    show.add_argument("--json", action="store_true", help="print JSON for scripts")
    show.set_defaults(func=run_show)
    change = actions.add_parser("set", help="change one key (supervisors)")
    add_database_option(change)
    change.add_argument("key", metavar="KEY", help="one of: " + ", ".join(rules.FIELD_BY_KEY))
    change.add_argument("value", metavar="VALUE", help="the new value as text")
    change.add_argument(
        "--as", dest="as_login", metavar="LOGIN", help="the supervisor who changes it"
    )
    change.add_argument("--json", action="store_true", help="print JSON for scripts")
    change.set_defaults(func=run_set)
    past = actions.add_parser("history", help="every version: who changed what, when")
    add_database_option(past)
    past.add_argument("--json", action="store_true", help="print JSON for scripts")
    past.set_defaults(func=run_history)


def _document(values: dict[str, Any], version: int) -> dict[str, Any]:
    shown = {f.key: rules.show(f.key, values[f.key]) for f in rules.FIELDS}
    if values.get("logo"):
        shown["logo"] = "(stored)"
    return {
        "version": version,
        "values": shown,
        "duties": sorted(d.value for d in rules.duties(str(values["sector"]))),
    }


def run_show(args: argparse.Namespace) -> int:
    with open_database(args) as database, database.transaction() as session:
        profile = current_profile(session)
    document = _document(profile.values, profile.version)
    document["changed_at"] = profile.changed_at.isoformat() if profile.changed_at else None
    document["changed_by"] = profile.changed_by
    if args.json:
        print_json(document)
        return EXIT_OK
    if profile.version == 0:
        print(
            "Not set up yet: these are the defaults (a supervisor sets them with 'creditor set')."
        )
    else:
        print(
            f"Version {profile.version}, changed {document['changed_at']} by {profile.changed_by}."
        )
    width = max(len(k) for k in document["values"])
    for key, value in document["values"].items():
        print(f"  {key.ljust(width)}  {value}")
    duties = ", ".join(document["duties"]) or "none"
    print(f"Duties that follow from the sector: {duties}.")
    return EXIT_OK


def run_set(args: argparse.Namespace) -> int:
    with open_database(args) as database, database.transaction() as session:
        actor = actor_for_login(session, args.as_login) if args.as_login else SYSTEM
        before = current_profile(session).version
        profile = set_values(session, actor, {args.key: args.value}, utcnow())
    key = args.key.strip().lower()
    if args.json:
        document = _document(profile.values, profile.version)
        document["changed"] = profile.version != before
        print_json(document)
    elif profile.version == before:
        print(f"{key} already is {profile.shown()[key]}; nothing changed.")
    else:
        print(
            f"{key} is now {profile.shown()[key]} (version {profile.version}, {actor.display_name})."
        )
    return EXIT_OK


def run_history(args: argparse.Namespace) -> int:
    with open_database(args) as database, database.transaction() as session:
        lines = history(session)
    if args.json:
        print_json(
            [
                {
                    "version": line.version,
                    "changed": line.key.split(","),
                    "changed_at": line.changed_at.isoformat(),
                    "changed_by": line.changed_by,
                    "values": _document(line.values, line.version)["values"],
                }
                for line in lines
            ]
        )
        return EXIT_OK
    if not lines:
        print("The profile was never changed; it holds the defaults.")
    for line in lines:
        print(
            f"version {line.version}  {line.changed_at:%Y-%m-%d %H:%M}  {line.changed_by}  {line.key}"
        )
    return EXIT_OK
