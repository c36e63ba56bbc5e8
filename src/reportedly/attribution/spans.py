"""Turning sets of tokens into clean character ranges."""

from __future__ import annotations

from collections.abc import Iterable

from spacy.tokens import Doc, Token

_EDGE_DROP = {",", ";", ":", "—", "–", "-", "(", ")", "“", "”", '"', "'", "‘", "’", "and", "but"}
_LEAD_DROP = {"that"}
_FINAL = {".", "!", "?"}  # the sentence's full stop belongs to the sentence, not to what was said


def _trim_run(doc: Doc, run: list[int], lead_that: bool) -> tuple[int, int] | None:
    lo, hi = 0, len(run)
    while lo < hi and (
        doc[run[lo]].is_space
        or doc[run[lo]].text in _EDGE_DROP
        or (lead_that and doc[run[lo]].lower_ in _LEAD_DROP and doc[run[lo]].dep_ == "mark")
    ):
        lo += 1
    while hi > lo and (
        doc[run[hi - 1]].is_space
        or doc[run[hi - 1]].text in _EDGE_DROP
        or (doc[run[hi - 1]].text in _FINAL and doc[run[hi - 1]].is_sent_end)
    ):
        hi -= 1
    if lo >= hi:
        return None
    # Keep a quotation closed: 'was “true.”' keeps its full stop and closing mark.
    kept = [doc[i].text for i in run[lo:hi]]
    opened = sum(t.count("“") for t in kept) - sum(t.count("”") for t in kept)
    straight = sum(t.count('"') for t in kept) % 2
    last = doc[run[hi - 1]]
    if opened > 0 or straight:
        # The closing mark (and the full stop inside it) may hang on the main verb, outside the run.
        closer = "”" if opened > 0 else '"'
        for k in range(last.i + 1, min(last.i + 4, len(doc))):
            if not doc[k].is_punct:
                break
            if closer in doc[k].text:
                last = doc[k]
                break
    first = doc[run[lo]]
    if all(doc[i].is_punct or doc[i].is_space for i in run[lo:hi]):
        return None
    return first.idx, last.idx + len(last.text)


def token_ranges(doc: Doc, indices: Iterable[int], *, lead_that: bool = False) -> list[tuple[int, int]]:
    """Contiguous runs of the given token indices as trimmed char ranges, in text order.

    Sentence-final punctuation stays outside; the complementiser "that" stays inside unless
    ``lead_that`` is False (PolNeAR's annotators keep it: "reports [that Clinton's team ...]").
    """
    idx = sorted(set(indices))
    runs: list[list[int]] = []
    for i in idx:
        if runs and i == runs[-1][-1] + 1:
            runs[-1].append(i)
        else:
            runs.append([i])
    out = []
    for k, run in enumerate(runs):
        r = _trim_run(doc, run, lead_that and k == 0)
        if r is not None:
            out.append(r)
    return out


def subtree_minus(tok: Token, exclude: Iterable[Token] = ()) -> set[int]:
    """Token indices of ``tok``'s subtree without the subtrees of ``exclude``."""
    keep = {t.i for t in tok.subtree}
    for ex in exclude:
        keep -= {t.i for t in ex.subtree}
    return keep


def strip_range(text: str, s: int, e: int) -> tuple[int, int]:
    """``s..e`` without the whitespace at its edges."""
    while s < e and text[s].isspace():
        s += 1
    while e > s and text[e - 1].isspace():
        e -= 1
    return s, e


def ranges_overlap(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]
