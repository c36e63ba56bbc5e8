"""Where an attribution's spans begin and end: PolNeAR's conventions, applied to every extractor.

The rules and the learned taggers find the same attributions but draw their edges differently;
these conventions are what the annotators did, counted on PolNeAR train (about 22,000
attributions), and hold whichever extractor found the spans:

- **A reported clause leaves the sentence's full stop out**: of plain (unquoted) contents that
  end a sentence, 9,420 stop before the full stop and 46 keep it. A quotation keeps its own
  (``“… racism.”``), as does an abbreviation ("U.S.").
- **A clause leaves the comma after it out** ("…to recuse himself[,] these people said"): of
  unquoted content pieces next to a comma, 3,675 stop before it and 121 take it in.
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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache
from importlib import resources
from itertools import repeat
from typing import Any

from spacy.tokens import Doc, Token

from reportedly.attribution.extractor import LAYOUT_RULES, Candidate
from reportedly.attribution.spans import strip_range
from reportedly.pipeline import doccache as dc

_ABBREVIATIONS = {"jr", "sr", "inc", "co", "corp", "ltd", "st", "mr", "mrs", "dr", "ms", "no", "vs", "gov", "sen", "rep"}
_QUOTE_PAIRS = (("''", "''"), ("``", "''"), ('"', '"'), ("“", "”"), ("‘", "’"))
_OPENERS = "\"“‘'`"
_CUE_PREPOSITIONS = {"to", "about", "of", "for", "on", "with", "as", "by", "at", "against", "into", "over", "from", "upon"}


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


def _closing_mark_end(text: str, s: int, e: int) -> int | None:
    """Where a span ends that takes in the closing mark of a quotation opened inside it and left
    open (with the comma or full stop before the mark): "the tax ''is a misguided approach,''"."""
    piece = text[s:e]
    # Not ‘ ’: the closing single quote is also the apostrophe ("Trump’s").
    for opener, closer in (("``", "''"), ("“", "”"), ("''", "''"), ('"', '"')):
        left_open = piece.count(opener) % 2 == 1 if opener == closer else piece.count(opener) > piece.count(closer)
        if not left_open:
            continue
        k = e + 1 if e < len(text) and text[e] in ",.?!" else e
        return k + len(closer) if text.startswith(closer, k) else None
    return None


def polish_content(text: str, content: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out = []
    for s0, e0 in content:
        s, e = strip_range(text, s0, e0)
        if s >= e:
            continue
        if _drops_full_stop(text, s, e):
            e -= 1
        elif text[e - 1] == "," and text[s] not in _OPENERS:
            e = strip_range(text, s, e - 1)[1] if e - 1 > s else e
        widened = _quote_pair(text, s, e)
        if widened is not None:
            s, e = widened
        else:
            e = _closing_mark_end(text, s, e) or e
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
# margin (tuned on dev, per role). Each learned mode has its own file, because the edges worth
# moving depend on what the extractor draws: see scripts/train_attribution_edges.py.

EDGES_ARTEFACTS = {"fast": "attribution_edges_fast.json", "accurate": "attribution_edges.json"}
ROLES = ("source", "cue", "content")
Sides = tuple[list[int], list[int]]  # candidate start tokens, candidate end tokens


@dataclass(frozen=True)
class _Arrays:
    """What the edge features read of a document, as plain lists where other steps already keep
    them; the rest is read from the tokens only for the few tokens near an edge."""

    toks: list[Token]
    lower: list[str]
    dep: list[str]
    head: list[int]
    left: list[int]  # each token's left_edge (spaCy's, ``dc.edges``)
    right: list[int]
    sent_start: set[int]
    sent_end: set[int]
    views: dict[tuple[int, bool], _TokenView]  # filled as tokens are looked at (windows overlap)
    # Each edge model's score of a token's span-free features, by token and side: the windows of
    # neighbouring attributions overlap, so the same token is scored many times. Keyed by the
    # model's id, with the model held so that the id cannot be reused while the cache lives.
    partials: dict[int, tuple[_Logistic, dict[tuple[int, bool], float]]]


def _arrays(doc: Doc) -> _Arrays:
    def build(d: Doc) -> _Arrays:
        sents = dc.sents(d)
        return _Arrays(
            dc.tokens(d),
            dc.lowers(d),
            dc.deps(d),
            dc.heads(d),
            *dc.edges(d),
            set(dc.sent_starts(d)),
            {s.end - 1 for s in sents},
            {},
            {},
        )

    return dc.memo(doc, "edge_arrays", build)


def _top(a: _Arrays, i: int, left: bool) -> int:
    """The highest ancestor whose subtree starts (``left``) or ends at token ``i``."""
    edge = a.left if left else a.right
    k, steps = i, 0
    while a.head[k] != k and steps < len(a.head):
        up = a.head[k]
        if edge[up] != i:
            break
        k, steps = up, steps + 1
    return k


@dataclass(frozen=True)
class _TokenView:
    """What a token's edge features need that does not depend on the span: computed once a token."""

    names: tuple[str, ...]
    top_head: int
    top_dep: str
    ancestors: frozenset[int]


