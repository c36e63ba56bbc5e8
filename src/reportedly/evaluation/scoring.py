"""Precision, recall and F1 for attribution spans, under exact and token-overlap match.

Items are scored per document and per role (Source, Cue, Content), one item per attribution
that has the role, plus whole attributions (all three roles match; a role absent on both sides
matches). Matching is one-to-one: each gold item pairs with at most one prediction.

- **exact**: the same character ranges, ignoring whitespace at the edges of each fragment and
  whitespace-only gaps between fragments.
- **overlap**: the two share at least one token (a word or punctuation mark of the text); pairs
  are made greedily, largest overlap first.

With no prediction, precision is 0; with no gold item, recall is 0 (scikit-learn's
``zero_division=0``), so an empty side never scores.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import TypeVar

from reportedly.evaluation.brat import ROLES, Ranges, SpanSet

MODES = ("exact", "overlap")
_TOKEN = re.compile(r"\w+|[^\w\s]")
T = TypeVar("T")


@dataclass
class Counts:
    gold: int = 0
    pred: int = 0
    matched: int = 0

    def add(self, other: Counts) -> None:
        self.gold += other.gold
        self.pred += other.pred
        self.matched += other.matched

    @property
    def precision(self) -> float:
        return self.matched / self.pred if self.pred else 0.0

    @property
    def recall(self) -> float:
        return self.matched / self.gold if self.gold else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def as_dict(self) -> dict[str, float | int]:
        return {
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "f1": round(self.f1, 4),
            "gold": self.gold,
            "pred": self.pred,
            "matched": self.matched,
        }


@dataclass
class DocScore:
    """Counts for one document, and which gold/predicted attributions found no partner."""

    counts: dict[tuple[str, str], Counts]  # (role or "attribution", mode) -> counts
    missed: list[int] = field(default_factory=list)  # gold attribution indices (overlap mode)
    false_alarms: list[int] = field(default_factory=list)  # predicted attribution indices


class Tokens:
    """Token index of a text, to turn character ranges into token sets."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.spans = [(m.start(), m.end()) for m in _TOKEN.finditer(text)]
        self.starts = [s for s, _ in self.spans]

    def of(self, ranges: Ranges) -> frozenset[int]:
        import bisect

        out: set[int] = set()
        for s, e in ranges:
            k = max(0, bisect.bisect_right(self.starts, s) - 1)
            while k < len(self.spans) and self.spans[k][0] < e:
                if self.spans[k][1] > s:
                    out.add(k)
                k += 1
        return frozenset(out)


def normalise(ranges: Ranges, text: str) -> Ranges:
    """Strip edge whitespace of each fragment and join fragments separated only by whitespace."""
    frags = []
    for s, e in sorted(ranges):
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if s < e:
            frags.append((s, e))
    merged: list[tuple[int, int]] = []
    for s, e in frags:
        if merged and (s <= merged[-1][1] or not text[merged[-1][1] : s].strip()):
            merged[-1] = (merged[-1][0], max(e, merged[-1][1]))
        else:
            merged.append((s, e))
    return tuple(merged)


def _pair(gold: Sequence[T], pred: Sequence[T], score: Callable[[T, T], float]) -> list[tuple[int, int]]:
    """Greedy one-to-one pairing by descending score (0 = no match)."""
    cands = []
    for i, g in enumerate(gold):
        for j, p in enumerate(pred):
            v = score(g, p)
            if v > 0:
                cands.append((v, i, j))
    cands.sort(key=lambda c: (-c[0], c[1], c[2]))
    used_g: set[int] = set()
    used_p: set[int] = set()
    pairs = []
    for _v, i, j in cands:
        if i not in used_g and j not in used_p:
            used_g.add(i)
            used_p.add(j)
            pairs.append((i, j))
    return pairs


def _role_score(mode: str, tokens: Tokens, a: Ranges | None, b: Ranges | None) -> float:
    if a is None or b is None:
        return 0.0
    if mode == "exact":
        return 1.0 if normalise(a, tokens.text) == normalise(b, tokens.text) else 0.0
    ta, tb = tokens.of(a), tokens.of(b)
    inter = len(ta & tb)
    return inter / len(ta | tb) if inter else 0.0


def score_document(text: str, gold: list[SpanSet], pred: list[SpanSet]) -> DocScore:
    tokens = Tokens(text)
    counts: dict[tuple[str, str], Counts] = {}
    missed: list[int] = []
    false_alarms: list[int] = []
    for mode in MODES:
        for role in ROLES:
            g = [r for x in gold if (r := x.role(role)) is not None]
            p = [r for x in pred if (r := x.role(role)) is not None]
            pairs = _pair(g, p, partial(_role_score, mode, tokens))
            counts[(role, mode)] = Counts(len(g), len(p), len(pairs))

        def whole(a: SpanSet, b: SpanSet, mode: str = mode) -> float:
            total = 0.0
            for role in ROLES:
                ra, rb = a.role(role), b.role(role)
                if ra is None and rb is None:
                    total += 1.0
                    continue
                v = _role_score(mode, tokens, ra, rb)
                if v == 0:
                    return 0.0
                total += v
            return total

        pairs = _pair(gold, pred, whole)
        counts[("attribution", mode)] = Counts(len(gold), len(pred), len(pairs))
        if mode == "overlap":
            missed = sorted(set(range(len(gold))) - {i for i, _ in pairs})
            false_alarms = sorted(set(range(len(pred))) - {j for _, j in pairs})
    return DocScore(counts, missed, false_alarms)


def total(scores: Iterable[DocScore]) -> dict[tuple[str, str], Counts]:
    out: dict[tuple[str, str], Counts] = {}
    for s in scores:
        for key, c in s.counts.items():
            out.setdefault(key, Counts()).add(c)
    return out
