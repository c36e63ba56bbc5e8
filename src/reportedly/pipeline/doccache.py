"""Per-document caches shared by the analysers.

Iterating a spaCy Doc builds a new Token object for every token, ``Token.head`` builds one on
every read, and ``Doc.sents`` and ``Doc.text`` walk the whole document each time they are read.
The analysers look at the same document many times, so they share one of each per Doc.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar, cast

import numpy as np
from spacy.attrs import HEAD
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


def release(doc: Doc) -> None:
    """Drop the caches (they hold the Doc in a reference cycle) once a report is built."""
    for key in [k for k in doc.user_data if isinstance(k, str) and k.startswith(_PREFIX)]:
        doc.user_data.pop(key, None)