def _view(a: _Arrays, i: int, left: bool) -> _TokenView:
    cached = a.views.get((i, left))
    if cached is not None:
        return cached
    n = len(a.head)
    o = (i - 1 if i > 0 else None) if left else (i + 1 if i + 1 < n else None)
    top = _top(a, i, left)
    tag = a.toks[i].tag_
    out_tag = a.toks[o].tag_ if o is not None else "<edge>"
    names = [
        "bias",
        f"w={a.lower[i]}",
        f"t={tag}",
        f"d={a.dep[i]}",
        f"o={a.lower[o] if o is not None else '<edge>'}",
        f"ot={out_tag}",
        f"t|ot={tag}|{out_tag}",
        f"top={a.dep[top]}",
        f"top|t={a.dep[top]}|{tag}",
    ]
    if left:
        names.append(f"sent_start={i in a.sent_start}")
    else:
        names.append(f"sent_end={i in a.sent_end or (o is not None and o in a.sent_end and a.toks[o].is_punct)}")
    if o is not None and a.toks[o].is_space:
        names.append("para_edge")
    ancestors = []
    k, steps = i, 0
    while a.head[k] != k and steps < n:
        k, steps = a.head[k], steps + 1
        ancestors.append(k)
    view = a.views[(i, left)] = _TokenView(tuple(names), a.head[top], a.dep[top], frozenset(ancestors))
    return view


def _span_features(view: _TokenView, i: int, original: int, cue: set[int], lo: int, hi: int, quoted: bool) -> list[str]:
    """The features of token ``i`` that depend on the span: where the extractor put the edge, the
    cue (tokens ``cue``, from ``lo`` to ``hi``)."""
    names = [f"off={max(-6, min(6, i - original))}", "q=True" if quoted else "q=False"]
    if view.top_head in cue:
        names.append(f"cuechild={view.top_dep}")
    if not view.ancestors.isdisjoint(cue):
        names.append("under_cue")
    if cue:
        if i in cue:
            names.append("in_cue")
        elif i > hi:
            names.append(f"after_cue={min(4, i - hi)}")
        else:
            names.append(f"before_cue={min(4, lo - i)}")
    return names


def edge_features(doc: Doc, i: int, original: int, cue: set[int], left: bool, quoted: bool) -> dict[str, float]:
    """Evidence that a span starts (``left``) or ends at token ``i``; ``original`` is where the
    extractor put that edge, ``cue`` the attribution's cue tokens as the extractor found them."""
    view = _view(_arrays(doc), i, left)
    lo, hi = (min(cue), max(cue)) if cue else (0, 0)
    return dict.fromkeys((*view.names, *_span_features(view, i, original, cue, lo, hi, quoted)), 1.0)


@dataclass
class _Logistic:
    intercept: float
    weights: dict[str, float]

    def partial(self, names: Iterable[str]) -> float:
        """The score of binary features, without the intercept."""
        return sum(map(self.weights.get, names, repeat(0.0)))

    def span_score(self, view: _TokenView, i: int, original: int, cue: set[int], lo: int, hi: int, quoted: bool) -> float:
        """``partial(_span_features(...))``, from tables instead of feature names (it runs for
        every candidate token)."""
        t = self._tables
        score = t.off[max(-6, min(6, i - original)) + 6] + t.quoted[quoted]
        if view.top_head in cue:
            score += t.cuechild.get(view.top_dep, 0.0)
        if not view.ancestors.isdisjoint(cue):
            score += t.under_cue
        if cue:
            if i in cue:
                score += t.in_cue
            elif i > hi:
                score += t.after[min(4, i - hi)]
            else:
                score += t.before[max(0, min(4, lo - i))]
        return score

    @cached_property
    def _tables(self) -> _SpanTables:
        w = self.weights.get
        return _SpanTables(
            off=[w(f"off={d}", 0.0) for d in range(-6, 7)],
            quoted={True: w("q=True", 0.0), False: w("q=False", 0.0)},
            cuechild={k.removeprefix("cuechild="): v for k, v in self.weights.items() if k.startswith("cuechild=")},
            under_cue=w("under_cue", 0.0),
            in_cue=w("in_cue", 0.0),
            after=[w(f"after_cue={d}", 0.0) for d in range(5)],
            before=[w(f"before_cue={d}", 0.0) for d in range(5)],
        )


