"""The team's local day: which calendar day a moment falls on for the business.

Moments are kept in UTC; days on the books (the day a plan was agreed, a letter sent,
a promise made, a payment received, the nightly run's "today") are the team's local
days. A plan agreed at 00:30 in Amsterdam is 23:30 UTC the evening before: its day is
the Amsterdam one. The zone is the sending policy's ``timezone``
(``resources/policy/messages.toml``), Europe/Amsterdam by default.

Pure: the caller passes the moment; a naive moment is taken as UTC (as stored).
"""

from __future__ import annotations

import tomllib
from datetime import UTC, date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from agent_desk.resources import read_text

DEFAULT_ZONE = "Europe/Amsterdam"


@lru_cache(maxsize=1)
def team_zone() -> ZoneInfo:
    """The team's time zone, from the sending policy (read once)."""
    try:
        name = str(tomllib.loads(read_text("policy", "messages.toml")).get("timezone", ""))
    except (OSError, tomllib.TOMLDecodeError):  # pragma: no cover - shipped file
        name = ""
    try:
        return ZoneInfo(name or DEFAULT_ZONE)
    except (KeyError, ValueError):  # pragma: no cover - checked by the sending policy
        return ZoneInfo(DEFAULT_ZONE)


def local_day(moment: datetime, zone: ZoneInfo | None = None) -> date:
    """The team's calendar day of ``moment`` (naive: UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(zone or team_zone()).date()


def today(zone: ZoneInfo | None = None) -> date:
    """The team's day now (for the command line's default "today")."""
    return local_day(datetime.now(UTC), zone)
