"""Calculator commands: ``plan``, ``fees bik`` and ``interest``.

They need no database: they apply the domain rules and the shipped policy and rate
tables, or the team's versions when a database is at hand (``--database``, the
environment, or the desk's own file); ``interest`` warns on stderr when part of the
period lies past the rates' ``confirmed_until``. Amounts are typed and printed as decimal strings ("123.45"), dates as ISO.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING, Any, TypeVar

from agent_desk.cli._common import EXIT_OK, add_command, iso_date, print_json
from agent_desk.domain import fees, interest, policy, team_day
from agent_desk.domain.arrangement_plan import Mode, Owed, Terms, compute_plan
from agent_desk.domain.arrangements import Frequency, Plan
from agent_desk.domain.money import Cents, cents_to_str, format_money, parse_amount
from agent_desk.errors import UsageError, ValidationError


def register(subparsers: Any) -> None:
    _register_plan(subparsers)
    _register_fees(subparsers)
    _register_interest(subparsers)


def _register_plan(subparsers: Any) -> None:
    parser = add_command(subparsers, "plan", "calculate a payment arrangement's instalments")
    parser.add_argument("--amount", required=True, metavar="EUROS", help="total to pay")
    add_plan_options(parser)
    parser.add_argument(
        "--outside-policy",
        action="store_true",
        help="calculate a plan that breaks the policy (it then needs a supervisor's approval)",
    )
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(func=run_plan)


def add_plan_options(parser: argparse.ArgumentParser) -> None:
    """How to pay: the options ``plan`` and ``arrange`` share."""
    how = parser.add_mutually_exclusive_group(required=True)
    how.add_argument("--instalments", metavar="K", help="number of instalments")
    how.add_argument("--per-instalment", metavar="EUROS", help="amount of each instalment")
    how.add_argument(
        "--capacity",
        metavar="EUROS",
        help="what the customer can pay a month (income minus essential expenses, "
        "converted to the frequency); no instalment is planned above it",
    )
    parser.add_argument(
        "--start", required=True, type=iso_date, metavar="DATE", help="first due date"
    )
    parser.add_argument(
        "--frequency", choices=[f.value for f in Frequency], default=Frequency.MONTHLY.value
    )
    parser.add_argument(
        "--down-payment",
        metavar="EUROS",
        help="paid on the start date as instalment 0; the first instalment is one period later",
    )


def terms_from_options(args: argparse.Namespace) -> Terms:
    """The options of :func:`add_plan_options` as the plan's terms; bad values are usage errors."""
    if args.instalments is not None:
        mode, count = Mode.COUNT, count_option(args.instalments)
    else:
        mode, count = (Mode.AMOUNT if args.per_instalment is not None else Mode.CAPACITY), 0
    return Terms(
        mode=mode,
        start=args.start,
        frequency=Frequency(args.frequency),
        count=count,
        per_instalment=amount_option(args.per_instalment, "amount per instalment")
        if args.per_instalment is not None
        else 0,
        capacity=amount_option(args.capacity, "capacity") if args.capacity is not None else None,
        down_payment=amount_option(args.down_payment, "down payment")
        if args.down_payment is not None
        else 0,
        waive_costs=bool(getattr(args, "waive_costs", False)),
        waive_interest=bool(getattr(args, "waive_interest", False)),
    )


def _register_fees(subparsers: Any) -> None:
    parser = add_command(subparsers, "fees", "calculate collection costs", database=False)
    kinds = parser.add_subparsers(dest="fee_kind", metavar="KIND", required=True)
    bik = add_command(kinds, "bik", "extrajudicial collection costs by the BIK scale")
    bik.add_argument(
        "--principal",
        required=True,
        action="append",
        metavar="EUROS",
        help="principal of a claim; repeat for several claims of one debtor (summed first)",
    )
    bik.add_argument(
        "--vat", action="store_true", help="add VAT (only when the creditor cannot deduct it)"
    )
    bik.add_argument("--on", type=iso_date, metavar="DATE", help="date of the scale (today)")
    bik.add_argument("--json", action="store_true", help="print JSON")
    bik.set_defaults(func=run_fees_bik)


def _register_interest(subparsers: Any) -> None:
    parser = add_command(subparsers, "interest", "calculate consumer statutory interest")
    parser.add_argument("--principal", required=True, metavar="EUROS")
    parser.add_argument("--from", dest="start", required=True, type=iso_date, metavar="DATE")
    parser.add_argument(
        "--to", dest="end", required=True, type=iso_date, metavar="DATE", help="exclusive"
    )
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(func=run_interest)


def run_plan(args: argparse.Namespace) -> int:
    total = amount_option(args.amount, "amount")
    terms = terms_from_options(args)
    result = compute_plan(Owed(principal=total), terms, _policy(args))
    for messages in result.errors.values():
        raise UsageError(messages[0].text())
    assert result.plan is not None and result.check is not None
    if result.needs_approval and not args.outside_policy:
        breach = next(b for b in result.check.breaches if b.field != "capacity")
        raise UsageError(
            f"{breach.message.rstrip('.')}; use --outside-policy to calculate it "
            "for a supervisor's approval."
        )
    if args.json:
        print_json(_plan_json(result.plan, result.check))
    else:
        _print_plan(result.plan, result.check, _lang(args))
    return EXIT_OK


