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


def _tokens_in(tokens: list[Token], starts: list[int], words: list[int], ranges: list[tuple[int, int]]) -> list[int]:
    """The tokens overlapping the ranges, spaces aside (``char_span(..., "expand")`` without
    building a Span and new Token objects for each claim); ``words``: ``dc.non_space``."""
    ids: list[int] = []
    for s, e in ranges:
        lo = max(0, bisect.bisect_right(starts, s) - 1)
        if lo < len(tokens) and starts[lo] + len(tokens[lo].text) <= s:
            lo += 1  # s falls in the whitespace after a token
        hi = bisect.bisect_left(starts, e)
        ids += words[bisect.bisect_left(words, lo) : bisect.bisect_left(words, hi)]
    return ids


def _main_predicate(tokens: list[Token], roots: set[int]) -> int:
    """The claim's highest verb (a content cut around a parenthetical can have several roots)."""
    ordered = sorted(roots)
    return next((i for i in ordered if tokens[i].pos_ in ("VERB", "AUX")), ordered[0])


def _within(sorted_chars: list[int], s: int, e: int) -> list[int]:
    return sorted_chars[bisect.bisect_left(sorted_chars, s) : bisect.bisect_left(sorted_chars, e)]


def _sentences_over(starts: list[int], ends: list[int], s: int, e: int) -> range:
    """The sentences (by their sorted, disjoint character bounds) that overlap [s, e)."""
    return range(bisect.bisect_right(ends, s), bisect.bisect_left(starts, e))


def build_claims(
    doc: Doc,
    attributions: list[Attribution],
    cue_tokens: dict[str, Token | None],
    found_hedges: list[FoundHedge],
    hedges: list[Hedge],
    acts: frozenset[str] = frozenset(),
) -> list[Claim]:
    text = dc.text(doc)
    claims: list[Claim] = []
    covered: list[tuple[int, int]] = []
    cue_starts = sorted(a.cue.start for a in attributions)
    hedge_at = {h.start_tok: (h, hm) for h, hm in zip(found_hedges, hedges, strict=True)}
    factuality = load_factuality_model()

    heads, deps, all_toks = dc.heads(doc), dc.deps(doc), dc.tokens(doc)
    starts, non_space = dc.token_starts(doc), dc.non_space(doc)

    def certainty_of(inside: set[int], roots: set[int], cue: Token | None) -> tuple[Certainty, list[str]]:
        cue_i = cue.i if cue is not None else None
        kinds, ids = [], []
        for tok_i, (fh, hm) in hedge_at.items():
            if tok_i in inside:
                hit = governs(heads, deps, tok_i, roots)
            else:
                # A hedge on the cue ("reportedly said", "may have said") weakens what is relayed.
                head = heads[tok_i]
                hit = cue_i is not None and (head == cue_i or (heads[head] == cue_i and deps[head] == "aux"))
            if hit:
                kinds.append(fh.kind)
                ids.append(hm.id)
        return combine(kinds), ids

    def add(ranges: list[tuple[int, int]], attribution_id: str | None, cue: Token | None) -> None:
        toks = _tokens_in(all_toks, starts, non_space, ranges)
        if not toks:
            return
        inside = set(toks)
        roots = {i for i in toks if heads[i] not in inside or heads[i] == i}
        certainty, ids = certainty_of(inside, roots, cue)
        claims.append(
            Claim(
                id=f"c{len(claims) + 1}",
                content=[Span(start=s, end=e, text=text[s:e]) for s, e in ranges],
                certainty=certainty,
                hedge_ids=ids,
                attribution_id=attribution_id,
                factuality=round(factuality.predict(all_toks[_main_predicate(all_toks, roots)]), 3),
            )
        )

    sents = [s for s in dc.sents(doc) if text[s.start_char : s.end_char].strip()]
    # Sentences are disjoint and in order, so those a range overlaps are found by bisection
    # rather than by testing every sentence against every piece.
    sent_starts = [s.start_char for s in sents]
    sent_ends = [s.end_char for s in sents]
    # ``acts``: attributions that are also acts the outlet itself asserts, a stance on a thing
    # ("Officials did not approve the merger"): their sentences keep the outlet's own claim.
    for a in attributions:
        pieces = [(p.start, p.end) for p in a.content]
        cue = cue_tokens.get(a.id)
        if a.id not in acts:
            covered += pieces
        # The other attributions' cues inside this content: each may take a sentence as its own.
        inner_cues = {c for s, e in pieces for c in _within(cue_starts, s, e)}
        inner_cues.discard(a.cue.start)
        for j in sorted({j for s, e in pieces for j in _sentences_over(sent_starts, sent_ends, s, e)}):
            s0, s1 = sent_starts[j], sent_ends[j]
            parts = [(max(s, s0), min(e, s1)) for s, e in pieces if s < s1 and s0 < e]
            parts = [(s, e) for s, e in parts if text[s:e].strip()]
            if not parts:
                continue
            nested = any(s0 <= c < s1 for c in inner_cues)
            if nested:
                continue
            parts = [strip_range(text, s, e) for s, e in parts]
            add(parts, a.id, cue)

    taken = {j for s, e in covered for j in _sentences_over(sent_starts, sent_ends, s, e)}
    for a in attributions:
        j = bisect.bisect_right(sent_starts, a.cue.start) - 1  # the one sentence that can hold the cue
        if j >= 0 and a.cue.start < sent_ends[j] and a.id not in acts:
            taken.add(j)
    previous: Claim | None = None
    for j, sent in enumerate(sents):
        if j in taken:
            previous = None
            continue
        words = [t for t in all_toks[sent.start : sent.end] if not (t.is_punct or t.is_space)]
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
