"""Turning sets of tokens into clean character ranges."""

from __future__ import annotations

from collections.abc import Iterable

from spacy.tokens import Doc, Token

from reportedly.pipeline import doccache as dc

_EDGE_DROP = {",", ";", ":", "—", "–", "-", "(", ")", "“", "”", '"', "'", "‘", "’", "and", "but"}
_LEAD_DROP = {"that"}
_FINAL = {".", "!", "?"}  # the sentence's full stop belongs to the sentence, not to what was said


def _trim_run(doc: Doc, run: list[int], lead_that: bool) -> tuple[int, int] | None:
    # The per-doc lists, not ``doc[i]``: that builds a Token on every read.
    text, space, punct = dc.texts(doc), dc.spaces(doc), dc.puncts(doc)
    lower, dep = dc.lowers(doc), dc.deps(doc)
    lo, hi = 0, len(run)
    while lo < hi and (
        space[run[lo]] or text[run[lo]] in _EDGE_DROP or (lead_that and lower[run[lo]] in _LEAD_DROP and dep[run[lo]] == "mark")
    ):
        lo += 1
    while hi > lo and (
        space[run[hi - 1]] or text[run[hi - 1]] in _EDGE_DROP or (text[run[hi - 1]] in _FINAL and doc[run[hi - 1]].is_sent_end)
    ):
        hi -= 1
    if lo >= hi:
        return None
    # Keep a quotation closed: 'was “true.”' keeps its full stop and closing mark.
    kept = [text[i] for i in run[lo:hi]]
    opened = sum(t.count("“") for t in kept) - sum(t.count("”") for t in kept)
    straight = sum(t.count('"') for t in kept) % 2
    last = run[hi - 1]
    if opened > 0 or straight:
        # The closing mark (and the full stop inside it) may hang on the main verb, outside the run.
        closer = "”" if opened > 0 else '"'
        for k in range(last + 1, min(last + 4, len(doc))):
            if not punct[k]:
                break
            if closer in text[k]:
                last = k
                break
    if all(punct[i] or space[i] for i in run[lo:hi]):
        return None
    starts = dc.token_starts(doc)
    return starts[run[lo]], starts[last] + len(text[last])


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
    keep = _subtree(tok.doc, tok.i)
    for ex in exclude:
        keep -= _subtree(ex.doc, ex.i)
    return keep


def _subtree(doc: Doc, root: int) -> set[int]:
    """``{t.i for t in doc[root].subtree}`` from the per-doc heads, without a Token per word.

    Like ``Token.lefts`` and ``Token.rights``, a token's children are sought between its edges."""
    head = dc.heads(doc)
    left, right = dc.edges(doc)
    out = {root}
    todo = [root]
    while todo:
        j = todo.pop()
        for k in range(left[j], right[j] + 1):
            if head[k] == j and k != j:
                out.add(k)
                todo.append(k)
    return out


def strip_range(text: str, s: int, e: int) -> tuple[int, int]:
    """``s..e`` without the whitespace at its edges."""
    while s < e and text[s].isspace():
        s += 1
    while e > s and text[e - 1].isspace():
        e -= 1
    return s, e


def ranges_overlap(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]