def run_fees_bik(args: argparse.Namespace) -> int:
    principals = [amount_option(p, "principal") for p in args.principal]
    on: date = args.on or team_day.today()
    try:
        result = fees.collection_costs(principals, _fee_table(args), on, add_vat=args.vat)
    except ValidationError as error:
        raise UsageError(str(error)) from None
    figures = {
        "principal": result.principal,
        "costs": result.costs,
        "vat": result.vat,
        "total": result.total,
    }
    if args.json:
        print_json({key: cents_to_str(value) for key, value in figures.items()})
    else:
        lang = _lang(args)
        for key, value in figures.items():
            print(f"{key:<10} {format_money(value, lang):>16}")
    return EXIT_OK


def run_interest(args: argparse.Namespace) -> int:
    principal = amount_option(args.principal, "principal")
    table = _rate_table(args)
    try:
        result = interest.statutory_interest(principal, args.start, args.end, table)
    except ValidationError as error:
        raise UsageError(str(error)) from None
    provisional = table.provisional_from(args.start, args.end)
    if provisional is not None:
        confirmed = table.confirmed_until.isoformat() if table.confirmed_until else ""
        print(
            f"agent-desk: warning: provisional: the statutory rate is confirmed only until "
            f"{confirmed}; the interest from {provisional.isoformat()} on uses the last "
            "known rate and may change (see 'agent-desk rates list').",
            file=sys.stderr,
        )
    periods = [
        {
            "from": p.start.isoformat(),
            "to": p.end.isoformat(),
            "days": p.days,
            "rate": str(p.rate),
            "base": cents_to_str(p.base),
            "interest": cents_to_str(p.interest),
        }
        for p in result.periods
    ]
    if args.json:
        print_json(
            {
                "principal": cents_to_str(result.principal),
                "interest": cents_to_str(result.interest),
                "total": cents_to_str(result.total),
                "periods": periods,
                "provisional_from": provisional.isoformat() if provisional else None,
            }
        )
        return EXIT_OK
    lang = _lang(args)
    print(f"{'From':<11} {'To':<11} {'Days':>5} {'Rate':>6} {'Interest':>14}")
    for p in result.periods:
        print(
            f"{p.start.isoformat():<11} {p.end.isoformat():<11} {p.days:>5} "
            f"{p.rate * 100:>5.2f}% {format_money(p.interest, lang):>14}"
        )
    print(f"Interest {format_money(result.interest, lang)} on {format_money(principal, lang)}")
    return EXIT_OK


T = TypeVar("T")

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


def _team(args: argparse.Namespace, read: Callable[[Session], T], shipped: Callable[[], T]) -> T:
    """The team's version when a database is at hand, else the shipped file."""
    from agent_desk.cli._db import team_database

    database = team_database(args)
    if database is None:
        return shipped()
    with database, database.sessions() as session:
        return read(session)


def _rate_table(args: argparse.Namespace) -> interest.RateTable:
    from agent_desk.services import team_rules

    return _team(args, team_rules.rate_table, interest.load_rate_table)


def _fee_table(args: argparse.Namespace) -> fees.FeeTable:
    from agent_desk.services import team_rules

    return _team(args, team_rules.fee_table, fees.load_fee_table)


def _policy(args: argparse.Namespace) -> policy.ArrangementPolicy:
    from agent_desk.services import team_rules

    return _team(args, team_rules.policy, policy.load_default_policy)


def _plan_json(plan: Plan, check: policy.PlanCheck) -> dict[str, Any]:
    return {
        "total": cents_to_str(plan.total),
        "frequency": plan.frequency.value,
        "count": plan.count,
        "end": plan.end.isoformat(),
        "instalments": [
            {"number": i.number, "due": i.due.isoformat(), "amount": cents_to_str(i.amount)}
            for i in plan.instalments
        ],
        "needs_approval": check.needs_approval,
        "breaches": [{"field": b.field, "message": b.message} for b in check.breaches],
    }


def _print_plan(plan: Plan, check: policy.PlanCheck, lang: str) -> None:
    print(
        f"{format_money(plan.total, lang)} in {plan.count} instalments "
        f"({plan.frequency.value}), last due {plan.end.isoformat()}"
    )
    print(f"{'No.':>4}  {'Due':<10}  {'Amount':>14}")
    for i in plan.instalments:
        print(f"{i.number:>4}  {i.due.isoformat():<10}  {format_money(i.amount, lang):>14}")
    for breach in check.breaches:
        print(f"Needs approval ({breach.field}): {breach.message}")


def amount_option(text: str, label: str, *, allow_zero: bool = False) -> Cents:
    """An amount typed as an option, or bad usage."""
    try:
        return parse_amount(text, field=label, allow_zero=allow_zero)
    except ValidationError as error:
        raise UsageError(str(error)) from None


def count_option(text: str) -> int:
    """A number of instalments typed as an option, or bad usage."""
    if not text.strip().isdigit():
        raise UsageError(
            f"'{text}' is not a whole number; give the number of instalments, like 12."
        )
    count = int(text.strip())
    if count < 1:
        raise UsageError("The number of instalments must be at least 1.")
    return count


def _lang(args: argparse.Namespace) -> str:
    lang = getattr(args, "lang", None)
    return lang if isinstance(lang, str) else "en"
