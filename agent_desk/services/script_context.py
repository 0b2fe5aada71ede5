"""From a customer file to what the script engine needs: placeholders and the situation.

Plain data in, plain data out (no Qt, no database): the desk calls these with the
file on screen, the agent's name and the creditor's name.
"""

from __future__ import annotations

import re
from datetime import date

from agent_desk.domain.codes import (
    ArrangementStatus,
    ContactKind,
    InstalmentStatus,
    Segment,
    Trigger,
)
from agent_desk.domain.scripts.chooser import CustomerSituation
from agent_desk.domain.scripts.render import ScriptContext
from agent_desk.domain.scripts.vocabulary import LANGUAGES
from agent_desk.letters.data import DebtHelp, demo_creditor
from agent_desk.services.customer_file import CustomerFile

#: How the stored salutation code is said in each language.
SALUTATIONS: dict[str, dict[str, str]] = {
    "nl": {"mr": "meneer", "ms": "mevrouw"},
    "en": {"mr": "Mr", "ms": "Ms"},
}

_INCOME_TRIGGERS = frozenset({Trigger.INCOME_DROP.value, Trigger.AWAITING_SUPPORT.value})
#: ``PostalAddress.one_line()``: "Kerkweg 12A, 2611 AB Delft".
_ONE_LINE = re.compile(
    r"^(?P<street>.+) (?P<house>\S+), (?P<postcode>\d{4} ?[A-Z]{2}) (?P<city>.+)$"
)
#: Invoice numbers shown to compare with: the customer may name any of them.
MAX_INVOICES = 5


def script_language(file: CustomerFile) -> str:
    """The customer's language when scripts exist for it, else Dutch."""
    return file.language if file.language in LANGUAGES else "nl"


def default_creditor_name() -> str:
    return demo_creditor().name


def default_debt_help() -> DebtHelp:
    return demo_creditor().debt_help


def build_context(
    file: CustomerFile,
    *,
    agent_name: str,
    creditor_name: str,
    debt_help: DebtHelp | None = None,
    language: str | None = None,
) -> ScriptContext:
    """The placeholders' values for ``file`` (money in cents, dates as dates)."""
    lang = language or script_language(file)
    help_ = debt_help if debt_help is not None else default_debt_help()
    salutation = SALUTATIONS.get(lang, SALUTATIONS["en"]).get(file.salutation or "", "")
    amount, due = _next_instalment(file)
    return ScriptContext(
        language=lang,
        first_name=file.first_name,
        last_name=file.last_name,
        salutation=salutation,
        customer_number=file.customer_number,
        agent_name=agent_name,
        creditor_name=creditor_name,
        arrears_cents=file.arrears_cents,
        oldest_due_date=file.oldest_due_date,
        days_past_due=file.days_past_due,
        next_instalment_cents=amount,
        next_instalment_due=due,
        pause_until=file.paused_until,
        debt_help_name=help_.name,
        debt_help_phone=help_.phone,
        date_of_birth=file.date_of_birth,
        on_file=identity_on_file(file),
    )


def identity_on_file(file: CustomerFile) -> dict[str, tuple[str, ...]]:
    """What the desk holds for each identity check a script may ask (see
    ``domain.scripts.IDENTITY_CHECKS``); the date of birth travels separately."""
    postcodes: list[str] = []
    house_numbers: list[str] = []
    emails: list[str] = []
    for point in file.contact_points:
        if point.invalid:
            continue
        if point.kind == ContactKind.EMAIL:
            emails.append(point.value)
        elif point.kind == ContactKind.ADDRESS:
            match = _ONE_LINE.match(point.value)
            if match:
                postcodes.append(match.group("postcode"))
                house_numbers.append(match.group("house"))
    open_first = sorted(file.claims, key=lambda c: (c.outstanding_cents <= 0, c.due_date))
    return {
        "full_name": (file.name,),
        "postcode": tuple(dict.fromkeys(postcodes)),
        "house_number": tuple(dict.fromkeys(house_numbers)),
        "customer_number": (file.customer_number,),
        "invoice_number": tuple(c.reference for c in open_first[:MAX_INVOICES]),
        "email": tuple(emails),
    }


def _next_instalment(file: CustomerFile) -> tuple[int | None, date | None]:
    for arrangement in file.arrangements:
        if arrangement.status != ArrangementStatus.ACTIVE:
            continue
        for instalment in sorted(arrangement.instalments, key=lambda i: i.due_date):
            if instalment.status != InstalmentStatus.PAID and (
                instalment.paid_cents < instalment.amount_cents
            ):
                return instalment.amount_cents - instalment.paid_cents, instalment.due_date
    return None, None


def build_situation(
    file: CustomerFile, *, today: date, inbound_call: bool = False
) -> CustomerSituation:
    """What the chooser needs to know about ``file``."""
    trigger = file.trigger
    paused = file.paused_until is not None and file.paused_until >= today
    return CustomerSituation(
        inbound_call=inbound_call,
        first_time_arrears=file.first_time_arrears,
        broken_arrangement=file.broken_arrangement,
        vulnerable=file.vulnerable,
        debt_help_requested=False,
        pause_requested=False,
        paused=paused,
        segment=file.segment if file.segment == Segment.SELF_EMPLOYED.value else None,
        income_drop=trigger in _INCOME_TRIGGERS,
        trigger=trigger,
        days_past_due=file.days_past_due,
        arrears_cents=file.arrears_cents,
        previous_arrears_episodes=0,
    )
