"""How far a Content reaches: where it starts and where it stops, chosen among the clause edges up
to :data:`REACH` tokens from where the accurate taggers drew them.

The edge model (:mod:`reportedly.attribution.edges`) moves an edge by up to four tokens. Most
wrong contents are wrong by more: choices between clauses, whether a conjunct, an adjunct or the
next sentence of a quotation belongs to what was said ("has championed [lesbian and gay rights]
and extended benefits to gay couples"; "said [it would depress revenue …, but would eventually
add $84 billion]"). The taggers' own doubt about each token (their probability of Content,
which their best path throws away) and the parse say where such a cut is likely, which neither
the best path nor a rule can.

Per side, every token within :data:`REACH` that could open or close a clause (punctuation,
conjunctions, prepositions, wh-words, or within two tokens of the drawn edge) is a candidate;
a conditional logit (one softmax over each content's candidates, trained on the accurate mode's
own PolNeAR train contents by ``scripts/train_attribution_extent.py``) scores them, and the
edge moves to the best one when it beats the drawn edge by the side's margin. A move that would
take another attribution's cue into the Content, or leave one out, is not made: that would
change which attribution relays which (and PolNeAR scores only the outermost).

Only accurate mode has one. Fast's network gains about as much from the same model (branch
``experiment/content-extent``), but scoring the candidates in Python costs more than fast's
throughput budget has (docs/accuracy.md, the twentieth and twenty-first rounds).
"""

from __future__ import annotations

import bisect
import itertools
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import numpy as np
from spacy.tokens import Doc

from reportedly.attribution.edges import _Arrays, _arrays, _top, _view, token_extent
from reportedly.attribution.extractor import LAYOUT_RULES, Candidate
from reportedly.errors import ModelNotFoundError
from reportedly.pipeline import doccache as dc

# The extent model of each learned mode that has one.
ARTEFACTS = {"accurate": "attribution_extent_accurate.json"}
# What the taggers keep on a Doc (``transformer._Decoding.extract_many``): each token's P(B-CON), P(I-CON).
CONTENT_PROBS = "content_probs"
REACH = 30  # tokens either side of the drawn edge
# A clause opens or closes at punctuation or next to one of these tags; every other token is a
# candidate only within two tokens of the drawn edge. On PolNeAR dev this keeps 60% of the tokens
# and the annotators' edge for 99.6% (end) and 97.5% (start) of the contents that have it in reach.
_NEAR = 2
_PUNCT_TAGS = frozenset({".", ",", ":", "``", "''", "-LRB-", "-RRB-", "HYPH", "NFP", "_SP", "<edge>"})
_CLAUSE_TAGS = frozenset({"CC", "IN", "WDT", "WP", "TO", "WRB"})
_OPENING = "“‘"
_CLOSING = "”’"
_QUOTE_STARTS = "\"“‘'`"

Ranges = list[tuple[int, int]]


def _distance(d: int) -> str:
    a = abs(d)
    sign = "+" if d > 0 else "-" if d < 0 else "0"
    size = 0 if a == 0 else 1 if a == 1 else 2 if a == 2 else 3 if a <= 4 else 5 if a <= 8 else 9 if a <= 15 else 16
    return f"{sign}{size}"


def _level(p: float) -> str:
    """A probability in fifths; "na" where no tagger read the token."""
    return "na" if math.isnan(p) else str(min(4, int(p * 5)))


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else math.nan


@dataclass(frozen=True)
class _Doc:
    a: _Arrays
    text: str
    tags: list[str]
    space: list[bool]
    countable: list[bool]  # neither punctuation nor whitespace
    sent: list[int]  # each token's sentence
    sent_bounds: list[tuple[int, int]]
    starts: list[int]  # each token's first character
    ends: list[int]
    kids: dc.Parse
    begin: list[float]  # the taggers' P(B-CON), NaN where they did not read
    inside: list[float]  # P(I-CON)
    content: list[float]  # P(B-CON) + P(I-CON)
    # Quotation marks in the tokens before token t: opening curly, closing curly, straight.
    opening: list[int]
    closing: list[int]
    straight: list[int]
    # The features of a token that do not depend on the Content, by side, filled as tokens are
    # looked at; and each side's score of them, by the side's id (the side held, so the id stays its).
    names: dict[tuple[int, bool], tuple[str, ...]]
    near: dict[tuple[int, bool], str]  # ``_near``, as computed
    scores: dict[int, tuple[_Side, dict[int, float]]]


