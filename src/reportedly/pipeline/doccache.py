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
from spacy.attrs import HEAD, IS_SPACE, POS
from spacy.symbols import VERB
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
    return memo(doc, "lower", lambda d: [t.lower_ for t in tokens(d)])


def heads(doc: Doc) -> list[int]:
    """Each token's head index."""
    # From the array spaCy stores (offsets to the head), not ``t.head.i``: that makes a Token per word.
    return memo(doc, "heads", lambda d: (np.arange(len(d)) + d.to_array([HEAD]).astype(np.int64)).tolist())


def deps(doc: Doc) -> list[str]:
    """Each token's dependency label."""
    return memo(doc, "deps", lambda d: [t.dep_ for t in tokens(d)])


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
    # From the array, not ``pos_``: that decodes a new string for every token.
    return memo(doc, "verbs", lambda d: np.flatnonzero(d.to_array(POS) == VERB).tolist())


def non_space(doc: Doc) -> list[int]:
    """The tokens that are not whitespace, ascending."""
    return memo(doc, "non_space", lambda d: np.flatnonzero(d.to_array(IS_SPACE) == 0).tolist())


def release(doc: Doc) -> None:
    """Drop the caches (they hold the Doc in a reference cycle) once a report is built."""
    for key in [k for k in doc.user_data if isinstance(k, str) and k.startswith(_PREFIX)]:
        doc.user_data.pop(key, None)
