"""The creditor's profile as team data: read it, change it (supervisors), see its history.

Every change is a new version (the whole profile as JSON) in ``creditor_profile``,
written in the changer's name with the time, plus an audit event naming the key and
the old and new value; nothing is overwritten, so the history is the table. On a team
database only a supervisor may insert a version (migration 0008); the service refuses
an agent first, with a sentence.

The VAT-on-costs choice is mirrored into the ``letters.add_vat`` team setting that the
books read (``add_vat_on_costs``), in the same transaction.
"""

from __future__ import annotations

import base64
import hashlib
import json
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from agent_desk.domain import creditor as rules
from agent_desk.errors import ValidationError
from agent_desk.i18n import N_
from agent_desk.letters import Creditor, DebtHelp
from agent_desk.models import Agent, CreditorProfileVersion, Setting
from agent_desk.services.actor import Actor
from agent_desk.services.audit import audit

#: The team setting that says whether costs carry VAT (mirrored from the profile).
VAT_SETTING = "letters.add_vat"
MAX_LOGO_BYTES = 512 * 1024
_PNG = b"\x89PNG\r\n\x1a\n"
_JPEG = b"\xff\xd8\xff"


@dataclass(frozen=True)
class Profile:
    """The profile in force: its values (complete, defaults filled in) and its version."""

    values: dict[str, Any]
    version: int  # 0: never set up, the defaults
    changed_at: datetime | None
    changed_by: str | None

    @property
    def early_signal_duty(self) -> bool:
        return rules.has_early_signal_duty(self.values)

    @property
    def vat_on_costs(self) -> bool:
        return bool(self.values["vat_on_costs"])

    @property
    def signatory(self) -> str:
        return str(self.values["signatory"])

    @property
    def signal_min_arrears_cents(self) -> int:
        return int(self.values["signal_min_arrears"])

    @property
    def signal_wait_days(self) -> int:
        return int(self.values["signal_wait_days"])

    def shown(self) -> dict[str, str]:
        """Every key as a person types it (``creditor show``)."""
        return {f.key: rules.show(f.key, self.values[f.key]) for f in rules.FIELDS}


@dataclass(frozen=True)
class HistoryLine:
    version: int
    key: str
    changed_at: datetime
    changed_by: str | None
    values: dict[str, Any]


def _names(session: Session) -> dict[int, str]:
    return {i: n for i, n in session.execute(select(Agent.id, Agent.display_name))}


#: Where a unit of work keeps the profile it read (``session.info``).
_KEPT = "agent_desk.creditor_profile"


def current_profile(session: Session) -> Profile:
    """The profile in force, read once per unit of work.

    Kept for the transaction (or savepoint) it was read in: a queue page, a letter or
    a signal check that asks again in the same unit gets it without a query, and a
    new unit (or the end of a savepoint) reads it again. ``set_values`` drops it.
    """
    kept: tuple[object, Profile] | None = session.info.get(_KEPT)
    if kept is not None and kept[0] is _unit(session):
        return kept[1]
    profile = _read_profile(session)
    session.info[_KEPT] = (_unit(session), profile)
    return profile


def _unit(session: Session) -> object:
    return session.get_nested_transaction() or session.get_transaction()


def _read_profile(session: Session) -> Profile:
    row = session.scalars(
        select(CreditorProfileVersion).order_by(CreditorProfileVersion.version.desc()).limit(1)
    ).first()
    if row is None:
        return Profile(rules.defaults(), 0, None, None)
    try:
        stored = json.loads(row.profile)
    except ValueError:
        stored = {}
    by = session.get(Agent, row.changed_by_id) if row.changed_by_id else None
    return Profile(
        rules.complete(stored if isinstance(stored, dict) else {}),
        row.version,
        row.changed_at,
        by.display_name if by else None,
    )


def history(session: Session) -> list[HistoryLine]:
    names = _names(session)
    rows = session.scalars(
        select(CreditorProfileVersion).order_by(CreditorProfileVersion.version.desc())
    )
    return [
        HistoryLine(
            r.version,
            r.changed_key,
            r.changed_at,
            names.get(r.changed_by_id or 0),
            rules.complete(json.loads(r.profile)),
        )
        for r in rows
    ]


