"""Word lists live in data files next to this module, so they can be edited without code changes."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources


def rows(name: str) -> list[list[str]]:
    """The rows of a tab-separated data file in this folder, without comments and blank lines."""
    raw = resources.files(__package__).joinpath(name).read_text(encoding="utf-8")
    out = []
    for line in raw.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            out.append([c.strip() for c in line.split("\t")])
    return out


@dataclass(frozen=True)
class Lexicons:
    cues: dict[str, list[tuple[str, str | None]]]  # lemma -> [(kind, required complement)]
    hedges: dict[tuple[str, ...], str]  # token tuple -> certainty class
    hedge_max_len: int
    negation: frozenset[str]
    anonymous: frozenset[str]
    roles: frozenset[str]
    role_max_len: int
    documents: frozenset[str]
    outlets: dict[str, str]  # lower-case name without "the" -> canonical name
    domains: dict[str, str]  # web domain -> canonical outlet name
    opinion: dict[tuple[str, ...], float]
    opinion_max_len: int


def _strip_the(name: str) -> str:
    low = name.lower()
    return low[4:] if low.startswith("the ") else low


@lru_cache(maxsize=1)
def load() -> Lexicons:
    cues: dict[str, list[tuple[str, str | None]]] = {}
    for row in rows("cues.tsv"):
        cues.setdefault(row[0], []).append((row[1], row[2] if len(row) > 2 and row[2] else None))
    hedges = {tuple(r[0].split()): r[1] for r in rows("hedges.tsv")}
    opinion = {tuple(r[0].split()): float(r[1]) for r in rows("opinion.tsv")}
    roles = frozenset(r[0] for r in rows("roles.txt"))
    return Lexicons(
        cues=cues,
        hedges=hedges,
        hedge_max_len=max(len(k) for k in hedges),
        negation=frozenset(r[0] for r in rows("negation.txt")),
        anonymous=frozenset(r[0] for r in rows("anonymous.txt")),
        roles=roles,
        role_max_len=max(len(r.split()) for r in roles),
        documents=frozenset(r[0] for r in rows("documents.txt")),
        outlets={_strip_the(r[0]): r[0] for r in rows("outlets.txt")},
        domains={d.strip(): r[0] for r in rows("outlets.txt") if len(r) > 1 for d in r[1].split(",") if d.strip()},
        opinion=opinion,
        opinion_max_len=max(len(k) for k in opinion),
    )


def canonical_outlet(name: str) -> str | None:
    """The canonical outlet name for ``name`` ("the Washington Post" -> "The Washington Post")."""
    return load().outlets.get(_strip_the(name.strip()))


def outlet_for_domain(host: str) -> str | None:
    """The outlet behind a web domain ("www.washingtonpost.com" -> "The Washington Post")."""
    host = host.strip().lower().removeprefix("www.")
    domains = load().domains
    while host:
        if host in domains:
            return domains[host]
        _, _, host = host.partition(".")
    return None


_OUTLET_WORDS = (
    "news",
    "post",
    "times",
    "journal",
    "tribune",
    "herald",
    "gazette",
    "press",
    "daily",
    "magazine",
    "radio",
    "television",
    "network",
    "wire",
    "chronicle",
    "observer",
    "review",
    "bulletin",
    "dispatch",
    "inquirer",
    "examiner",
)


def looks_like_outlet(name: str) -> bool:
    if canonical_outlet(name):
        return True
    words = _strip_the(name).split()
    return bool(words) and words[-1] in _OUTLET_WORDS