def _prefix(text: str, starts: list[int], ends: list[int], marks: str) -> list[int]:
    """How many of ``marks`` the tokens before each token hold (one more entry: all of them).
    Found in the text, not token by token: few tokens hold a mark."""
    per = [0] * len(starts)
    for m in re.finditer("[" + re.escape(marks) + "]", text):
        k = bisect.bisect_right(starts, m.start()) - 1
        if k >= 0 and m.start() < ends[k]:
            per[k] += 1
    return list(itertools.accumulate(per, initial=0))


def _doc(doc: Doc) -> _Doc:
    def build(d: Doc) -> _Doc:
        n = len(d)
        probs = dc.kept(d, CONTENT_PROBS)
        arr = probs if isinstance(probs, np.ndarray) and probs.shape == (n, 2) else np.full((n, 2), np.nan)
        sents = dc.sents(d)
        sent = [0] * n
        for k, s in enumerate(sents):
            sent[s.start : s.end] = [k] * (s.end - s.start)
        texts = dc.texts(d)
        starts = dc.token_starts(d)
        ends = [s + len(t) for s, t in zip(starts, texts, strict=True)]
        space = dc.spaces(d)
        text = dc.text(d)
        return _Doc(
            _arrays(d),
            text,
            dc.tags(d),
            space,
            [not (p or w) for p, w in zip(dc.puncts(d), space, strict=True)],
            sent,
            [(s.start, s.end) for s in sents],
            starts,
            ends,
            dc.parse(d),
            arr[:, 0].tolist(),
            arr[:, 1].tolist(),
            (arr[:, 0] + arr[:, 1]).tolist(),
            _prefix(text, starts, ends, _OPENING),
            _prefix(text, starts, ends, _CLOSING),
            _prefix(text, starts, ends, '"'),
            {},
            {},
            {},
        )

    return dc.memo(doc, "extent", build)


def _paragraph(text: str, char: int) -> tuple[int, int]:
    s = text.rfind("\n", 0, char) + 1
    e = text.find("\n", char)
    return s, len(text) if e < 0 else e


def _kept(d: _Doc, i: int, original: int, left: bool) -> bool:
    """Whether token ``i`` could be a clause edge (see :data:`_CLAUSE_TAGS`)."""
    if abs(i - original) <= _NEAR:
        return True
    o = i - 1 if left else i + 1
    outer = d.tags[o] if 0 <= o < len(d.tags) else "<edge>"
    tag = d.tags[i]
    return tag in _PUNCT_TAGS or tag in _CLAUSE_TAGS or outer in _PUNCT_TAGS or outer in _CLAUSE_TAGS


def _relation(h: int, cue: set[int], lo: int, hi: int) -> str:
    return "cue" if h in cue else "in" if lo <= h <= hi else "after" if h > hi else "before"


def _next(d: _Doc, i: int, step: int) -> int:
    """The nearest token from ``i`` in direction ``step`` that is not whitespace (-1 or len past the edge)."""
    n = len(d.space)
    j = i + step
    while 0 <= j < n and d.space[j]:
        j += step
    return j


def _near(d: _Doc, i: int, left: bool) -> str:
    """The taggers' mean Content probability over the three tokens before (``left``) or after
    token ``i``, whitespace left out, in fifths; remembered, as both feature sets read it."""
    key = (i, left)
    got = d.near.get(key)
    if got is None:
        n = len(d.space)
        around = range(max(0, i - 3), i) if left else range(i + 1, min(n, i + 4))
        got = d.near[key] = _level(_mean([d.content[k] for k in around if not d.space[k]]))
    return got


