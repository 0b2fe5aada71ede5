"""The team's rules in the database: read the current version, save a new one.

Policy, 14-day-letter conventions, the statutory interest table, the call scripts and
the letter texts are team data (table ``team_rule``, migration 0009). Each saved
version is a row; the highest version of a ``(kind, key)`` is in force and the older
ones are its history (who, when, why). ``db upgrade`` seeds the shipped files
(:func:`seed`) where the team has no version yet, so the shipped files stay the
defaults and examples; a team's edits are never overwritten by an upgrade.

Readers take the team's version when a session is at hand (:func:`policy`,
:func:`books_policy`, :func:`rate_table`, :func:`script_library`,
:func:`letter_texts`) and fall back to the shipped file for a document the
database does not hold. Writers are for supervisors and run every document through
the checker that guards the shipped file (``domain.team_rules``; letter texts
``letters.templates.check_text``); a refused document saves nothing. On PostgreSQL
the database itself lets only supervisors write, in their own name, one version
after the other, records an audit event, and hands the policy's numbers and the
rates to the guards (``agent_desk_guard.rule`` and ``.interest_rate``).
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, inspect, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from agent_desk import resources
from agent_desk.domain import fees as fee_rules
from agent_desk.domain import interest as interest_rules
from agent_desk.domain import ledger as books_rules
from agent_desk.domain import policy as policy_rules
from agent_desk.domain import scripts as script_rules
from agent_desk.domain import team_rules as rules
from agent_desk.errors import ConflictError, NotFoundError, ValidationError
from agent_desk.i18n import N_
from agent_desk.letters import templates
from agent_desk.models import Agent, AuditEvent, TeamRule
from agent_desk.models.base import utcnow
from agent_desk.services import db_rules
from agent_desk.services.actor import Actor

AUDIT_ACTION = "team_rule_changed"


# ------------------------------------------------------------------ shipped files


def shipped_body(kind: str, key: str) -> str:
    if kind == rules.POLICY:
        return resources.read_text("policy", f"{key}.toml")
    if kind == rules.RATES:
        return resources.read_text("rates", f"{key}.toml")
    if kind == rules.SCRIPT:
        language, script_id = rules.split_script_key(key)
        return resources.read_text("scripts", language, f"{script_id}.yaml")
    if kind == rules.LETTER:
        return templates.shipped_text(key)
    raise NotFoundError("There is no team rule {kind}/{key}.", kind=kind, key=key)


def shipped_documents() -> list[tuple[str, str, str]]:
    """``(kind, key, body)`` of every shipped document a team keeps a version of
    (letter texts are not seeded: the team keeps only the texts it overrides)."""
    documents = [(rules.POLICY, key, shipped_body(rules.POLICY, key)) for key in rules.POLICY_KEYS]
    documents += [(rules.RATES, key, shipped_body(rules.RATES, key)) for key in rules.RATE_KEYS]
    folder = resources.resource_path("scripts")
    for language in script_rules.LANGUAGES:
        for path in sorted((folder / language).glob("*.yaml")):
            key = rules.script_key(language, path.stem)
            documents.append((rules.SCRIPT, key, path.read_text(encoding="utf-8")))
    return documents


def guard_values(kind: str, key: str, body: str | None) -> str:
    """What the database's guards take from this version, as JSON ('' for none)."""
    if body is None:
        return ""
    if kind == rules.POLICY and key == rules.ARRANGEMENTS:
        return json.dumps(db_rules.policy_rule_values(_policy(body)), sort_keys=True)
    if kind == rules.POLICY and key == rules.BOOKS:
        return json.dumps(db_rules.books_rule_values(_books(body)), sort_keys=True)
    if kind == rules.RATES and key == rules.STATUTORY:
        rows = [[on.isoformat(), str(rate)] for on, rate in db_rules.rate_rows(_rates(body))]
        return json.dumps({"rates": rows})
    return ""


def seed(connection: Connection) -> int:
    """Write version 1 of every shipped document the team has no version of yet."""
    if not inspect(connection).has_table("team_rule"):
        return 0
    present = set(connection.execute(text("SELECT DISTINCT kind, key FROM team_rule")).all())
    missing = [
        {
            "kind": kind,
            "key": key,
            "body": body,
            "guard_values": guard_values(kind, key, body),
            "at": utcnow(),
        }
        for kind, key, body in shipped_documents()
        if (kind, key) not in present
    ]
    if missing:
        connection.execute(
            text(
                "INSERT INTO team_rule (kind, key, version, body, guard_values, reason, "
                "changed_by_id, changed_at) VALUES (:kind, :key, 1, :body, :guard_values, "
                "'shipped default', NULL, :at)"
            ),
            missing,
        )
    return len(missing)