def _logo_value(path_text: str) -> str:
    """A logo file becomes part of the profile (base64), so every desk has it."""
    if not path_text.strip():
        return ""
    path = Path(path_text.strip()).expanduser()
    if not path.is_file():
        raise ValidationError("The logo file '{path}' does not exist.", "logo", path=path)
    data = path.read_bytes()
    if len(data) > MAX_LOGO_BYTES:
        raise ValidationError("The logo is larger than 512 KB; use a smaller image.", "logo")
    if not (data.startswith(_PNG) or data.startswith(_JPEG)):
        raise ValidationError("The logo must be a PNG or JPEG image.", "logo")
    kind = "png" if data.startswith(_PNG) else "jpeg"
    return f"{kind}:{base64.b64encode(data).decode('ascii')}"


def set_values(session: Session, actor: Actor, changes: dict[str, str], now: datetime) -> Profile:
    """Change one or more keys (typed text), as one new version. Supervisors only.

    Every value is checked first; one bad value changes nothing. A change that sets
    the values they already have writes no version.
    """
    actor.require_supervisor(N_("change the creditor's profile"))
    profile = _read_profile(session)
    values = dict(profile.values)
    changed: list[tuple[str, Any, Any]] = []
    for key, text in changes.items():
        name = key.strip().lower()
        parsed = rules.parse(name, text)
        if name == "logo":
            parsed = _logo_value(parsed)
        if values.get(name) != parsed:
            changed.append((name, values.get(name), parsed))
            values[name] = parsed
    if not changed:
        return profile
    version = (
        int(session.scalar(select(func.coalesce(func.max(CreditorProfileVersion.version), 0))) or 0)
        + 1
    )
    row = CreditorProfileVersion(
        version=version,
        profile=json.dumps(values, ensure_ascii=False, sort_keys=True),
        changed_key=",".join(name for name, _, _ in changed)[:64],
        changed_by_id=actor.agent_id,
        changed_at=now,
    )
    session.add(row)
    if any(name == "vat_on_costs" for name, _, _ in changed):
        _mirror_vat(session, actor, bool(values["vat_on_costs"]), now)
    session.flush()
    for name, old, new in changed:
        shown_old = "(logo)" if name == "logo" and old else old
        shown_new = "(logo)" if name == "logo" and new else new
        audit(
            session,
            actor,
            "update",
            "creditor_profile",
            row.id,
            detail=json.dumps(
                {"version": version, "key": name, "old": shown_old, "new": shown_new},
                ensure_ascii=False,
            ),
            at=now,
        )
    session.info.pop(_KEPT, None)  # the unit of work reads the new version from now on
    return current_profile(session)


def add_vat_on_costs(session: Session) -> bool:
    """Whether costs carry VAT (the creditor cannot deduct it): a team setting."""
    setting = session.get(Setting, VAT_SETTING)
    if setting is None:
        return False
    try:
        return json.loads(setting.value) is True
    except ValueError:
        return False


def _mirror_vat(session: Session, actor: Actor, vat: bool, now: datetime) -> None:
    setting = session.get(Setting, VAT_SETTING)
    value = json.dumps(vat)
    if setting is None:
        session.add(
            Setting(key=VAT_SETTING, value=value, updated_by_id=actor.agent_id, updated_at=now)
        )
    elif setting.value != value:
        setting.value = value
        setting.updated_by_id = actor.agent_id
        setting.updated_at = now


def _logo_path(value: str) -> str | None:
    """The stored logo as a file the letter renderer can read (cached by its hash)."""
    if not value or ":" not in value:
        return None
    kind, encoded = value.split(":", 1)
    try:
        data = base64.b64decode(encoded, validate=True)
    except ValueError:
        return None
    digest = hashlib.sha256(data).hexdigest()[:16]
    path = (
        Path(tempfile.gettempdir())
        / f"agent-desk-logo-{digest}.{'png' if kind == 'png' else 'jpg'}"
    )
    if not path.is_file():
        partial = path.with_suffix(path.suffix + ".part")
        partial.write_bytes(data)
        partial.replace(path)
    return str(path)


def letter_creditor(profile: Profile) -> Creditor:
    """The sender of the letters, from the profile."""
    v = profile.values
    return Creditor(
        name=str(v["name"]),
        address_lines=tuple(v["address"]),
        phone=str(v["phone"]),
        email=str(v["email"]),
        website=str(v["website"]),
        kvk=str(v["kvk"]),
        iban=str(v["iban"]),
        bic=str(v["bic"]) or None,
        logo_path=_logo_path(str(v["logo"])),
        contact_hours={"nl": str(v["hours_nl"]), "en": str(v["hours_en"])},
        debt_help=DebtHelp(
            name=str(v["debt_help_name"]),
            phone=str(v["debt_help_phone"]),
            website=str(v["debt_help_website"]),
        ),
        payment_link_template=str(v["payment_link_template"]) or None,
    )
