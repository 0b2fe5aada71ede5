"""Where the database is and which language the desk speaks.

Order for the database URL: ``--database``, then ``$AGENT_DESK_DATABASE_URL``, then a
SQLite file in the user data directory. The demo database is a separate file so
demo data never mixes with real work.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from platformdirs import user_config_dir, user_data_dir

APP_NAME = "agent-desk"
ENV_DATABASE_URL = "AGENT_DESK_DATABASE_URL"
ENV_DATA_DIR = "AGENT_DESK_DATA_DIR"  # lets tests and portable installs move all files


def data_dir() -> Path:
    override = os.environ.get(ENV_DATA_DIR)
    return Path(override) if override else Path(user_data_dir(APP_NAME, appauthor=False))


def config_dir() -> Path:
    override = os.environ.get(ENV_DATA_DIR)
    return Path(override) if override else Path(user_config_dir(APP_NAME, appauthor=False))


def default_database_url(*, demo: bool = False) -> str:
    name = "demo.sqlite3" if demo else "agent-desk.sqlite3"
    return f"sqlite:///{data_dir() / name}"


@dataclass(frozen=True)
class DatabaseChoice:
    url: str
    source: str  # "option" | "environment" | "default" | "demo"


def resolve_database_url(option: str | None, *, demo: bool = False) -> DatabaseChoice:
    if option:
        return DatabaseChoice(option, "option")
    if demo:
        return DatabaseChoice(default_database_url(demo=True), "demo")
    env = os.environ.get(ENV_DATABASE_URL, "").strip()
    if env:
        return DatabaseChoice(env, "environment")
    return DatabaseChoice(default_database_url(), "default")
