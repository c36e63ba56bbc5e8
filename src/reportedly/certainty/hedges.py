"""Certainty v1: hedge and negation cues, their clause scope, and the certainty of each claim.

A hedge governs a claim when it sits on the claim's main predicate: walking up the parse from the
cue to the claim's root crosses no adverbial, relative or nominal clause boundary. So in
"although he did not like X, he still had faith", the "not" stays inside the concessive clause
and the claim is not negated. A hedge on the attribution cue ("Trump apparently believes ...")
weakens the attributed claim too.

Combining several cues, weakest wins: unknown < possible < probable < negated < certain. A
negation together with a hedge takes the hedge's class ("may not" is possible, not negated).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from spacy.tokens import Doc, Token

from reportedly import lexicons
from reportedly.model import Certainty
from reportedly.pipeline import doccache as dc

_BARRIERS = {"advcl", "relcl", "acl", "csubj", "pcomp", "amod", "prep", "pobj", "npadvmod"}
_ORDER = [Certainty.unknown, Certainty.possible, Certainty.probable, Certainty.negated, Certainty.certain]
_NEG_DEPS = {"neg"}


@dataclass
class FoundHedge:
    start_tok: int
    end_tok: int  # exclusive
    start: int
    end: int
    kind: Certainty
    scope: tuple[int, int]

    def anchor(self, doc: Doc) -> Token:
        return doc[self.start_tok]


def find_hedges(doc: Doc) -> list[FoundHedge]:
    lex = lexicons.load()
    out: list[FoundHedge] = []
    i, n = 0, len(doc)
    lowers = dc.lowers(doc)
    deps = dc.deps(doc)
    firsts = _hedge_firsts()
    while i < n:
        matched = 0
        # Most words start no hedge: one set look-up spares building a tuple per length.
        if lowers[i] in firsts:
            for size in range(min(lex.hedge_max_len, n - i), 0, -1):
                kind = lex.hedges.get(tuple(lowers[i : i + size]))
                if kind is not None and _is_hedge_use(doc, i, size):
                    out.append(_make(doc, i, i + size, Certainty(kind)))
                    matched = size
                    break
        if not matched and deps[i] in _NEG_DEPS:
            out.append(_make(doc, i, i + 1, Certainty.negated))
            matched = 1
        i += max(matched, 1)
    return out


@lru_cache(maxsize=1)
def _hedge_firsts() -> frozenset[str]:
    return frozenset(k[0] for k in lexicons.load().hedges)


def _is_hedge_use(doc: Doc, i: int, size: int) -> bool:
    tok = doc[i]
    low = tok.lower_
    if low in ("may", "might", "could", "should"):
        return tok.tag_ == "MD"  # "May 5", "might" as a noun
    if low == "whether":
        return True
    if low in ("appear", "appears", "appeared", "seem", "seems", "seemed"):
        # "appeared in court" is not a hedge; "appeared to", "seems that" are
        return any(c.dep_ in ("xcomp", "ccomp", "acomp", "attr") for c in tok.children)
    if low in ("possible", "potential", "unknown"):
        return size == 1 and tok.pos_ in ("ADJ",)
    return True


def _make(doc: Doc, s: int, e: int, kind: Certainty) -> FoundHedge:
    tok = doc[s]
    head = tok.head if tok.dep_ not in ("ROOT",) else tok
    clause = (
        head if (tok.pos_ == "ADJ" and tok.dep_ in ("acomp", "attr")) or tok.dep_ in ("advmod", "aux", "neg", "mark") else tok
    )
    sent = tok.sent
    lo = max(clause.left_edge.idx, sent.start_char)
    last = clause.right_edge
    hi = min(last.idx + len(last.text), sent.end_char)
    return FoundHedge(s, e, tok.idx, doc[e - 1].idx + len(doc[e - 1].text), kind, (lo, hi))


def governs(heads: list[int], deps: list[str], hedge: int, roots: set[int]) -> bool:
    """True when token ``hedge`` attaches to one of ``roots`` without crossing a clause barrier
    (``heads`` and ``deps`` as :mod:`doccache` keeps them: the walk runs per hedge and claim)."""
    i = hedge
    for _ in range(64):
        if i in roots:
            return True
        if deps[i] in _BARRIERS and i != hedge:
            return False
        if heads[i] == i:
            return False
        i = heads[i]
    return False


def combine(kinds: list[Certainty]) -> Certainty:
    if not kinds:
        return Certainty.certain
    return min(kinds, key=_ORDER.index)
