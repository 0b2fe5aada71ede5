"""The team's rules in the database (issue 15, items 3 and 4), on SQLite and PostgreSQL:
seeded at upgrade, edited by a supervisor, seen by every reader, refused with line and
reason, versioned and audited; rates that say how far they are confirmed."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import URL

from agent_desk.cli import main
from agent_desk.domain import team_rules as rules
from agent_desk.domain.codes import Role
from agent_desk.domain.policy import load_default_policy
from agent_desk.errors import ConflictError, PermissionDeniedError, ValidationError
from agent_desk.models import Agent, AuditEvent, TeamRule
from agent_desk.resources import read_text
from agent_desk.services import db_rules, team_rules
from agent_desk.services.actor import Actor, actor_for_login
from agent_desk.services.database import Database


def _url(database: Database) -> str:
    return database.url.render_as_string(hide_password=False)


def _people(database: Database) -> tuple[Actor, Actor]:
    with database.sessions() as session:
        session.add_all(
            [
                Agent(login="lead", display_name="Team Lead", role=Role.SUPERVISOR.value),
                Agent(login="anna", display_name="Anna Agent", role=Role.AGENT.value),
            ]
        )
        session.commit()
        return actor_for_login(session, "lead"), actor_for_login(session, "anna")


@pytest.fixture
def team_db(database: Database) -> Iterator[Database]:
    """The engine's database with the shipped documents seeded (the PostgreSQL fixture
    truncates every table, so seed again) and the guards put back afterwards."""
    with database.engine.begin() as connection:
        team_rules.seed(connection)
    yield database
    with database.engine.begin() as connection:
        connection.execute(text("DELETE FROM team_rule"))
        db_rules.install(connection)


def test_a_fresh_database_is_seeded_with_the_shipped_files(
    tmp_path: Path, fresh_pg: Callable[[str], AbstractContextManager[URL]]
) -> None:
    databases = [Database(f"sqlite:///{tmp_path / 'fresh.sqlite3'}")]
    with fresh_pg("agent_desk_seed") as url:
        databases.append(Database(url))
        for database in databases:
            database.upgrade()
            with database.sessions() as session:
                rows = session.scalars(select(TeamRule)).all()
                kinds = {(r.kind, r.key): r for r in rows}
                assert kinds[("policy", "arrangements")].body == read_text(
                    "policy", "arrangements.toml"
                )
                assert kinds[("rates", rules.STATUTORY)].version == 1
                assert ("script", "nl/first_time_arrears") in kinds
                assert all(r.reason == "shipped default" and r.changed_by_id is None for r in rows)
                assert team_rules.policy(session) == load_default_policy()
                assert team_rules.rate_table(session).confirmed_until == date(2024, 12, 31)
            # a second upgrade seeds nothing twice
            database.upgrade()
            with database.sessions() as session:
                assert session.scalar(select(TeamRule.id).where(TeamRule.version > 1)) is None
                assert len(session.scalars(select(TeamRule)).all()) == len(rows)
            database.dispose()


def test_a_policy_edit_reaches_every_reader_with_history_and_audit(team_db: Database) -> None:
    lead, _anna = _people(team_db)
    with team_db.sessions() as session:
        version = team_rules.set_policy_value(
            session, lead, "max_instalments", "36", reason="new team agreement"
        )
        session.commit()
    assert version.version == 2
    # a second desk (a new connection) sees it, and the comments of the file stay
    second = Database(team_db.url)  # another desk: its own engine and connections
    with second.sessions() as session:
        assert team_rules.policy(session).max_instalments == 36
        body = team_rules.document_text(session, "policy", "arrangements")
        assert "# Most instalments in one plan" in body and "max_instalments = 36" in body
        history = team_rules.history(session, "policy", "arrangements")
        assert [(v.version, v.changed_by, v.reason) for v in history] == [
            (2, "lead", "new team agreement"),
            (1, "", "shipped default"),
        ]
        audit = session.scalars(
            select(AuditEvent).where(AuditEvent.action == team_rules.AUDIT_ACTION)
        ).all()
        assert len(audit) == 1 and audit[0].agent_id == lead.agent_id
        assert json.loads(audit[0].detail)["version"] == 2
    second.dispose()
    if not team_db.is_sqlite:  # the guards use the team's number now
        with team_db.engine.connect() as connection:
            assert connection.scalar(
                text("SELECT value FROM agent_desk_guard.rule WHERE name = 'max_instalments'")
            ) == Decimal(36)
            assert (
                connection.scalar(
                    text(
                        "SELECT count(*) FROM audit_event WHERE action = 'db_recorded' "
                        "AND entity = 'team_rule' AND entity_id = :id"
                    ),
                    {"id": version.id},
                )
                == 1
            )


def test_a_bad_policy_is_refused_with_line_and_reason_and_nothing_is_written(
    team_db: Database,
) -> None:
    lead, _anna = _people(team_db)
    broken = read_text("policy", "arrangements.toml").replace(
        "max_term_months = 24", "max_term_months = 0"
    )
    with team_db.sessions() as session:
        with pytest.raises(rules.RuleRefused) as refused:
            team_rules.save(session, lead, "policy", "arrangements", broken)
        problem = refused.value.problems[0]
        assert problem.line == broken.splitlines().index("max_term_months = 0") + 1
        assert "at least 1" in problem.message
        with pytest.raises(rules.RuleRefused, match="not valid TOML"):
            team_rules.save(session, lead, "policy", "books", "x = = 1")
        session.rollback()
    with team_db.sessions() as session:
        assert session.scalar(select(TeamRule.id).where(TeamRule.version > 1)) is None
        assert (
            session.scalar(select(AuditEvent.id).where(AuditEvent.action != "db_recorded")) is None
        )


def test_a_bad_script_is_refused_with_its_line(team_db: Database) -> None:
    lead, _anna = _people(team_db)
    good = read_text("scripts", "nl", "pause_request.yaml")
    bad = good.replace("start: ", "start: no_such_step\nold_start: ", 1)
    with team_db.sessions() as session:
        with pytest.raises(rules.RuleRefused) as refused:
            team_rules.save(session, lead, "script", "nl/pause_request", bad)
        assert refused.value.problems[0].line is not None
        assert "scripts/nl/pause_request.yaml" in str(refused.value)
        session.rollback()
        # a good edit is taken, and the team's library (every reader) has it
        edited = good.replace("title: ", "title: Team ", 1)
        team_rules.save(session, lead, "script", "nl/pause_request", edited, reason="wording")
        session.commit()
    with team_db.sessions() as session:
        library = team_rules.script_library(session)
        assert library.get("pause_request", "nl").title.startswith("Team ")
        assert session.scalar(select(TeamRule.id).where(TeamRule.body == bad)) is None


def test_an_agent_cannot_change_the_rules_in_the_services(team_db: Database) -> None:
    _lead, anna = _people(team_db)
    with team_db.sessions() as session, pytest.raises(PermissionDeniedError):
        team_rules.set_policy_value(session, anna, "max_instalments", "99")


def test_letter_texts_are_overridden_per_key_and_language_and_checked(team_db: Database) -> None:
    lead, _anna = _people(team_db)
    with team_db.sessions() as session:
        with pytest.raises(rules.RuleRefused, match="missing"):
            team_rules.save(session, lead, "letter", "nl/common.salutation", "Hallo,")
        with pytest.raises(rules.RuleRefused, match="unknown placeholder"):
            team_rules.save(session, lead, "letter", "nl/common.salutation", "Hoi {naam},")
        session.rollback()
        team_rules.save(session, lead, "letter", "nl/common.salutation", "Hoi {name},")
        session.commit()
        assert team_rules.letter_texts(session, "nl") == {"common.salutation": "Hoi {name},"}
        assert team_rules.letter_texts(session, "en") == {}
        team_rules.save(session, lead, "letter", "nl/common.salutation", None)
        session.commit()
        assert team_rules.letter_texts(session, "nl") == {}
        with pytest.raises(ValidationError, match="Nothing changed"):
            team_rules.save(session, lead, "letter", "nl/common.salutation", None)
        with pytest.raises(ValidationError, match="Nothing changed"):
            team_rules.save(session, lead, "letter", "en/common.closing", "Kind regards,")


def test_rates_add_records_who_when_and_source_and_moves_confirmation(
    team_db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    _people(team_db)
    url = _url(team_db)
    assert (
        main(
            [
                "interest",
                "--database",
                url,
                "--principal",
                "300",
                "--from",
                "2024-10-01",
                "--to",
                "2025-04-01",
            ]
        )
        == 0
    )
    captured = capsys.readouterr()
    assert "provisional" in captured.err and "2024-12-31" in captured.err
    assert (
        main(
            [
                "interest",
                "--database",
                url,
                "--principal",
                "300",
                "--from",
                "2024-01-01",
                "--to",
                "2024-12-31",
            ]
        )
        == 0
    )
    assert "provisional" not in capsys.readouterr().err
    assert (
        main(
            [
                "rates",
                "add",
                "--database",
                url,
                "--from",
                "2025-07-01",
                "--percent",
                "6",
                "--source",
                "Stcrt. 2025, 12345",
                "--confirmed-until",
                "2026-12-31",
                "--as",
                "lead",
            ]
        )
        == 0
    )
    capsys.readouterr()
    assert main(["rates", "list", "--database", url, "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert listed["confirmed_until"] == "2026-12-31"
    added = next(r for r in listed["rates"] if r["effective_from"] == "2025-07-01")
    assert added["rate"] == "0.06" and added["source"] == "Stcrt. 2025, 12345"
    assert added["recorded_by"] == "lead" and added["recorded_at"]
    assert (
        main(
            [
                "interest",
                "--database",
                url,
                "--principal",
                "300",
                "--from",
                "2025-01-01",
                "--to",
                "2026-06-01",
            ]
        )
        == 0
    )
    assert "provisional" not in capsys.readouterr().err
    # an agent cannot
    assert (
        main(
            [
                "rates",
                "add",
                "--database",
                url,
                "--from",
                "2027-01-01",
                "--percent",
                "9",
                "--source",
                "x",
                "--as",
                "anna",
            ]
        )
        == 1
    )
    assert "supervisor" in capsys.readouterr().err
    if not team_db.is_sqlite:
        with team_db.engine.connect() as connection:
            rows = (
                connection.execute(
                    text("SELECT effective_from FROM agent_desk_guard.interest_rate ORDER BY 1")
                )
                .scalars()
                .all()
            )
        assert date(2025, 7, 1) in rows


def test_policy_cli_show_set_and_refusal(
    team_db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    _people(team_db)
    url = _url(team_db)
    assert main(["policy", "set", "--database", url, "max_term_months", "30", "--as", "lead"]) == 0
    capsys.readouterr()
    assert main(["policy", "show", "--database", url, "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["settings"]["max_term_months"] == 30
    assert shown["settings"]["promise_grace_days"] == 2  # books.toml too
    assert main(["policy", "set", "--database", url, "max_term_months", "0", "--as", "lead"]) == 1
    err = capsys.readouterr().err
    assert "line 9" in err and "at least 1" in err
    assert main(["policy", "set", "--database", url, "no_such", "1", "--as", "lead"]) == 1
    assert "no policy setting" in capsys.readouterr().err
    assert main(["policy", "set", "--database", url, "max_term_months", "12", "--as", "anna"]) == 1
    with team_db.sessions() as session:
        assert team_rules.policy(session).max_term_months == 30


def test_scripts_check_checks_the_team_s_scripts_too(
    team_db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    url = _url(team_db)
    assert main(["scripts", "check", "--database", url]) == 0
    assert "The team's call scripts in the database are fine too." in capsys.readouterr().out
    # a script the checker of a newer release refuses (written by the owner, past the service)
    with team_db.engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO team_rule (kind, key, version, body, guard_values, reason, "
                "changed_at) VALUES ('script', 'en/pause_request', 2, 'id: pause_request\n"
                "language: en\n', '', 'old', CURRENT_TIMESTAMP)"
            )
        )
    assert main(["scripts", "check", "--database", url]) == 1
    assert "scripts/en/pause_request.yaml" in capsys.readouterr().out


def test_the_bik_scale_is_team_data_too(team_db: Database) -> None:
    lead, _anna = _people(team_db)
    shipped = read_text("rates", "bik.toml")
    with team_db.sessions() as session:
        with pytest.raises(rules.RuleRefused) as refused:
            team_rules.save(
                session, lead, "rates", "bik", shipped.replace('minimum = "40.00"', "minimum = 40")
            )
        assert refused.value.problems[0].where == "rates/bik.toml"
        session.rollback()
        team_rules.save(
            session, lead, "rates", "bik", shipped.replace('minimum = "40.00"', 'minimum = "45.00"')
        )
        session.commit()
    with team_db.sessions() as session:
        assert team_rules.fee_table(session).scales[0].minimum == 4500


def test_scripts_put_saves_a_good_script_and_lists_every_problem_of_a_bad_one(
    team_db: Database, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    _people(team_db)
    url = _url(team_db)
    folder = tmp_path / "nl"
    folder.mkdir()
    good = read_text("scripts", "nl", "pause_request.yaml")
    path = folder / "pause_request.yaml"
    path.write_text(good.replace("title: ", "title: Team ", 1), encoding="utf-8")
    assert main(["scripts", "put", str(path), "--database", url, "--as", "lead"]) == 0
    assert "Saved script nl/pause_request as version 2." in capsys.readouterr().out
    path.write_text(good.replace("goto: ", "goto: nowhere_", 2), encoding="utf-8")
    assert main(["scripts", "put", str(path), "--database", url, "--as", "lead"]) == 1
    out, err = capsys.readouterr()
    lines = [line for line in out.splitlines() if line.startswith("scripts/nl/pause_request.yaml:")]
    assert len(lines) >= 2 and "nothing was saved" in err
    with team_db.sessions() as session:
        assert team_rules.current(session, "script")["nl/pause_request"].version == 2


def test_a_stale_edit_is_a_conflict_and_overwrites_nothing(team_db: Database) -> None:
    lead, _anna = _people(team_db)
    body = read_text("policy", "books.toml")
    with team_db.sessions() as first, team_db.sessions() as second:
        seen = team_rules.current(first, "policy")["books"].version
        team_rules.save(
            second, lead, "policy", "books", body.replace("= 2\n", "= 3\n", 1), expected_version=1
        )
        second.commit()
        with pytest.raises(ConflictError, match="changed policy books first"):
            team_rules.save(
                first,
                lead,
                "policy",
                "books",
                body.replace("= 2\n", "= 4\n", 1),
                expected_version=seen,
            )
    with team_db.sessions() as session:
        assert team_rules.books_policy(session).post_receipt_working_days == 3
