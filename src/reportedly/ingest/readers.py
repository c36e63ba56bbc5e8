"""Readers around one extraction core.

Every input path (file, stdin, Python string) ends in :func:`make_article`, which validates the
input and raises an :class:`~reportedly.errors.InputError` subclass with a one-line message for
anything that is not an analysable English article.
"""

from __future__ import annotations

import hashlib
import re
import sys
from pathlib import Path
from urllib.parse import urlparse

from reportedly.errors import (
    BinaryInputError,
    EmptyInputError,
    EncodingError,
    InputTooLargeError,
    NoArticleBodyError,
    NotEnglishError,
)
from reportedly.model import Article, ArticleMeta, Span

# A long feature runs to ~100 KB of text; 5 MB is far past any article and still parses in memory.
DEFAULT_MAX_BYTES = 5_000_000

_HTML_START = re.compile(
    r"^\s*(<!--.*?-->\s*)*<(!doctype\s+html|html|head|body|article|div|p|meta|title|section|main)\b", re.I | re.S
)
_WORD = re.compile(r"[^\W\d_]+", re.U)
_PARA_SPLIT = re.compile(r"\n\s*\n")
_MIN_BODY_WORDS = 8  # less than this from an HTML page is a menu or a footer, not an article

# Function words cover ~40% of English running text; other languages score near zero on them.
_EN_FUNCTION_WORDS = frozenset(
    [
        "the",
        "a",
        "an",
        "of",
        "to",
        "in",
        "and",
        "or",
        "but",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "has",
        "have",
        "had",
        "it",
        "its",
        "that",
        "this",
        "these",
        "those",
        "for",
        "on",
        "with",
        "as",
        "at",
        "by",
        "from",
        "he",
        "she",
        "they",
        "we",
        "you",
        "i",
        "his",
        "her",
        "their",
        "our",
        "not",
        "no",
        "said",
        "says",
        "will",
        "would",
        "who",
        "which",
        "what",
        "when",
        "where",
        "there",
        "than",
        "then",
        "if",
        "so",
        "do",
        "does",
        "did",
        "can",
        "could",
        "may",
        "might",
        "about",
        "after",
    ]
)


def decode_bytes(data: bytes, *, encoding: str | None = None, name: str = "input") -> str:
    """Decode raw bytes: UTF-8 (BOM tolerated) unless ``encoding`` is given. Never guesses."""
    if not data.strip():
        raise EmptyInputError(f"{name}: empty input, nothing to analyse")
    sample = data[:8192]
    if b"\x00" in sample and not sample.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise BinaryInputError(f"{name}: looks like a binary file (NUL bytes), not text or HTML")
    if encoding is None and sample.startswith((b"\xff\xfe", b"\xfe\xff")):
        encoding = "utf-16"
    try:
        text = data.decode(encoding or "utf-8-sig")
    except LookupError as exc:
        raise EncodingError(f"{name}: unknown encoding {encoding!r}") from exc
    except UnicodeDecodeError as exc:
        raise EncodingError(
            f"{name}: not valid {encoding or 'UTF-8'} (byte {exc.start}: {data[exc.start : exc.start + 1]!r}); "
            "pass --encoding (e.g. --encoding cp1252) if you know the file's encoding"
        ) from exc
    control = sum(1 for ch in text[:8192] if ord(ch) < 32 and ch not in "\n\r\t\f")
    if control > 0.05 * min(len(text), 8192):
        raise BinaryInputError(f"{name}: looks like a binary file (control characters), not text or HTML")
    return text


def looks_like_html(text: str) -> bool:
    return bool(_HTML_START.match(text[:4096]))