# ------------------------------------------------------------------ parsing (cached)


@lru_cache(maxsize=16)
def _policy(body: str) -> policy_rules.ArrangementPolicy:
    return policy_rules.parse_policy(body)


@lru_cache(maxsize=16)
def _books(body: str) -> books_rules.BooksPolicy:
    return books_rules.books_policy_from_mapping(tomllib.loads(body))


@lru_cache(maxsize=16)
def _rates(body: str) -> interest_rules.RateTable:
    return interest_rules.parse_rate_table(body)


@lru_cache(maxsize=16)
def _fees(body: str) -> fee_rules.FeeTable:
    return fee_rules.parse_fee_table(body)


@lru_cache(maxsize=4)
def _library(texts: tuple[tuple[str, str], ...]) -> script_rules.ScriptLibrary:
    by_language: dict[str, dict[str, tuple[str, str]]] = {}
    for key, body in texts:
        language, script_id = rules.split_script_key(key)
        by_language.setdefault(language, {})[script_id] = (f"scripts/{key}.yaml", body)
    library, problems = script_rules.check_texts(by_language, root="scripts")
    if problems:
        raise script_rules.ScriptFormatError(problems)
    return library


# ------------------------------------------------------------------ reading


_CURRENT = (
    "SELECT t.id, t.kind, t.key, t.version, t.body, t.reason, t.changed_by_id, t.changed_at "
    "FROM team_rule t WHERE t.kind = :kind AND t.version = "
    "(SELECT max(u.version) FROM team_rule u WHERE u.kind = t.kind AND u.key = t.key)"
)


@dataclass(frozen=True)
class RuleVersion:
    """One saved version of a team document (or its history entry)."""

    id: int
    kind: str
    key: str
    version: int
    body: str | None
    reason: str
    changed_by: str  # login, '' for the shipped default
    changed_at: datetime

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "key": self.key,
            "version": self.version,
            "reason": self.reason,
            "changed_by": self.changed_by or None,
            "changed_at": self.changed_at.astimezone(UTC).isoformat(timespec="seconds"),
        }


def _as_datetime(value: Any) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    assert isinstance(value, datetime)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _versions(connection: Connection | Session, kind: str) -> dict[str, RuleVersion]:
    rows = connection.execute(text(_CURRENT), {"kind": kind}).all()
    logins = _logins(connection, {r.changed_by_id for r in rows if r.changed_by_id})
    return {
        r.key: RuleVersion(
            r.id,
            r.kind,
            r.key,
            r.version,
            r.body,
            r.reason,
            logins.get(r.changed_by_id, ""),
            _as_datetime(r.changed_at),
        )
        for r in rows
    }


