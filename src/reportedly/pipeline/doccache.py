"""Per-document caches shared by the analysers.

Iterating a spaCy Doc builds a new Token object for every token, ``Token.head`` builds one on
every read, and ``Doc.sents`` and ``Doc.text`` walk the whole document each time they are read.
The analysers look at the same document many times, so they share one of each per Doc.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar, cast

import numpy as np
from spacy.attrs import DEP, HEAD, IS_PUNCT, IS_SPACE, LEMMA, LOWER, ORTH, POS, TAG
from spacy.parts_of_speech import NAMES as POS_NAMES
from spacy.tokens import Doc, Span, Token

_PREFIX = "reportedly."
T = TypeVar("T")


def memo(doc: Doc, key: str, compute: Callable[[Doc], T]) -> T:
    """``compute(doc)``, once per Doc until :func:`release`."""
    full = _PREFIX + key
    cached = doc.user_data.get(full)
    if cached is None:
        cached = doc.user_data[full] = compute(doc)
    return cast(T, cached)


def keep(doc: Doc, key: str, value: object) -> None:
    """Record what one step learned of ``doc`` for a later one (until :func:`release`)."""
    doc.user_data[_PREFIX + key] = value


def kept(doc: Doc, key: str) -> object | None:
    """What :func:`keep` recorded under ``key``, or None."""
    return doc.user_data.get(_PREFIX + key)


def tokens(doc: Doc) -> list[Token]:
    return memo(doc, "tokens", list)


def sents(doc: Doc) -> list[Span]:
    return memo(doc, "sents", lambda d: list(d.sents))


def token_starts(doc: Doc) -> list[int]:
    """Each token's first character, to find tokens by offset with ``bisect``."""
    return memo(doc, "token_starts", lambda d: [t.idx for t in tokens(d)])


def sent_starts(doc: Doc) -> list[int]:
    """Each sentence's first token."""
    return memo(doc, "sent_starts", lambda d: [s.start for s in sents(d)])


def text(doc: Doc) -> str:
    return memo(doc, "text", lambda d: d.text)


def prime_text(doc: Doc, text: str) -> None:
    """Record the text ``doc`` was made from: spaCy's ``Doc.text`` rebuilds it token by token."""
    last = doc[-1] if len(doc) else None
    if last is None or last.idx + len(last.text_with_ws) == len(text):
        doc.user_data[_PREFIX + "text"] = text


def lowers(doc: Doc) -> list[str]:
    return memo(doc, "lower", lambda d: _strings(d, LOWER))


def heads(doc: Doc) -> list[int]:
    """Each token's head index."""
    # From the array spaCy stores (offsets to the head), not ``t.head.i``: that makes a Token per word.
    return memo(doc, "heads", lambda d: (np.arange(len(d)) + d.to_array([HEAD]).astype(np.int64)).tolist())


def deps(doc: Doc) -> list[str]:
    """Each token's dependency label."""
    return memo(doc, "deps", lambda d: _strings(d, DEP))


def sent_roots(doc: Doc) -> list[int]:
    """Each sentence's root token, as spaCy's ``Span.root`` finds it."""
    return memo(doc, "sent_roots", lambda d: [s.root.i for s in sents(d)])


@dataclass(frozen=True)
class Parse:
    """The tree as flat lists, to walk it by token index: ``Token.head`` and ``Token.children``
    make a new Token object on every read. Attributes read only for a few tokens (tag, lemma) are
    left on the shared ``tokens``: a list of them per document costs more than the reads."""

    tokens: list[Token]
    head: list[int]
    dep: list[str]
    lower: list[str]
    start: list[int]  # first character
    # Children of token i: kids[kid_start[i] : kid_start[i + 1]]. Two flat lists, not a list per
    # token: thousands of long-lived lists per document set off the garbage collector.
    kids: list[int]
    kid_start: list[int]

    def children(self, i: int) -> list[int]:
        """What ``Token.children`` yields, in order, as indices."""
        return self.kids[self.kid_start[i] : self.kid_start[i + 1]]

    def end(self, i: int) -> int:
        """One past the last character of token ``i``."""
        return self.start[i] + len(self.tokens[i].text)


def parse(doc: Doc) -> Parse:
    def build(d: Doc) -> Parse:
        head = heads(d)
        h = np.asarray(head, dtype=np.int64)
        at = np.arange(len(h))
        child = at[h != at]
        kids = child[np.argsort(h[child], kind="stable")]  # stable: each head's children stay in order
        kid_start = np.concatenate(([0], np.cumsum(np.bincount(h[child], minlength=len(h)))))
        return Parse(tokens(d), head, deps(d), lowers(d), token_starts(d), kids.tolist(), kid_start.tolist())

    return memo(doc, "parse", build)


