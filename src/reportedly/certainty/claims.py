"""Claims: what is asserted, by whom (an attribution, or the outlet itself), and how firmly.

- Each attribution yields one claim per sentence of its content; a sentence that carries the cue
  of an attribution nested inside is left to that inner attribution (it is the inner source's
  claim, relayed).
- Each sentence outside every attribution is a claim of the outlet itself.
- A sentence that is nothing but a hedge ("Probably.") hedges the claim of the sentence before.
"""

from __future__ import annotations

import bisect

from spacy.tokens import Doc, Token

from reportedly.attribution.spans import strip_range
from reportedly.certainty.hedges import FoundHedge, combine, governs
from reportedly.certainty.model import load_factuality_model
from reportedly.model import Attribution, Certainty, Claim, Hedge, Span
from reportedly.pipeline import doccache as dc


def _tokens_in(doc: Doc, ranges: list[tuple[int, int]]) -> list[Token]:
    """The tokens overlapping the ranges, spaces aside (``char_span(..., "expand")`` without
    building a Span and new Token objects for each claim)."""
    tokens = dc.tokens(doc)
    starts = dc.token_starts(doc)
    toks: list[Token] = []
    for s, e in ranges:
        lo = max(0, bisect.bisect_right(starts, s) - 1)
        if lo < len(tokens) and tokens[lo].idx + len(tokens[lo].text) <= s:
            lo += 1  # s falls in the whitespace after a token
        hi = bisect.bisect_left(starts, e)
        toks.extend(t for t in tokens[lo:hi] if not t.is_space)
    return toks


def _roots(toks: list[Token]) -> set[int]:
    if not toks:
        return set()
    heads = dc.heads(toks[0].doc)
    inside = {t.i for t in toks}
    return {t.i for t in toks if heads[t.i] not in inside or heads[t.i] == t.i}


def _main_predicate(doc: Doc, toks: list[Token]) -> Token:
    """The claim's highest verb (a content cut around a parenthetical can have several roots)."""
    roots = sorted(_roots(toks))
    return next((doc[i] for i in roots if doc[i].pos_ in ("VERB", "AUX")), doc[roots[0]])


def build_claims(
    doc: Doc,
    attributions: list[Attribution],
    cue_tokens: dict[str, Token | None],
    found_hedges: list[FoundHedge],
    hedges: list[Hedge],
) -> list[Claim]:
    text = dc.text(doc)
    claims: list[Claim] = []
    covered: list[tuple[int, int]] = []
    cue_starts = [a.cue.start for a in attributions]
    hedge_at = {h.start_tok: (h, hm) for h, hm in zip(found_hedges, hedges, strict=True)}
    factuality = load_factuality_model()

    heads, deps, all_toks = dc.heads(doc), dc.deps(doc), dc.tokens(doc)

    def certainty_of(toks: list[Token], cue: Token | None) -> tuple[Certainty, list[str]]:
        roots = _roots(toks)
        inside = {t.i for t in toks}
        kinds, ids = [], []
        for tok_i, (fh, hm) in hedge_at.items():
            if tok_i in inside:
                hit = governs(all_toks[tok_i], roots)
            else:
                # A hedge on the cue ("reportedly said", "may have said") weakens what is relayed.
                head = heads[tok_i]
                hit = cue is not None and (head == cue.i or (heads[head] == cue.i and deps[head] == "aux"))
            if hit:
                kinds.append(fh.kind)
                ids.append(hm.id)
        return combine(kinds), ids

    def add(ranges: list[tuple[int, int]], attribution_id: str | None, cue: Token | None) -> None:
        toks = _tokens_in(doc, ranges)
        if not toks:
            return
        certainty, ids = certainty_of(toks, cue)
        claims.append(
            Claim(
                id=f"c{len(claims) + 1}",
                content=[Span(start=s, end=e, text=text[s:e]) for s, e in ranges],
                certainty=certainty,
                hedge_ids=ids,
                attribution_id=attribution_id,
                factuality=round(factuality.predict(_main_predicate(doc, toks)), 3),
            )
        )

    sents = [s for s in dc.sents(doc) if text[s.start_char : s.end_char].strip()]
    for a in attributions:
        pieces = [(p.start, p.end) for p in a.content]
        covered += pieces
        cue = cue_tokens.get(a.id)
        for sent in sents:
            s0, s1 = sent.start_char, sent.end_char
            parts = [(max(s, s0), min(e, s1)) for s, e in pieces if s < s1 and s0 < e]
            parts = [(s, e) for s, e in parts if text[s:e].strip()]
            if not parts:
                continue
            nested = any(s0 <= c < s1 and any(s <= c < e for s, e in pieces) for c in cue_starts if c != a.cue.start)
            if nested:
                continue
            parts = [strip_range(text, s, e) for s, e in parts]
            add(parts, a.id, cue)

    cue_ranges = [(a.cue.start, a.cue.end) for a in attributions]
    previous: Claim | None = None
    for sent in sents:
        s0, s1 = sent.start_char, sent.end_char
        if any(s < s1 and s0 < e for s, e in covered) or any(s0 <= c < s1 for c, _ in cue_ranges):
            previous = None
            continue
        words = [t for t in dc.tokens(doc)[sent.start : sent.end] if not (t.is_punct or t.is_space)]
        if not words:
            continue
        if not any(t.pos_ in ("VERB", "AUX") for t in words):
            aside = [hedge_at[t.i] for t in words if t.i in hedge_at]
            if previous is not None and aside and len(words) <= 2:
                previous.hedge_ids += [hm.id for _, hm in aside]
                previous.certainty = combine([previous.certainty] + [fh.kind for fh, _ in aside])
            continue
        add([strip_range(text, words[0].idx, words[-1].idx + len(words[-1].text))], None, None)
        previous = claims[-1]
    return claims
