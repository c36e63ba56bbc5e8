"""Where an attribution's spans begin and end: PolNeAR's conventions, applied to every extractor.

The rules and the learned taggers find the same attributions but draw their edges differently;
these conventions are what the annotators did, counted on PolNeAR train (about 22,000
attributions), and hold whichever extractor found the spans:

- **A reported clause leaves the sentence's full stop out**: of plain (unquoted) contents that
  end a sentence, 9,420 stop before the full stop and 46 keep it. A quotation keeps its own
  (``“… racism.”``), as does an abbreviation ("U.S.").
- **A quotation keeps its marks**, including the typewriter pairs ``''…''`` and ````…''``: a
  content that sits exactly inside a pair of quotation marks takes the pair.
- **A preposition between the cue and its content belongs to the cue** ("called for [an
  inquiry]", "asked about [the emails]"): of the gold cues before their content,
  the content, 3,010 end in one of these prepositions; of the one-word gaps left between a cue
  and its content, nearly all are nouns ("told reporters"), "to" 3 times and "by" 6.
"""

from __future__ import annotations

import bisect
import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from spacy.tokens import Doc, Token

from reportedly.attribution.extractor import Candidate
from reportedly.pipeline import doccache as dc

_ABBREVIATIONS = {"jr", "sr", "inc", "co", "corp", "ltd", "st", "mr", "mrs", "dr", "ms", "no", "vs", "gov", "sen", "rep"}
_QUOTE_PAIRS = (("''", "''"), ("``", "''"), ('"', '"'), ("“", "”"), ("‘", "’"))
_OPENERS = "\"“‘'`"
_CUE_PREPOSITIONS = {"to", "about", "of", "for", "on", "with", "as", "by", "at", "against", "into", "over", "from", "upon"}


def _strip(text: str, s: int, e: int) -> tuple[int, int]:
    while s < e and text[s].isspace():
        s += 1
    while e > s and text[e - 1].isspace():
        e -= 1
    return s, e


def _drops_full_stop(text: str, s: int, e: int) -> bool:
    if e - s < 2 or text[e - 1] != "." or not text[e - 2].isalnum() or text[s] in _OPENERS:
        return False
    before = text[s : e - 1].split()
    word = before[-1] if before else ""
    return "." not in word and word.lower() not in _ABBREVIATIONS


def _quote_pair(text: str, s: int, e: int) -> tuple[int, int] | None:
    """The span widened to the quotation marks right around it, if there is a pair."""
    j = s
    while j > 0 and text[j - 1] in " \t":
        j -= 1
    for opener, closer in _QUOTE_PAIRS:
        if text[j - len(opener) : j] != opener or text.startswith(opener, s):
            continue
        k = e + 1 if e < len(text) and text[e] in ",.?!" else e
        if text.startswith(closer, k):
            return j - len(opener), k + len(closer)
        return None
    return None