def verbs(doc: Doc) -> list[int]:
    """The tokens whose part of speech is VERB, ascending."""
    return memo(doc, "verbs", lambda d: [i for i, p in enumerate(pos(d)) if p == "VERB"])


def non_space(doc: Doc) -> list[int]:
    """The tokens that are not whitespace, ascending."""
    return memo(doc, "non_space", lambda d: [i for i, s in enumerate(spaces(d)) if not s])


def _column(doc: Doc, attr: int) -> list[int]:
    return cast(list[int], doc.to_array([attr]).ravel().tolist()) if len(doc) else []


def _strings(doc: Doc, attr: int, convert: Callable[[str], str] = str) -> list[str]:
    """An attribute's string for every token, read as one array: ``Token.lemma_`` and the like
    make a Token per word, and a document repeats few distinct values, looked up once each."""
    ids = _column(doc, attr)
    strings = doc.vocab.strings
    names = {h: convert(strings[h]) for h in set(ids)}
    return list(map(names.__getitem__, ids))


def texts(doc: Doc) -> list[str]:
    """Each token's text (``Token.text``)."""
    return memo(doc, "texts", lambda d: _strings(d, ORTH))


def lower_lemmas(doc: Doc) -> list[str]:
    """Each token's lemma in lower case, the form in which the lexicons and models compare lemmas."""
    return memo(doc, "lower_lemmas", lambda d: _strings(d, LEMMA, str.lower))


def pos(doc: Doc) -> list[str]:
    """Each token's coarse part of speech (``Token.pos_``)."""
    # POS is an enum, not a string of the StringStore: spaCy names it from this table.
    return memo(doc, "pos", lambda d: list(map(POS_NAMES.__getitem__, _column(d, POS))))


def tags(doc: Doc) -> list[str]:
    """Each token's fine-grained tag (``Token.tag_``)."""
    return memo(doc, "tags", lambda d: _strings(d, TAG))


def puncts(doc: Doc) -> list[bool]:
    """Whether each token is punctuation (``Token.is_punct``)."""
    return memo(doc, "puncts", lambda d: list(map(bool, _column(d, IS_PUNCT))))


def spaces(doc: Doc) -> list[bool]:
    """Whether each token is whitespace (``Token.is_space``)."""
    return memo(doc, "spaces", lambda d: list(map(bool, _column(d, IS_SPACE))))


def edges(doc: Doc) -> tuple[list[int], list[int]]:
    """Each token's ``left_edge`` and ``right_edge`` index, without a Token per read.

    Computed from the heads the way spaCy sets them (``set_children_from_heads`` in
    ``tokens/doc.pyx``, run over the whole Doc by the parser, ``Doc.from_array`` and the
    retokenizer): passes forwards then backwards, repeated while a head lies outside its sentence.
    For a non-projective parse that can stop short of the true extent of the subtree, so the
    edges must be spaCy's, not recomputed from the subtree.
    """
    return memo(doc, "edges", _spacy_edges)


def _spacy_edges(doc: Doc) -> tuple[list[int], list[int]]:
    head = heads(doc)
    n = len(head)
    left = list(range(n))
    right = list(range(n))
    loop_count = 0
    while True:
        for i, h in enumerate(head):
            if left[i] < left[h]:
                left[h] = left[i]
            if right[i] > right[h]:
                right[h] = right[i]
        for i in range(n - 1, -1, -1):
            h = head[i]
            if right[i] > right[h]:
                right[h] = right[i]
            if left[i] < left[h]:
                left[h] = left[i]
        if _heads_within_sents(head, left) or loop_count > 10:
            return left, right
        loop_count += 1


def _heads_within_sents(head: list[int], left: list[int]) -> bool:
    """spaCy's test for stopping (``_set_lr_kids_and_edges``): a sentence starts at each root's left
    edge, and the last token closes the last one; the heads of a sentence's tokens lie in it or on
    the token that starts the next (spaCy's bounds, kept as they are)."""
    end = len(head)
    starts = {left[i] for i, h in enumerate(head) if h == i}
    bounds = sorted(b for b in starts if 0 < b < end - 1)
    bounds.append(end - 1)
    lo = 0
    for hi in bounds:
        span = head[lo:hi]
        if span and (min(span) < lo or max(span) > hi):
            return False
        lo = hi
    return True


def release(doc: Doc) -> None:
    """Drop the caches (they hold the Doc in a reference cycle) once a report is built."""
    for key in [k for k in doc.user_data if isinstance(k, str) and k.startswith(_PREFIX)]:
        doc.user_data.pop(key, None)
