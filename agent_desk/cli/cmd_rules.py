"""``agent-desk policy``, ``agent-desk rates`` and ``agent-desk letter-texts``: the
team's rules in the database (``services.team_rules``).

Reading works for everyone; changing needs ``--as LOGIN`` of a supervisor. Every
change is checked by the checker of the shipped files and refused with the line and
the reason (exit 1, nothing saved); it is versioned and audited.
"""

from __future__ import annotations

import argparse
import sys
from decimal import Decimal
from typing import Any

from agent_desk.cli._common import (
    EXIT_OK,
    add_command,
    add_database_option,
    iso_date,
    print_json,
)
from agent_desk.cli._db import open_database
from agent_desk.domain import team_rules as rules
from agent_desk.letters import templates
from agent_desk.services import team_rules
from agent_desk.services.actor import actor_for_login


def _as(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--as", dest="as_login", metavar="LOGIN", required=True, help="the supervisor's login"
    )
    parser.add_argument("--reason", default="", help="why (kept in the history)")


def _action(actions: Any, name: str, **kwargs: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = actions.add_parser(name, **kwargs)
    add_database_option(parser)
    return parser


def register(subparsers: Any) -> None:
    policy = add_command(subparsers, "policy", "show or change the team's arrangement policy")
    actions = policy.add_subparsers(dest="policy_command", metavar="ACTION", required=True)
    show = _action(actions, "show", help="the team's policy settings now")
    show.add_argument("--json", action="store_true", help="print JSON")
    show.set_defaults(func=run_policy_show)
    set_ = _action(actions, "set", help="change one setting (a supervisor)")
    set_.add_argument("key", metavar="KEY")
    set_.add_argument("value", metavar="VALUE")
    _as(set_)
    set_.set_defaults(func=run_policy_set)
    history = _action(actions, "history", help="every version of the policy")
    history.add_argument("--json", action="store_true", help="print JSON")
    history.set_defaults(func=run_policy_history)

    rates = add_command(subparsers, "rates", "the team's statutory interest rates")
    rate_actions = rates.add_subparsers(dest="rates_command", metavar="ACTION", required=True)
    listing = _action(rate_actions, "list", help="the rates and how far they are confirmed")
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.set_defaults(func=run_rates_list)
    add = _action(
        rate_actions,
        "add",
        help="record a checked rate (a supervisor)",
        description=(
            "Record a statutory rate from DATE on (a rate of the same date is replaced). "
            "--confirmed-until moves the date up to which the rates are confirmed."
        ),
    )
    add.add_argument("--from", dest="effective_from", type=iso_date, required=True)
    add.add_argument("--percent", required=True, help="the yearly rate in percent, e.g. 6")
    add.add_argument("--source", required=True, help="where it was checked")
    add.add_argument("--confirmed-until", dest="confirmed_until", type=iso_date)
    _as(add)
    add.set_defaults(func=run_rates_add)

    letters = add_command(subparsers, "letter-texts", "the team's own letter texts")
    letter_actions = letters.add_subparsers(dest="letter_command", metavar="ACTION", required=True)
    texts = _action(letter_actions, "list", help="every text key, with the team's version")
    texts.add_argument("--json", action="store_true", help="print JSON")
    texts.set_defaults(func=run_letter_list)
    put = _action(letter_actions, "set", help="replace one text (a supervisor)")
    put.add_argument("key", metavar="KEY", help="e.g. nl/fourteen_day.term_body")
    put.add_argument("text", metavar="TEXT")
    _as(put)
    put.set_defaults(func=run_letter_set)
    reset = _action(letter_actions, "reset", help="back to the shipped text (a supervisor)")
    reset.add_argument("key", metavar="KEY")
    _as(reset)
    reset.set_defaults(func=run_letter_reset)


def _saved(version: team_rules.RuleVersion) -> int:
    print(f"Saved {version.kind} {version.key} as version {version.version}.")
    return EXIT_OK


def run_policy_show(args: argparse.Namespace) -> int:
    with open_database(args) as database, database.sessions() as session:
        settings = team_rules.policy_settings(session)
        versions = team_rules.current(session, rules.POLICY)
    if args.json:
        print_json(
            {
                "settings": settings,
                "documents": [versions[k].to_json() for k in sorted(versions)],
            }
        )
        return EXIT_OK
    for name, value in settings.items():
        print(f"{name:<36} {value}")
    return EXIT_OK


def run_policy_set(args: argparse.Namespace) -> int:
    with open_database(args) as database, database.sessions() as session:
        actor = actor_for_login(session, args.as_login)
        version = team_rules.set_policy_value(
            session, actor, args.key, args.value, reason=args.reason
        )
        session.commit()
    return _saved(version)


def run_policy_history(args: argparse.Namespace) -> int:
    with open_database(args) as database, database.sessions() as session:
        found = [
            v for key in rules.POLICY_KEYS for v in team_rules.history(session, rules.POLICY, key)
        ]
    if args.json:
        print_json([v.to_json() for v in found])
        return EXIT_OK
    for v in found:
        who = v.changed_by or "(shipped)"
        print(f"{v.key:<14} v{v.version:<4} {v.changed_at:%Y-%m-%d %H:%M}  {who:<14} {v.reason}")
    return EXIT_OK


def run_rates_list(args: argparse.Namespace) -> int:
    with open_database(args) as database, database.sessions() as session:
        table = team_rules.rate_table(session)
        version = team_rules.current(session, rules.RATES).get(rules.STATUTORY)
    confirmed = table.confirmed_until.isoformat() if table.confirmed_until else None
    if args.json:
        print_json(
            {
                "confirmed_until": confirmed,
                "version": version.version if version else None,
                "rates": [
                    {
                        "effective_from": r.effective_from.isoformat(),
                        "rate": str(r.rate),
                        "percent": str((r.rate * 100).normalize()),
                        "source": r.source or None,
                        "recorded_by": r.recorded_by or None,
                        "recorded_at": r.recorded_at or None,
                    }
                    for r in table.rates
                ],
            }
        )
        return EXIT_OK
    for r in table.rates:
        percent = f"{(r.rate * 100).normalize()}%"
        print(f"{r.effective_from.isoformat()}  {percent:>7}  {r.source}")
    print(f"Confirmed until {confirmed or '(all)'}.")
    return EXIT_OK


def run_rates_add(args: argparse.Namespace) -> int:
    percent: Decimal = team_rules.parse_percent(args.percent)
    with open_database(args) as database, database.sessions() as session:
        actor = actor_for_login(session, args.as_login)
        version = team_rules.add_rate(
            session,
            actor,
            args.effective_from,
            percent,
            args.source,
            confirmed_until=args.confirmed_until,
            reason=args.reason,
        )
        session.commit()
        confirmed = team_rules.rate_table(session).confirmed_until
    _saved(version)
    if confirmed is not None and confirmed < args.effective_from:
        print(
            f"agent-desk: warning: the rates are confirmed only until {confirmed.isoformat()}; "
            "use --confirmed-until when this rate is confirmed.",
            file=sys.stderr,
        )
    return EXIT_OK


def run_letter_list(args: argparse.Namespace) -> int:
    with open_database(args) as database, database.sessions() as session:
        team = team_rules.current(session, rules.LETTER)
    rows = []
    for key in templates.team_keys():
        found = team.get(key)
        own = found is not None and found.body is not None
        rows.append(
            {
                "key": key,
                "team": own,
                "version": found.version if found else None,
                "text": found.body if own and found else templates.shipped_text(key),
            }
        )
    if args.json:
        print_json(rows)
        return EXIT_OK
    for row in rows:
        mark = "team" if row["team"] else "    "
        print(f"{mark}  {row['key']}")
    return EXIT_OK


def run_letter_set(args: argparse.Namespace) -> int:
    with open_database(args) as database, database.sessions() as session:
        actor = actor_for_login(session, args.as_login)
        version = team_rules.save(
            session, actor, rules.LETTER, args.key, args.text, reason=args.reason
        )
        session.commit()
    return _saved(version)


def run_letter_reset(args: argparse.Namespace) -> int:
    with open_database(args) as database, database.sessions() as session:
        actor = actor_for_login(session, args.as_login)
        version = team_rules.save(
            session, actor, rules.LETTER, args.key, None, reason=args.reason or "shipped text"
        )
        session.commit()
    return _saved(version)