def polish_content(text: str, content: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out = []
    for s0, e0 in content:
        s, e = _strip(text, s0, e0)
        if s >= e:
            continue
        if _drops_full_stop(text, s, e):
            e -= 1
        widened = _quote_pair(text, s, e)
        if widened is not None:
            s, e = widened
        out.append((s, e))
    return out or content


def polish_cue(text: str, cue: tuple[int, int], content: list[tuple[int, int]]) -> tuple[int, int]:
    """Take in a preposition standing alone between the cue and the content that follows it."""
    after = [s for s, _ in content if s >= cue[1]]
    if not after:
        return cue
    gap = text[cue[1] : min(after)]
    word = gap.strip()
    if word.lower() in _CUE_PREPOSITIONS and gap[:1].isspace() and gap[-1:].isspace():
        return cue[0], cue[1] + gap.index(word) + len(word)
    return cue


# --- Learned edges ---------------------------------------------------------------------------
#
# The extractors agree with the annotators on where a span is far more often than on where it
# starts and stops (PolNeAR dev, fast: token-overlap F1 .74 / .76 / .76 for source / cue /
# content, exact .70 / .68 / .48). The commonest misses: a modifier of the content left out or
# taken in ("the corrupting influence of super PACs[, including the one supporting Bush ...]"),
# "that"/"as" before a quotation, a clause cut at a comma; a source's relative clause; a cue's
# "in an interview". Per role, two small logistic models score each token near the start and the
# end as the true edge; an edge moves only when the best candidate beats the extractor's own by a
# margin (tuned on dev, per role).

EDGES_ARTEFACT = "attribution_edges.json"
ROLES = ("source", "cue", "content")
Sides = tuple[list[int], list[int]]  # candidate start tokens, candidate end tokens


def _top(tok: Token, left: bool) -> Token:
    """The highest ancestor whose subtree starts (``left``) or ends at ``tok``."""
    a = tok
    while a.head.i != a.i and (a.head.left_edge.i if left else a.head.right_edge.i) == tok.i:
        a = a.head
    return a


def _bucket(n: int, cap: int) -> str:
    return str(max(-cap, min(cap, n)))


def edge_features(doc: Doc, i: int, original: int, cue: set[int], left: bool, quoted: bool) -> dict[str, float]:
    """Evidence that a span starts (``left``) or ends at token ``i``; ``original`` is where the
    extractor put that edge, ``cue`` the attribution's cue tokens as the extractor found them."""
    tok = doc[i]
    n = len(doc)
    out = doc[i - 1] if left else (doc[i + 1] if i + 1 < n else None)
    if left and i == 0:
        out = None
    top = _top(tok, left)
    f: dict[str, float] = {
        "bias": 1.0,
        f"w={tok.lower_}": 1.0,
        f"t={tok.tag_}": 1.0,
        f"d={tok.dep_}": 1.0,
        f"o={out.lower_ if out is not None else '<edge>'}": 1.0,
        f"ot={out.tag_ if out is not None else '<edge>'}": 1.0,
        f"t|ot={tok.tag_}|{out.tag_ if out is not None else '<edge>'}": 1.0,
        f"off={_bucket(i - original, 6)}": 1.0,
        f"top={top.dep_}": 1.0,
        f"top|t={top.dep_}|{tok.tag_}": 1.0,
        f"q={quoted}": 1.0,
    }
    if top.head.i in cue:
        f[f"cuechild={top.dep_}"] = 1.0
    if any(a.i in cue for a in tok.ancestors):
        f["under_cue"] = 1.0
    if cue:
        if i in cue:
            f["in_cue"] = 1.0
        elif i > max(cue):
            f[f"after_cue={_bucket(i - max(cue), 4)}"] = 1.0
        else:
            f[f"before_cue={_bucket(min(cue) - i, 4)}"] = 1.0
    if left:
        f[f"sent_start={tok.is_sent_start}"] = 1.0
    else:
        f[f"sent_end={tok.is_sent_end or (out is not None and out.is_sent_end and out.is_punct)}"] = 1.0
    if out is not None and out.is_space:
        f["para_edge"] = 1.0
    return f


@dataclass
class _Logistic:
    intercept: float
    weights: dict[str, float]

    def score(self, features: dict[str, float]) -> float:
        return self.intercept + sum(self.weights.get(k, 0.0) * v for k, v in features.items())


def _token_index(starts: list[int], char: int) -> int:
    return max(0, bisect.bisect_right(starts, char) - 1)


def edge_candidates(doc: Doc, start: int, end: int, window: int) -> Sides:
    """Tokens that might start or end a content now spanning tokens ``start``..``end`` (inclusive):
    up to ``window`` either side, inside the sentences the content touches, never whitespace."""
    sents = dc.sents(doc)
    lo = next(s.start for s in sents if s.start <= start < s.end)
    hi = next(s.end for s in sents if s.start <= end < s.end)
    starts = [i for i in range(max(lo, start - window), min(end, start + window) + 1) if not doc[i].is_space]
    ends = [i for i in range(max(start, end - window), min(hi - 1, end + window) + 1) if not doc[i].is_space]
    return starts, ends


def token_extent(starts: list[int], ranges: Sequence[tuple[int, int]]) -> tuple[int, int]:
    """First and last token of character ranges (``starts``: each token's first character)."""
    return _token_index(starts, ranges[0][0]), _token_index(starts, ranges[-1][1] - 1)


def role_ranges(c: Candidate, role: str) -> list[tuple[int, int]]:
    if role == "source":
        return [(c.source.start_char, c.source.end_char)] if c.source is not None else []
    return [c.cue] if role == "cue" else list(c.content)


@dataclass
class _RoleEdges:
    start: _Logistic
    end: _Logistic
    margin: float


class EdgeModel:
    """Moves source, cue and content edges to where PolNeAR's annotators draw them (see above)."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.window = int(data["window"])
        self.roles = {
            role: _RoleEdges(
                _Logistic(m["start"]["intercept"], m["start"]["weights"]),
                _Logistic(m["end"]["intercept"], m["end"]["weights"]),
                float(m["margin"]),
            )
            for role, m in data["roles"].items()
        }

    def refine(self, doc: Doc, candidates: Sequence[Candidate]) -> None:
        """Every role's new edges are decided from the spans as the extractor found them."""
        starts = [t.idx for t in dc.tokens(doc)]
        text = dc.text(doc)
        for c in candidates:
            cue = set(range(*_plus_one(token_extent(starts, [c.cue]))))
            moved: dict[str, tuple[int, int]] = {}
            for role, edges in self.roles.items():
                ranges = role_ranges(c, role)
                if not ranges:
                    continue
                s_tok, e_tok = token_extent(starts, ranges)
                if e_tok < s_tok:
                    continue
                quoted = text[ranges[0][0] : ranges[0][0] + 1] in _OPENERS
                s_cands, e_cands = edge_candidates(doc, s_tok, e_tok, self.window)
                new_s = self._best(edges.start, edges.margin, doc, s_cands, s_tok, cue, True, quoted)
                new_e = self._best(edges.end, edges.margin, doc, e_cands, e_tok, cue, False, quoted)
                if new_e >= new_s and (new_s, new_e) != (s_tok, e_tok):
                    s_char = doc[new_s].idx if new_s != s_tok else ranges[0][0]
                    e_char = doc[new_e].idx + len(doc[new_e].text) if new_e != e_tok else ranges[-1][1]
                    moved[role] = (s_char, e_char)
            if "source" in moved and c.source is not None:
                span = doc.char_span(*moved["source"], alignment_mode="expand")
                c.source = span if span is not None else c.source
            if "cue" in moved:
                c.cue = moved["cue"]
            if "content" in moved:
                s_char, e_char = moved["content"]
                first, last = c.content[0], c.content[-1]
                if len(c.content) == 1:
                    c.content = [(s_char, e_char)]
                elif s_char < first[1] and last[0] < e_char:  # a discontinuous content: only its outer edges move
                    c.content = [(s_char, first[1]), *c.content[1:-1], (last[0], e_char)]

    @staticmethod
    def _best(
        model: _Logistic, margin: float, doc: Doc, cands: list[int], original: int, cue: set[int], left: bool, quoted: bool
    ) -> int:
        if original not in cands:
            return original
        scores = {i: model.score(edge_features(doc, i, original, cue, left, quoted)) for i in cands}
        best = max(cands, key=lambda i: (scores[i], i == original))
        return best if scores[best] > scores[original] + margin else original


def _plus_one(extent: tuple[int, int]) -> tuple[int, int]:
    return extent[0], extent[1] + 1


def read_edges(text: str) -> EdgeModel:
    return EdgeModel(json.loads(text))


@lru_cache(maxsize=1)
def load_edges() -> EdgeModel | None:
    """The shipped edge model, or None when the package has none (the conventions still hold)."""
    path = resources.files("reportedly.models") / EDGES_ARTEFACT
    if not path.is_file():
        return None
    return read_edges(path.read_text(encoding="utf-8"))