def _token_names(d: _Doc, i: int, left: bool) -> tuple[str, ...]:
    """The features of token ``i`` as a start (``left``) or end that do not depend on the Content."""
    key = (i, left)
    known = d.names.get(key)
    if known is not None:
        return known
    n = len(d.space)
    view = _view(d.a, i, left).names
    here = _level(d.content[i])
    if left:
        near = _near(d, i, True)
        first = d.text[d.starts[i] : d.starts[i] + 1]
        opens = first in _OPENING or first == chr(34)
        extra: tuple[str, ...] = (
            f"pc={here}",
            f"pcp={near}",
            f"pc|pcp={here}|{near}",
            f"pb={_level(d.begin[i])}",
            f"opens_q={opens}",
        )
    else:
        j = _next(d, i, 1)
        near = _near(d, i, False)
        extra = (f"pc={here}", f"pcn={near}", f"pc|pcn={here}|{near}", f"pin={_level(d.inside[j]) if j < n else 'end'}")
    names = d.names[key] = (*view, *extra)
    return names


# A candidate: its token, the features that do not depend on the Content (``_token_names``),
# and those that do.
Found = tuple[int, tuple[str, ...], list[str]]


def end_candidates(doc: Doc, content: Ranges, cue: set[int]) -> tuple[int, list[Found]] | None:
    """The drawn end token and each candidate end token with its features."""
    d = _doc(doc)
    a = d.a
    s_tok, e_tok = token_extent(d.starts, content)
    if e_tok < s_tok:
        return None
    n = len(a.head)
    _, para_end = _paragraph(d.text, content[-1][1] - 1)
    hi = min(n - 1, e_tok + REACH)
    while hi > e_tok and d.starts[hi] >= para_end:
        hi -= 1
    lo = max(s_tok, e_tok - REACH)
    quoted = d.text[content[0][0] : content[0][0] + 1] in _QUOTE_STARTS
    cue_lo = min(cue) if cue else 0
    e_sent = d.sent[e_tok]
    head, space, countable = a.head, d.space, d.countable
    out: list[Found] = []
    # Tokens of s_tok..i whose head lies outside it; counted at once up to the first candidate,
    # then kept up to date token by token (a long Content's middle holds no candidate).
    dangling = sum(1 for k in range(s_tok, lo) if not space[k] and not s_tok <= head[k] < lo)
    cut = 0  # tokens after i in its sentence whose head lies in s_tok..i
    sent = -1
    for i in range(lo, hi + 1):
        children = d.kids.children(i)
        dangling -= sum(1 for k in children if s_tok <= k < i and not space[k])
        if not space[i] and not s_tok <= head[i] <= i:
            dangling += 1
        if d.sent[i] != sent:
            sent = d.sent[i]
            sent_end = d.sent_bounds[sent][1]
            cut = sum(1 for k in range(i + 1, sent_end) if s_tok <= head[k] <= i and countable[k])
        else:
            if s_tok <= head[i] < i and countable[i]:
                cut -= 1
            cut += sum(1 for k in children if i < k < sent_end and countable[k])
        if space[i] or not _kept(d, i, e_tok, False):
            continue
        off = _distance(i - e_tok)
        names = [f"off={off}", f"dang={min(dangling, 4)}", f"cut={min(cut, 3)}", f"dang|cut={min(dangling, 3)}|{min(cut, 2)}"]
        j = _next(d, i, 1)
        if j < n:
            top = _top(a, j, True)
            rel = _relation(head[top], cue, s_tok, i)
            names += [f"nx={a.dep[top]}|{rel}", f"nxw={a.lower[j]}|{rel}"]
        else:
            names.append("nx=<end>")
        opened = d.opening[i + 1] - d.opening[s_tok] + (d.straight[i + 1] - d.straight[s_tok]) % 2
        closed = d.closing[i + 1] - d.closing[s_tok]
        names.append(f"qbal={'open' if opened > closed else 'ok'}|q={quoted}")
        sd = max(-2, min(2, d.sent[i] - e_sent))
        ends_sentence = i in a.sent_end or (j < n and j in a.sent_end and not space[j] and not countable[j])
        names += [f"sents={sd}", f"sents|end={sd}|{ends_sentence}"]
        if cue and cue_lo > i:
            names.append("before_cue")
        after = _near(d, i, False)
        names += [f"q={quoted}|off={off}", f"pcn|off={after}|{off}"]
        out.append((i, _token_names(d, i, False), names))
    return e_tok, out


