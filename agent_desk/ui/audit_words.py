"""Audit details in plain words, for the audit trail and the customer's timeline.

The services store an audit event's detail as machine data: a JSON object
(``{"kind": "policy", "version": 3, "reason": "shorter plans"}``), ``key=value`` pairs
(``email_opt_out=True sms_opt_out=False``) or a short English phrase. A supervisor
reading the trail should see "Kind: policy · Version: 3 · Reason: shorter plans" in
their own language: keys get their words, amounts in cents become euros, ISO dates
become the desk's dates, true/false become yes/no, and nested lists and objects read
as lists. The CSV export keeps the machine data (``AuditRow.csv_cells``).
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from typing import Any

from agent_desk.i18n import N_
from agent_desk.ui.labels import Words

#: The words for the keys the services write (the rest: the key with spaces).
KEY_WORDS: dict[str, str] = {
    "kind": N_("Kind"),
    "key": N_("Setting"),
    "version": N_("Version"),
    "reason": N_("Reason"),
    "reference": N_("Reference"),
    "delivery": N_("Delivery"),
    "notice_id": N_("Notice"),
    "sent_on": N_("Sent on"),
    "term_ends": N_("Term ends"),
    "on": N_("On"),
    "channel": N_("Channel"),
    "source": N_("Source"),
    "municipality": N_("Municipality"),
    "file": N_("File"),
    "sha256": N_("Fingerprint"),
    "filter": N_("Selection"),
    "moved": N_("Moved"),
    "skipped": N_("Skipped"),
    "old": N_("Was"),
    "new": N_("Now"),
    "email_opt_out": N_("No e-mail"),
    "sms_opt_out": N_("No SMS"),
    "count": N_("Count"),
    "until": N_("Until"),
    "claims": N_("Claims"),
    "amount_cents": N_("Amount"),
}

#: What was done (``AuditEvent.action``).
ACTION_WORDS: dict[str, str] = {
    "create": N_("created"),
    "update": N_("changed"),
    "view": N_("opened"),
    "export": N_("exported"),
    "reassign": N_("reassigned"),
    "release": N_("released"),
    "pause": N_("paused"),
    "approve": N_("approved"),
    "decline": N_("declined"),
    "verify": N_("verified"),
    "verification_refused": N_("verification refused"),
    "nightly": N_("nightly run"),
    "set_role": N_("role changed"),
    "deactivate": N_("deactivated"),
    "claim": N_("took from the queue"),
    "kept": N_("kept"),
    "broken": N_("broken"),
    "signal_objection": N_("objection recorded"),
    "signal_withdrawal": N_("objection withdrawn"),
    "signal_sent": N_("early signal sent"),
    "credit_used": N_("credit used"),
}

#: What it was done to (``AuditEvent.entity``).
ENTITY_WORDS: dict[str, str] = {
    "customer": N_("customer"),
    "agent": N_("agent"),
    "arrangement": N_("arrangement"),
    "promise_to_pay": N_("promise"),
    "contact_attempt": N_("contact attempt"),
    "contact_point": N_("contact details"),
    "next_step": N_("next step"),
    "note": N_("note"),
    "letter_sent": N_("letter"),
    "team": N_("team"),
    "team_rule": N_("team rule"),
    "audit_trail": N_("audit trail"),
    "creditor_profile": N_("creditor profile"),
    "early_signal": N_("early signal"),
    "signal_objection": N_("objection to early signals"),
}

#: Machine values inside a detail that have words of their own.
VALUE_WORDS: dict[str, str] = {
    "policy": N_("arrangement policy"),
    "books": N_("books rules"),
    "rates": N_("statutory interest rates"),
    "script": N_("call script"),
    "printed": N_("printed"),
    "emailed": N_("e-mailed"),
    "saved": N_("saved as PDF"),
    "phone": N_("phone"),
    "email": N_("e-mail"),
    "sms": N_("SMS"),
    "letter": N_("letter"),
    "fourteen_day": N_("14-day letter"),
    "debt_help": N_("Debt-help referral"),
    "pending_approval": N_("waiting for approval"),
}

_PAIR = re.compile(r"(\w+)=(\S+)")
_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ISO_MOMENT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")


def _key(words: Words, key: str) -> str:
    if key in KEY_WORDS:
        return words.tr(KEY_WORDS[key])
    base = key.removesuffix("_cents")
    return (base.replace("_", " ") or key).capitalize()


def _value(words: Words, key: str, value: Any) -> str:
    tr = words.tr
    if value is None or value == "":
        return "—"
    if isinstance(value, bool) or value in ("True", "False", "true", "false"):
        return tr("yes") if value in (True, "True", "true") else tr("no")
    if key.endswith("_cents") and (
        isinstance(value, int) or (isinstance(value, str) and value.lstrip("-").isdigit())
    ):
        return words.money(int(value))
    if key == "sha256" and isinstance(value, str):
        return value[:12] + "…" if len(value) > 12 else value
    if isinstance(value, str):
        if _ISO_DAY.match(value):
            return words.day(date.fromisoformat(value))
        if _ISO_MOMENT.match(value):
            try:
                return words.moment(datetime.fromisoformat(value))
            except ValueError:
                return value
        if value in VALUE_WORDS:
            return tr(VALUE_WORDS[value])
        return value
    if isinstance(value, list):
        return ", ".join(_value(words, key, item) for item in value) or "—"
    if isinstance(value, dict):
        return ", ".join(f"{name}: {_value(words, name, item)}" for name, item in value.items())
    return str(value)


def readable_detail(words: Words, detail: str) -> str:
    """``detail`` as a line of plain words ("" stays "")."""
    text = detail.strip()
    if not text:
        return ""
    if text.startswith("{"):
        try:
            data = json.loads(text)
        except ValueError:
            data = None
        if isinstance(data, dict):
            parts = [
                f"{_key(words, str(key))}: {_value(words, str(key), value)}"
                for key, value in data.items()
                if value not in (None, "", [], {})
            ]
            return " · ".join(parts)
    coded = re.match(r"^([a-z_]+): (.*)$", text, re.DOTALL)
    if coded and coded.group(1) in VALUE_WORDS:  # "pending_approval: the reason"
        return f"{words.tr(VALUE_WORDS[coded.group(1)])}: {coded.group(2)}"
    pairs = _PAIR.findall(text)
    if pairs and _PAIR.sub("", text).strip(" ,;") == "":
        return " · ".join(
            f"{_key(words, key)}: {_value(words, key, value)}" for key, value in pairs
        )
    return text


def readable_action(words: Words, action: str) -> str:
    """``create`` → "created" (an unknown code with spaces for its underscores)."""
    return words.code(ACTION_WORDS, action)


def readable_entity(words: Words, entity: str) -> str:
    """``promise_to_pay`` → "promise"."""
    return words.code(ENTITY_WORDS, entity)
