"""Alembic, driven from code: the migration scripts ship inside the package.

Alembic (and Mako under it) is loaded only to migrate. The check made at every start,
"is this database at the newest revision?", reads the revision ids from the scripts'
``revision = "…"`` lines and the database's ``alembic_version`` row directly, so a
desk whose database is current starts without loading Alembic at all; a script that
line-reading cannot follow (a merge, an odd layout) falls back to Alembic's own answer.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, inspect, text

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config() -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def upgrade_to_head(engine: Engine) -> None:
    """Apply the migrations, seed the team's rules with any shipped document the team
    has no version of yet (``services.team_rules``), then write the rules the
    database's guards check against (``services.db_rules``) again: the team's
    versions where it has them, else the shipped files."""
    from alembic import command

    from agent_desk.services import db_rules, team_rules

    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
        team_rules.seed(connection)
        team = team_rules.current_on_connection(connection)
        db_rules.install(connection, team.policy, team.books, team.rates)


def script_heads() -> set[str] | None:
    """The head revision(s) read from the scripts' source, or None when unsure."""
    revisions: dict[str, object] = {}
    for path in sorted((MIGRATIONS / "versions").glob("*.py")):
        if path.name == "__init__.py":
            continue
        values: dict[str, object] = {}
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.Assign):
                target, value = node.targets[0], node.value
            elif isinstance(node, ast.AnnAssign) and node.value is not None:
                target, value = node.target, node.value
            else:
                continue
            if isinstance(target, ast.Name) and target.id in ("revision", "down_revision"):
                try:
                    values[target.id] = ast.literal_eval(value)
                except ValueError:
                    return None
        revision = values.get("revision")
        down = values.get("down_revision")
        if not isinstance(revision, str) or not (down is None or isinstance(down, str)):
            return None
        revisions[revision] = down
    if not revisions:
        return None
    return set(revisions) - {down for down in revisions.values() if isinstance(down, str)}


def is_at_head(engine: Engine) -> bool:
    heads = script_heads()
    if heads is None:
        from alembic.script import ScriptDirectory

        heads = set(ScriptDirectory.from_config(alembic_config()).get_heads())
    with engine.connect() as connection:
        if "alembic_version" not in inspect(connection).get_table_names():
            return False
        current = set(connection.execute(text("SELECT version_num FROM alembic_version")).scalars())
    return current == heads