@dataclass(frozen=True)
class _SpanTables:
    off: list[float]  # offset -6..6 from the extractor's edge
    quoted: dict[bool, float]
    cuechild: dict[str, float]
    under_cue: float
    in_cue: float
    after: list[float]  # tokens after the cue, 0..4
    before: list[float]


def _token_index(starts: list[int], char: int) -> int:
    return max(0, bisect.bisect_right(starts, char) - 1)


def edge_candidates(doc: Doc, start: int, end: int, window: int) -> Sides:
    """Tokens that might start or end a content now spanning tokens ``start``..``end`` (inclusive):
    up to ``window`` either side, inside the sentences the content touches, never whitespace."""
    sents = dc.sents(doc)
    sent_starts = dc.sent_starts(doc)
    lo = sents[bisect.bisect_right(sent_starts, start) - 1].start
    hi = sents[bisect.bisect_right(sent_starts, end) - 1].end
    toks = dc.tokens(doc)
    starts = [i for i in range(max(lo, start - window), min(end, start + window) + 1) if not toks[i].is_space]
    ends = [i for i in range(max(start, end - window), min(hi - 1, end + window) + 1) if not toks[i].is_space]
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
    start: _Logistic | None  # None: this edge stays where the extractor put it
    end: _Logistic | None
    margin: float
    window: int


class EdgeModel:
    """Moves span edges to where PolNeAR's annotators draw them (see above): each role and edge the
    model file holds."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.roles = {
            role: _RoleEdges(
                _Logistic(m["start"]["intercept"], m["start"]["weights"]) if "start" in m else None,
                _Logistic(m["end"]["intercept"], m["end"]["weights"]) if "end" in m else None,
                float(m["margin"]),
                int(m.get("window", data["window"])),
            )
            for role, m in data["roles"].items()
        }

    def refine(self, doc: Doc, candidates: Sequence[Candidate]) -> None:
        """Every role's new edges are decided from the spans as the extractor found them."""
        starts = dc.token_starts(doc)
        text = dc.text(doc)
        for c in candidates:
            if c.rule in LAYOUT_RULES:  # the layout drew these edges: the line, the label, the marks
                continue
            cue_lo, cue_hi = token_extent(starts, [c.cue])
            cue = set(range(cue_lo, cue_hi + 1))
            moved: dict[str, tuple[int, int]] = {}
            for role, edges in self.roles.items():
                ranges = role_ranges(c, role)
                if not ranges:
                    continue
                s_tok, e_tok = token_extent(starts, ranges)
                if e_tok < s_tok:
                    continue
                quoted = text[ranges[0][0] : ranges[0][0] + 1] in _OPENERS
                s_cands, e_cands = edge_candidates(doc, s_tok, e_tok, edges.window)
                new_s = (
                    s_tok
                    if edges.start is None
                    else self._best(edges.start, edges.margin, doc, s_cands, s_tok, cue, True, quoted)
                )
                new_e = (
                    e_tok if edges.end is None else self._best(edges.end, edges.margin, doc, e_cands, e_tok, cue, False, quoted)
                )
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
        # The intercept is common to all candidates: only the features tell them apart.
        a = _arrays(doc)
        lo, hi = (min(cue), max(cue)) if cue else (0, 0)
        scores = {}
        entry = a.partials.get(id(model))
        if entry is None or entry[0] is not model:
            entry = a.partials[id(model)] = (model, {})
        known = entry[1]
        for i in cands:
            view = _view(a, i, left)
            partial = known.get((i, left))
            if partial is None:
                partial = known[(i, left)] = model.partial(view.names)
            scores[i] = partial + model.span_score(view, i, original, cue, lo, hi, quoted)
        best = max(cands, key=lambda i: (scores[i], i == original))
        return best if scores[best] > scores[original] + margin else original


def read_edges(text: str) -> EdgeModel:
    return EdgeModel(json.loads(text))


@lru_cache(maxsize=len(EDGES_ARTEFACTS))
def load_edges(mode: str = "fast") -> EdgeModel | None:
    """The shipped edge model of a learned mode, or None when the package has none (the
    conventions still hold)."""
    if mode not in EDGES_ARTEFACTS:
        raise ValueError(f"no edge model for mode {mode!r}: choose one of {', '.join(EDGES_ARTEFACTS)}")
    path = resources.files("reportedly.models") / EDGES_ARTEFACTS[mode]
    if not path.is_file():
        return None
    return read_edges(path.read_text(encoding="utf-8"))