def start_candidates(doc: Doc, content: Ranges, cue: set[int]) -> tuple[int, list[Found]] | None:
    """The drawn start token and each candidate start token with its features."""
    d = _doc(doc)
    a = d.a
    s_tok, e_tok = token_extent(d.starts, content)
    if e_tok < s_tok:
        return None
    para_start, _ = _paragraph(d.text, content[0][0])
    lo = max(0, s_tok - REACH)
    while lo < s_tok and d.starts[lo] < para_start:
        lo += 1
    hi = min(e_tok, s_tok + REACH)
    quoted = d.text[content[0][0] : content[0][0] + 1] in _QUOTE_STARTS
    cue_lo, cue_hi = (min(cue), max(cue)) if cue else (0, 0)
    s_sent = d.sent[s_tok]
    head, space, countable = a.head, d.space, d.countable
    # Tokens of i..e_tok whose head lies outside it (as for ends, counted at once up to the first
    # candidate from the end).
    dangling = sum(1 for k in range(hi + 1, e_tok + 1) if not space[k] and not hi < head[k] <= e_tok)
    cut = 0  # tokens before i in its sentence whose head lies in i..e_tok
    sent = -1
    found: list[Found] = []
    for i in range(hi, lo - 1, -1):
        children = d.kids.children(i)
        dangling -= sum(1 for k in children if i < k <= e_tok and not space[k])
        if not space[i] and not i <= head[i] <= e_tok:
            dangling += 1
        if d.sent[i] != sent:
            sent = d.sent[i]
            sent_start = d.sent_bounds[sent][0]
            cut = sum(1 for k in range(sent_start, i) if i <= head[k] <= e_tok and countable[k])
        else:
            if i < head[i] <= e_tok and countable[i]:
                cut -= 1
            cut += sum(1 for k in children if sent_start <= k < i and countable[k])
        if space[i] or (cue and cue_lo <= i <= cue_hi) or not _kept(d, i, s_tok, True):
            continue
        off = _distance(i - s_tok)
        names = [f"off={off}", f"dang={min(dangling, 4)}", f"cut={min(cut, 3)}", f"dang|cut={min(dangling, 3)}|{min(cut, 2)}"]
        j = _next(d, i, -1)
        if j >= 0:
            top = _top(a, j, False)
            rel = _relation(head[top], cue, i, e_tok)
            names += [f"pv={a.dep[top]}|{rel}", f"pvw={a.lower[j]}|{rel}"]
        else:
            names.append("pv=<start>")
        sd = max(-2, min(2, d.sent[i] - s_sent))
        names += [f"sents={sd}", f"sents|start={sd}|{i in a.sent_start}"]
        if cue:
            side = "after" if i > cue_hi else "before"
            names += [f"rel_cue={side}", f"rel_cue|off={side}|{off}", f"holds_cue={i < cue_lo <= e_tok}"]
        before = _near(d, i, True)
        names += [f"q={quoted}|off={off}", f"pcp|off={before}|{off}"]
        found.append((i, _token_names(d, i, True), names))
    found.reverse()
    return s_tok, found


def feature_names(found: Found) -> list[str]:
    """All the features of a candidate, as training reads them."""
    return [*found[1], *found[2]]


def cut_end(doc: Doc, content: Ranges, i: int) -> Ranges | None:
    """``content`` ending with token ``i``: later pieces dropped, the last one cut or extended."""
    end = _doc(doc).ends[i]
    pieces = [(s, e) for s, e in content if s < end]
    if not pieces:
        return None
    pieces[-1] = (pieces[-1][0], end)
    return pieces


