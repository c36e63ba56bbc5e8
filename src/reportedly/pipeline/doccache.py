"""Per-document caches shared by the analysers.

Iterating a spaCy Doc builds a new Token object for every token, and ``Doc.sents`` and
``Doc.text`` walk the whole document each time they are read. The analysers look at the same
document many times, so they share one token list, one sentence list and one text per Doc.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar, cast

from spacy.tokens import Doc, Span, Token

_TOKENS = "reportedly.tokens"
_SENTS = "reportedly.sents"
_TEXT = "reportedly.text"
_LOWER = "reportedly.lower"
_PREFIX = "reportedly."
T = TypeVar("T")


def tokens(doc: Doc) -> list[Token]:
    cached = doc.user_data.get(_TOKENS)
    if cached is None:
        cached = doc.user_data[_TOKENS] = list(doc)
    return cast(list[Token], cached)


def sents(doc: Doc) -> list[Span]:
    cached = doc.user_data.get(_SENTS)
    if cached is None:
        cached = doc.user_data[_SENTS] = list(doc.sents)
    return cast(list[Span], cached)


def text(doc: Doc) -> str:
    cached = doc.user_data.get(_TEXT)
    if cached is None:
        cached = doc.user_data[_TEXT] = doc.text
    return cast(str, cached)


def lowers(doc: Doc) -> list[str]:
    cached = doc.user_data.get(_LOWER)
    if cached is None:
        cached = doc.user_data[_LOWER] = [t.lower_ for t in tokens(doc)]
    return cast(list[str], cached)


def heads(doc: Doc) -> list[int]:
    """Each token's head index (``Token.head`` builds a new Token on every read)."""
    return memo(doc, "heads", lambda d: [t.head.i for t in tokens(d)])


def deps(doc: Doc) -> list[str]:
    """Each token's dependency label."""
    return memo(doc, "deps", lambda d: [t.dep_ for t in tokens(d)])


def memo(doc: Doc, key: str, compute: Callable[[Doc], T]) -> T:
    """``compute(doc)``, once per Doc (e.g. the quotations of its text, read by several analysers)."""
    full = _PREFIX + key
    cached = doc.user_data.get(full)
    if cached is None:
        cached = doc.user_data[full] = compute(doc)
    return cast(T, cached)


def release(doc: Doc) -> None:
    """Drop the caches (they hold the Doc in a reference cycle) once a report is built."""
    for key in [k for k in doc.user_data if isinstance(k, str) and k.startswith(_PREFIX)]:
        doc.user_data.pop(key, None)