def _normalise(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u00a0", " ")
    return text.strip()


def paragraph_spans(text: str) -> list[Span]:
    spans: list[Span] = []
    pos = 0
    for m in _PARA_SPLIT.finditer(text):
        if m.start() > pos:
            spans.append(Span(start=pos, end=m.start(), text=text[pos : m.start()]))
        pos = m.end()
    if pos < len(text):
        spans.append(Span(start=pos, end=len(text), text=text[pos:]))
    return spans


def _check_english(text: str, name: str) -> None:
    words = _WORD.findall(text[:20000].lower())
    if len(words) < 12:
        return  # too short to judge; headlines and stubs pass through
    ratio = sum(1 for w in words if w in _EN_FUNCTION_WORDS) / len(words)
    if ratio < 0.12:
        raise NotEnglishError(
            f"{name}: text does not look like English ({ratio:.0%} English function words, expected over 12%); "
            "reportedly analyses English news only"
        )


def _extract_html(html: str, url: str | None, name: str) -> tuple[str, ArticleMeta]:
    import trafilatura  # imported here: plain-text users never pay for lxml

    doc = trafilatura.bare_extraction(html, url=url, with_metadata=True, include_comments=False)
    body = getattr(doc, "text", None) if doc is not None else None
    if not body or len(_WORD.findall(body)) < _MIN_BODY_WORDS:
        raise NoArticleBodyError(f"{name}: no article text found in the HTML (navigation or boilerplate only)")
    paragraphs = [p.strip() for p in body.split("\n") if p.strip()]
    meta = ArticleMeta(
        title=getattr(doc, "title", None),
        author=getattr(doc, "author", None),
        date=getattr(doc, "date", None),
        site_name=getattr(doc, "sitename", None),
        url=getattr(doc, "url", None) or url,
        source_format="html",
    )
    return "\n\n".join(paragraphs), meta


def make_article(
    raw: str,
    *,
    url: str | None = None,
    outlet: str | None = None,
    name: str = "input",
    max_chars: int = DEFAULT_MAX_BYTES,
) -> Article:
    """The extraction core: validate, extract HTML if needed, and build the Article."""
    if len(raw) > max_chars:
        raise InputTooLargeError(
            f"{name}: {len(raw):,} characters is over the {max_chars:,} limit for one article; "
            "split it, or raise the limit (--max-bytes)"
        )
    if not raw.strip():
        raise EmptyInputError(f"{name}: empty input, nothing to analyse")
    if looks_like_html(raw):
        text, meta = _extract_html(raw, url, name)
    else:
        text, meta = raw, ArticleMeta(url=url)
    text = _normalise(text)
    if not text:
        raise EmptyInputError(f"{name}: empty input, nothing to analyse")
    _check_english(text, name)
    meta.outlet = outlet or meta.site_name or _domain(meta.url)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
    return Article(id=digest, text=text, meta=meta, paragraphs=paragraph_spans(text))


def _domain(url: str | None) -> str | None:
    if not url:
        return None
    from reportedly.lexicons import outlet_for_domain

    host = urlparse(url).hostname or ""
    return outlet_for_domain(host) or host.removeprefix("www.") or None


def read_string(text: str, *, url: str | None = None, outlet: str | None = None, max_bytes: int = DEFAULT_MAX_BYTES) -> Article:
    return make_article(text, url=url, outlet=outlet, name="input", max_chars=max_bytes)


def read_path(
    path: str | Path,
    *,
    url: str | None = None,
    outlet: str | None = None,
    encoding: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> Article:
    p = Path(path)
    name = str(p)
    if not p.exists():
        raise EmptyInputError(f"{name}: no such file")
    if p.is_dir():
        raise EmptyInputError(f"{name}: is a folder; pass the article files inside it")
    size = p.stat().st_size
    if size > max_bytes:
        raise InputTooLargeError(
            f"{name}: {size:,} bytes is over the {max_bytes:,}-byte limit for one article; "
            "split it, or raise the limit (--max-bytes)"
        )
    raw = decode_bytes(p.read_bytes(), encoding=encoding, name=name)
    return make_article(raw, url=url, outlet=outlet, name=name, max_chars=max_bytes)


def read_stdin(
    *, url: str | None = None, outlet: str | None = None, encoding: str | None = None, max_bytes: int = DEFAULT_MAX_BYTES
) -> Article:
    data = sys.stdin.buffer.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise InputTooLargeError(f"stdin: over the {max_bytes:,}-byte limit for one article; raise it with --max-bytes")
    raw = decode_bytes(data, encoding=encoding, name="stdin")
    return make_article(raw, url=url, outlet=outlet, name="stdin", max_chars=max_bytes)