def cut_start(doc: Doc, content: Ranges, i: int, cue: tuple[int, int]) -> Ranges | None:
    """``content`` starting with token ``i``: earlier pieces dropped, the first one cut or
    extended; extended back past its own cue, the cue stays out ("A, he said, B")."""
    start = _doc(doc).starts[i]
    pieces = [(s, e) for s, e in content if e > start]
    if not pieces:
        return None
    if start < pieces[0][0] and start <= cue[0] and cue[1] <= pieces[0][0]:
        return [(start, cue[0]), *pieces]
    pieces[0] = (start, pieces[0][1])
    return pieces


@dataclass
class _Side:
    weights: dict[str, float]
    margin: float

    def best(self, d: _Doc, drawn: int, candidates: Sequence[Found]) -> int | None:
        """The candidate to move to, or None to stay."""
        w = self.weights.get
        entry = d.scores.get(id(self))
        if entry is None or entry[0] is not self:
            entry = d.scores[id(self)] = (self, {})
        known = entry[1]
        top, top_score, own = None, -math.inf, None
        for i, token_names, names in candidates:
            part = known.get(i)
            if part is None:
                part = known[i] = sum(w(x, 0.0) for x in token_names)
            score = part + sum(w(x, 0.0) for x in names)
            if score > top_score:
                top, top_score = i, score
            if i == drawn:
                own = score
        if own is None or top is None or top == drawn or top_score <= own + self.margin:
            return None
        return top


class ExtentModel:
    """Moves a Content's start and end among the clause edges near them (see above)."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.start = _Side(data["start"]["weights"], float(data["start"]["margin"]))
        self.end = _Side(data["end"]["weights"], float(data["end"]["margin"]))
        self.reach = int(data.get("reach", REACH))

    def refine(self, doc: Doc, candidates: Sequence[Candidate]) -> None:
        """Both edges are decided from the Content as it was found; a move may not change which
        other attributions' cues the Content holds."""
        d = _doc(doc)
        cue_starts = [c.cue[0] for c in candidates]
        for k, c in enumerate(candidates):
            if not c.content or c.rule in LAYOUT_RULES:
                continue
            lo_char, hi_char = c.content[0][0], c.content[-1][1]
            others = sorted(cue_starts[:k] + cue_starts[k + 1 :])
            cue_lo, cue_hi = token_extent(d.starts, [c.cue])
            cue = set(range(cue_lo, cue_hi + 1))
            content = c.content
            found = end_candidates(doc, content, cue)
            if found is not None:
                drawn, cands = found
                cands = [f for f in cands if f[0] == drawn or _none_between(others, hi_char, d.ends[f[0]])]
                i = self.end.best(d, drawn, cands)
                moved = cut_end(doc, content, i) if i is not None else None
                content = moved or content
            found = start_candidates(doc, c.content, cue)
            if found is not None:
                drawn, cands = found
                cands = [f for f in cands if f[0] == drawn or _none_between(others, lo_char, d.starts[f[0]])]
                i = self.start.best(d, drawn, cands)
                moved = cut_start(doc, content, i, c.cue) if i is not None else None
                content = moved or content
            c.content = content


def _none_between(cues: Sequence[int], a: int, b: int) -> bool:
    """Whether no cue (sorted) starts between characters ``a`` and ``b`` (either first, the
    larger one excluded): moving a Content's edge from ``a`` to ``b`` keeps the same cues in it."""
    lo, hi = (a, b) if a <= b else (b, a)
    return bisect.bisect_left(cues, lo) == bisect.bisect_left(cues, hi)


def read_extent(text: str) -> ExtentModel:
    return ExtentModel(json.loads(text))


@cache
def load_extent(mode: str) -> ExtentModel | None:
    """The shipped extent model of ``mode``, or None where the mode has none."""
    name = ARTEFACTS.get(mode)
    if name is None:
        return None
    path = resources.files("reportedly.models") / name
    if not path.is_file():
        raise ModelNotFoundError(f"the {mode} extent model ({name}) is missing from the package; reinstall reportedly")
    model = read_extent(path.read_text(encoding="utf-8"))
    if model.reach != REACH:
        raise ModelNotFoundError(f"{name} was fitted with a reach of {model.reach} tokens, this code reads {REACH}")
    return model
