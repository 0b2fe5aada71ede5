"""Which municipality a customer's address belongs to (pure, from a dated table).

The municipality receives the early signal, so it is looked up from the address the
letters go to: first the four digits of the postcode in the shipped postcode table
(``resources/municipalities/demo_postcodes.toml``: demo ranges, labelled as such),
else the town or city as written (many towns are their own municipality, but not
all: a village belongs to a municipality with another name). The source is kept with
the answer, so the review shows a guess as a guess.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache

from agent_desk.resources import read_text

_POSTCODE = re.compile(r"^\s*([1-9][0-9]{3})\s*[A-Za-z]{0,2}\s*$")


@dataclass(frozen=True)
class Municipality:
    name: str
    source: str  # "postcode" (the table) | "city" (the address's town, a guess) | ""


@dataclass(frozen=True)
class PostcodeTable:
    ranges: tuple[tuple[int, int, str], ...]
    source: str

    def lookup(self, postcode: str | None) -> str | None:
        match = _POSTCODE.match(postcode or "")
        if not match:
            return None
        digits = int(match.group(1))
        for low, high, name in self.ranges:
            if low <= digits <= high:
                return name
        return None


def parse_table(text: str) -> PostcodeTable:
    raw = tomllib.loads(text)
    ranges = tuple(
        (int(r["from"]), int(r["to"]), str(r["municipality"]).strip()) for r in raw.get("range", [])
    )
    return PostcodeTable(ranges, str(raw.get("source", "")))


@lru_cache(maxsize=1)
def demo_table() -> PostcodeTable:
    return parse_table(read_text("municipalities", "demo_postcodes.toml"))


def municipality_for(
    postcode: str | None, city: str | None, table: PostcodeTable | None = None
) -> Municipality:
    found = (table or demo_table()).lookup(postcode)
    if found:
        return Municipality(found, "postcode")
    town = " ".join((city or "").split())
    if town:
        return Municipality(_as_written(town) if town.isupper() else town, "city")
    return Municipality("", "")


_PARTICLES = {"aan", "de", "den", "der", "en", "in", "op", "bij", "het", "van"}


def _as_written(town: str) -> str:
    """A town in capitals (as on an envelope) the way it is spelled: DE BILT → De Bilt,
    BERGEN OP ZOOM → Bergen op Zoom, 'S-GRAVENHAGE → 's-Gravenhage."""
    words = []
    for position, word in enumerate(town.lower().split(" ")):
        if word.startswith("'s-"):
            words.append("'s-" + word[3:].capitalize())
        elif position and word in _PARTICLES:
            words.append(word)
        else:
            words.append("-".join(part.capitalize() for part in word.split("-")))
    return " ".join(words)


def same_municipality(a: str, b: str) -> bool:
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()