def _logins(connection: Connection | Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = connection.execute(select(Agent.id, Agent.login).where(Agent.id.in_(ids))).all()
    return {r.id: r.login for r in rows}


def current(session: Session | Connection, kind: str) -> dict[str, RuleVersion]:
    """The version in force of every document of ``kind`` the team holds."""
    return _versions(session, kind)


def _body(session: Session | Connection, kind: str, key: str) -> str:
    found = _versions(session, kind).get(key)
    if found is None or found.body is None:
        return shipped_body(kind, key)
    return found.body


def policy(session: Session | Connection) -> policy_rules.ArrangementPolicy:
    return _policy(_body(session, rules.POLICY, rules.ARRANGEMENTS))


def books_policy(session: Session | Connection) -> books_rules.BooksPolicy:
    return _books(_body(session, rules.POLICY, rules.BOOKS))


def rate_table(session: Session | Connection) -> interest_rules.RateTable:
    return _rates(_body(session, rules.RATES, rules.STATUTORY))


def fee_table(session: Session | Connection) -> fee_rules.FeeTable:
    """The BIK scale and the VAT on costs, as the team keeps them."""
    return _fees(_body(session, rules.RATES, rules.BIK))


def script_texts(session: Session | Connection) -> dict[str, str]:
    texts = {key: body for kind, key, body in shipped_documents() if kind == rules.SCRIPT}
    for key, version in _versions(session, rules.SCRIPT).items():
        if version.body is None:
            continue
        texts[key] = version.body
    return texts


def script_library(session: Session | Connection) -> script_rules.ScriptLibrary:
    """The team's call scripts (checked as a set; cached while they do not change)."""
    return _library(tuple(sorted(script_texts(session).items())))


def letter_texts(session: Session | Connection, language: str) -> dict[str, str]:
    """The team's letter texts in ``language`` that differ from the shipped ones,
    by ``group.key`` (``common.closing``, ``fourteen_day.term_body``, …)."""
    prefix = f"{language}/"
    return {
        key.removeprefix(prefix): version.body
        for key, version in _versions(session, rules.LETTER).items()
        if key.startswith(prefix) and version.body is not None
    }


@dataclass(frozen=True)
class TeamRules:
    policy: policy_rules.ArrangementPolicy | None
    books: books_rules.BooksPolicy | None
    rates: interest_rules.RateTable | None


def current_on_connection(connection: Connection) -> TeamRules:
    """For ``db_rules.install``: the team's versions, ``None`` where it has none."""
    if not inspect(connection).has_table("team_rule"):
        return TeamRules(None, None, None)
    policies = _versions(connection, rules.POLICY)
    rates = _versions(connection, rules.RATES).get(rules.STATUTORY)

    def body(found: RuleVersion | None) -> str | None:
        return found.body if found is not None else None

    arrangements, books = body(policies.get(rules.ARRANGEMENTS)), body(policies.get(rules.BOOKS))
    rate_body = body(rates)
    return TeamRules(
        _policy(arrangements) if arrangements else None,
        _books(books) if books else None,
        _rates(rate_body) if rate_body else None,
    )


def history(session: Session, kind: str, key: str) -> list[RuleVersion]:
    """Every version of one document, newest first."""
    rows = session.execute(
        select(TeamRule)
        .where(TeamRule.kind == kind, TeamRule.key == key)
        .order_by(TeamRule.version.desc())
    ).scalars()
    found = list(rows)
    logins = _logins(session, {r.changed_by_id for r in found if r.changed_by_id})
    return [
        RuleVersion(
            r.id,
            r.kind,
            r.key,
            r.version,
            r.body,
            r.reason,
            logins.get(r.changed_by_id or 0, ""),
            _as_datetime(r.changed_at),
        )
        for r in found
    ]


# ------------------------------------------------------------------ writing


def check_document(session: Session, kind: str, key: str, body: str | None) -> None:
    """Refuse (``RuleRefused``, with line and reason) what the checker refuses."""
    if kind == rules.LETTER:
        if body is not None:
            rules.require_valid(
                [
                    rules.RuleProblem(f"letters/{key}", line, msg)
                    for line, msg in templates.check_text(key, body)
                ]
            )
        else:
            templates.shipped_text(key)  # the key must exist
        return
    if body is None:
        raise ValidationError("Only a letter text can go back to the shipped one.", "body")
    problems = rules.check(kind, key, body)
    if not problems and kind == rules.SCRIPT:
        texts = script_texts(session)
        texts[key] = body
        problems = rules.check_script_set(texts)
    rules.require_valid(problems)


def save(
    session: Session,
    actor: Actor,
    kind: str,
    key: str,
    body: str | None,
    *,
    reason: str = "",
    expected_version: int | None = None,
) -> RuleVersion:
    """Save a new version of a team document; the caller commits."""
    actor.require_supervisor(N_("change the team's rules"))
    if kind not in rules.KINDS:
        raise ValidationError("There is no kind of team rule '{kind}'.", "kind", kind=kind)
    if body is not None and len(body) > 200_000:
        raise ValidationError("The document is too long (at most 200,000 characters).", "body")
    check_document(session, kind, key, body)
    found = _versions(session, kind).get(key)
    latest = found.version if found is not None else 0
    if expected_version is not None and expected_version != latest:
        raise ConflictError(
            "Someone else changed {kind} {key} first (now version {version}); "
            "nothing was saved. Look at the new version and try again.",
            kind=kind,
            key=key,
            version=latest,
        )
    in_force = found.body if found is not None else None
    if kind == rules.LETTER:  # no override and the shipped text are the same text
        shipped = shipped_body(kind, key)
        unchanged = (body if body is not None else shipped) == (
            in_force if in_force is not None else shipped
        )
    else:
        unchanged = found is not None and in_force == body
    if unchanged:
        raise ValidationError("Nothing changed: this is the version in force.", "body")
    row = TeamRule(
        kind=kind,
        key=key,
        version=latest + 1,
        body=body,
        guard_values=guard_values(kind, key, body),
        reason=reason.strip(),
        changed_by_id=actor.agent_id,
        changed_at=utcnow(),
    )
    session.add(row)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        raise ConflictError(
            "Someone else changed {kind} {key} at the same moment; nothing was saved. Try again.",
            kind=kind,
            key=key,
            version=latest,
        ) from None
    session.add(
        AuditEvent(
            agent_id=actor.agent_id,
            action=AUDIT_ACTION,
            entity="team_rule",
            entity_id=row.id,
            detail=json.dumps(
                {"kind": kind, "key": key, "version": row.version, "reason": row.reason},
                ensure_ascii=False,
            ),
        )
    )
    session.flush()
    return RuleVersion(
        row.id, kind, key, row.version, body, row.reason, actor.login, row.changed_at
    )


def policy_texts(session: Session) -> dict[str, str]:
    return {key: _body(session, rules.POLICY, key) for key in rules.POLICY_KEYS}


def policy_settings(session: Session) -> dict[str, Any]:
    """Every policy setting by name, as the team has it now (JSON-ready)."""
    values = rules.policy_values(policy_texts(session))
    return {k: v if isinstance(v, bool | int | str) else str(v) for k, v in values.items()}


def set_policy_value(
    session: Session, actor: Actor, name: str, value: str, *, reason: str = ""
) -> RuleVersion:
    """``policy set NAME VALUE``: one setting, in the document that has it."""
    actor.require_supervisor(N_("change the team's rules"))
    texts = policy_texts(session)
    key = rules.document_of_setting(texts, name)
    current_value = tomllib.loads(texts[key])[name]
    literal = rules.toml_value(current_value, value, name)
    body = rules.set_toml_value(texts[key], name, literal)
    return save(session, actor, rules.POLICY, key, body, reason=reason or f"{name} = {literal}")


def parse_percent(text_value: str) -> Decimal:
    try:
        percent = Decimal(text_value.strip().replace(",", "."))
    except InvalidOperation:
        percent = Decimal(-1)
    if not percent.is_finite() or not 0 <= percent < 100:
        raise ValidationError(
            "The rate must be a percentage from 0 to 100, like 6 or 6.5.", "percent"
        )
    return percent


def add_rate(
    session: Session,
    actor: Actor,
    effective_from: date,
    percent: Decimal,
    source: str,
    *,
    confirmed_until: date | None = None,
    reason: str = "",
) -> RuleVersion:
    """``rates add``: a checked rate, with who recorded it, when and its source."""
    actor.require_supervisor(N_("change the team's rules"))
    if not source.strip():
        raise ValidationError(
            "Say where the rate was checked (e.g. the Staatscourant number).", "source"
        )
    if confirmed_until is not None and confirmed_until < effective_from:
        raise ValidationError(
            "The confirmed-until date lies before the rate's start.", "confirmed_until"
        )
    table = rate_table(session)
    rate = interest_rules.InterestRate(
        effective_from,
        (percent / 100).normalize(),
        source=source.strip(),
        recorded_by=actor.login,
        recorded_at=utcnow().astimezone(UTC).isoformat(timespec="seconds"),
    )
    updated = interest_rules.with_rate(table, rate, confirmed_until=confirmed_until)
    header = _rate_header(session)
    body = interest_rules.rate_table_text(updated, header)
    return save(
        session,
        actor,
        rules.RATES,
        rules.STATUTORY,
        body,
        reason=reason or f"rate from {effective_from.isoformat()}: {percent}% ({source.strip()})",
    )


def _rate_header(session: Session) -> str:
    """The leading comment block of the rates document, kept across edits."""
    lines: list[str] = []
    for line in _body(session, rules.RATES, rules.STATUTORY).splitlines():
        if line.startswith("#") or (not line.strip() and lines):
            lines.append(line)
            continue
        break
    return "\n".join(lines).rstrip()


def provisional_from(table: interest_rules.RateTable, start: date, end: date) -> date | None:
    return table.provisional_from(start, end)


def unconfirmed_since(session: Session, today: date) -> date | None:
    """The first day without a confirmed rate, if it lies on or before ``today``."""
    confirmed = rate_table(session).confirmed_until
    if confirmed is None or confirmed >= today:
        return None
    return date.fromordinal(confirmed.toordinal() + 1)


def documents(session: Session) -> list[RuleVersion]:
    """Every team document in force, for the supervisor's screen."""
    found: list[RuleVersion] = []
    for kind in rules.KINDS:
        versions = _versions(session, kind)
        if kind == rules.LETTER:  # every text may be overridden; version 0: the shipped one
            shipped_at = datetime(1970, 1, 1, tzinfo=UTC)
            for key in templates.team_keys():
                if key not in versions:
                    versions[key] = RuleVersion(0, kind, key, 0, None, "", "", shipped_at)
        found.extend(sorted(versions.values(), key=lambda v: v.key))
    return found


def document_text(session: Session, kind: str, key: str) -> str:
    return _body(session, kind, key)


__all__ = [
    "AUDIT_ACTION",
    "RuleVersion",
    "TeamRules",
    "add_rate",
    "books_policy",
    "current",
    "current_on_connection",
    "documents",
    "history",
    "letter_texts",
    "policy",
    "policy_settings",
    "rate_table",
    "save",
    "script_library",
    "seed",
    "set_policy_value",
]
