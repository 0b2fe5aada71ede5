"""The ``agent-desk`` commands, good and bad input, on both engines."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from agent_desk.cli import main
from agent_desk.services.database import Database


def _url(database: Database) -> str:
    return database.url.render_as_string(hide_password=False)


def test_demo_agents_and_queue(database: Database, capsys: pytest.CaptureFixture[str]) -> None:
    url = _url(database)
    assert (
        main(["demo", "--database", url, "--customers", "120", "--agents", "2", "--seed", "4"]) == 0
    )
    assert "120 customers" in capsys.readouterr().out
    assert main(["agents", "--database", url, "--json"]) == 0
    agents = json.loads(capsys.readouterr().out)
    assert {a["login"]: a["role"] for a in agents} == {
        "sanne": "agent",
        "daan": "agent",
        "marieke": "supervisor",
    }
    assert sum(a["assigned"] for a in agents) == 120
    assert main(["queue", "--database", url, "--agent", "sanne", "--limit", "5", "--json"]) == 0
    queue = json.loads(capsys.readouterr().out)
    assert [row["priority"] for row in queue] == [1, 2, 3, 4, 5]
    assert all(row["reasons"] and isinstance(row["reasons"], list) for row in queue)
    for row in queue:
        assert row["arrears"].count(".") == 1 and len(row["arrears"].split(".")[1]) == 2
    assert (
        main(["queue", "--database", url, "--agent", "sanne", "--lang", "nl", "--limit", "40"]) == 0
    )
    assert "dagen over de vervaldatum" in capsys.readouterr().out


def test_demo_into_a_full_database_is_refused(
    database: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    url = _url(database)
    assert main(["demo", "--database", url, "--customers", "5"]) == 0
    capsys.readouterr()
    assert main(["demo", "--database", url, "--customers", "5"]) == 1
    assert "already holds customers" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "status", "message"),
    [
        (["queue", "--agent", "nobody"], 1, "no agent with login 'nobody'"),
        (["queue", "--agent", "sanne", "--limit", "0"], 2, "limit must be 1 or more"),
        (["queue", "--agent", "sanne", "--limit", "ten"], 2, "not a whole number"),
        (["queue"], 2, "--agent --team is required"),
        (["demo", "--customers", "-3"], 2, "must be 1 or more"),
        (["demo", "--agents", "12"], 2, "between 1 and 8"),
        (["import", "customers", "/no/such/file.csv"], 1, "no file"),
        (["import", "payments"], 2, "required: FILE.csv"),
        (["frobnicate"], 2, "invalid choice"),
    ],
)
def test_bad_usage_gives_one_clear_sentence(
    database: Database,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    status: int,
    message: str,
) -> None:
    if argv[0] != "frobnicate":
        argv = [*argv, "--database", _url(database)]
    assert main(argv) == status
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("not a url", "is not a database URL"),
        ("mysql://root@localhost/x", "SQLite or PostgreSQL"),
        ("postgresql://sanne:secret@localhost/x", "Do not put a password"),
        (
            "postgresql://postgres@127.0.0.1:1/test",
            "Cannot reach the database server at 127.0.0.1:1",
        ),
    ],
)
def test_bad_database_urls_give_one_sentence(
    capsys: pytest.CaptureFixture[str], url: str, message: str
) -> None:
    status = main(["agents", "--database", url])
    err = capsys.readouterr().err
    assert status in (1, 2)
    assert message in err and "Traceback" not in err
    assert "secret" not in err


def test_db_upgrade_and_module_entry_point(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
    done = subprocess.run(
        [sys.executable, "-m", "agent_desk", "db", "upgrade", "--database", url],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "up to date" in done.stdout
    assert Database(url).is_current()


def test_environment_variable_names_the_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "from-env.sqlite3"
    monkeypatch.setenv("AGENT_DESK_DATABASE_URL", f"sqlite:///{target}")
    assert main(["demo", "--customers", "3", "--agents", "1"]) == 0
    assert target.exists()
    assert str(target) in capsys.readouterr().out
