"""Corpus readers: everything ``reportedly ingest`` can read, as a stream of raw items.

Each reader yields :class:`RawItem` values: the raw text or HTML of one article with whatever
metadata the container carries, or an ``error`` saying why that item cannot be read (a JSONL
line that is not JSON, a WARC record that is cut off, a feed entry with no content). Errors are
items too, so the ingest loop records them as failures and goes on.

- folders, recursively: ``.txt``, ``.html``/``.htm``, ``.jsonl``, ``.warc``/``.warc.gz``,
  ``.rss``/``.atom``/``.xml`` feeds;
- JSON Lines: one object a line with ``text`` or ``html`` and optional ``url``, ``outlet``,
  ``title``, ``author``, ``date``;
- WARC (warcio): ``response`` records with an HTML or text payload;
- RSS/Atom (feedparser): one item per entry, from its ``content`` (else ``summary``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

TEXT_SUFFIXES = {".txt", ".text"}
HTML_SUFFIXES = {".html", ".htm"}
JSONL_SUFFIXES = {".jsonl", ".ndjson"}
FEED_SUFFIXES = {".rss", ".atom", ".xml"}
META_KEYS = ("url", "outlet", "title", "author", "date")


@dataclass
class RawItem:
    origin: str  # where it came from: a path, path:line, path#record
    raw: str | None = None
    meta: dict[str, str] = field(default_factory=dict)
    error: str | None = None

    @property
    def key(self) -> str:
        """Hash of the raw input: lets a rerun skip what it has seen without re-extracting it."""
        h = hashlib.sha256((self.raw if self.raw is not None else self.origin).encode("utf-8", "surrogatepass"))
        return h.hexdigest()[:24]


def _suffix(path: Path) -> str:
    name = path.name.lower()
    return ".warc.gz" if name.endswith(".warc.gz") else path.suffix.lower()


def is_supported(path: Path) -> bool:
    return _suffix(path) in TEXT_SUFFIXES | HTML_SUFFIXES | JSONL_SUFFIXES | FEED_SUFFIXES | {".warc", ".warc.gz"}


def files(paths: list[Path]) -> list[Path]:
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            out += sorted(f for f in p.rglob("*") if f.is_file() and is_supported(f))
        else:
            out.append(p)
    return out


def read(path: Path, *, encoding: str | None = None) -> Iterator[RawItem]:
    suffix = _suffix(path)
    try:
        if suffix in JSONL_SUFFIXES:
            yield from read_jsonl(path)
        elif suffix in (".warc", ".warc.gz"):
            yield from read_warc(path)
        elif suffix in FEED_SUFFIXES:
            yield from read_feed(path)
        else:
            yield read_file(path, encoding=encoding)
    except OSError as exc:
        yield RawItem(str(path), error=f"cannot read: {exc.strerror or exc}")


def read_file(path: Path, *, encoding: str | None = None) -> RawItem:
    return file_item(str(path), path.read_bytes(), encoding=encoding)


def file_item(name: str, data: bytes, *, encoding: str | None = None) -> RawItem:
    """One text or HTML file's bytes; ``name`` is its origin. The Spark runner reads the bytes itself."""
    from reportedly.errors import InputError
    from reportedly.ingest import decode_bytes

    try:
        return RawItem(name, decode_bytes(data, encoding=encoding, name=name))
    except InputError as exc:
        return RawItem(name, error=str(exc))


def _meta(obj: dict[str, Any]) -> dict[str, str]:
    return {k: str(obj[k]) for k in META_KEYS if obj.get(k)}


def read_jsonl(path: Path) -> Iterator[RawItem]:
    with path.open("rb") as fh:
        for n, line in enumerate(fh, start=1):
            item = jsonl_item(str(path), n, line)
            if item is not None:
                yield item


def jsonl_item(name: str, n: int, line: bytes) -> RawItem | None:
    """Line ``n`` (from 1) of the JSON Lines file ``name``, as bytes; None for a blank line."""
    origin = f"{name}:{n}"
    if not line.strip():
        return None
    try:
        obj = json.loads(line)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        return RawItem(origin, error=f"line {n} is not JSON: {exc}")
    if not isinstance(obj, dict):
        return RawItem(origin, error=f"line {n} is not a JSON object")
    raw = obj.get("html") or obj.get("text")
    if not isinstance(raw, str) or not raw.strip():
        return RawItem(origin, error=f"line {n} has no 'text' or 'html' field")
    return RawItem(origin, raw, _meta(obj))


def read_warc(path: Path) -> Iterator[RawItem]:
    with path.open("rb") as fh:
        yield from read_warc_stream(fh, str(path))


def read_warc_stream(fh: IO[bytes], path: str) -> Iterator[RawItem]:
    """The records of one WARC file, open for reading; ``path`` names it in origins."""
    from warcio.archiveiterator import ArchiveIterator
    from warcio.exceptions import ArchiveLoadFailed

    n = 0
    try:
        for record in ArchiveIterator(fh, check_digests=True):
            if record.rec_type != "response":
                continue
            n += 1
            uri = record.rec_headers.get_header("WARC-Target-URI") or ""
            origin = f"{path}#{n}"
            meta = {"url": uri} if uri else {}
            date = record.rec_headers.get_header("WARC-Date")
            if date:
                meta["date"] = date[:10]
            ctype = (record.http_headers.get_header("Content-Type") if record.http_headers else "") or ""
            if ctype and "html" not in ctype and "text" not in ctype:
                yield RawItem(origin, meta=meta, error=f"record {n} is {ctype}, not an article")
                continue
            try:
                payload = record.content_stream().read()
            except Exception as exc:  # truncated or corrupt payloads surface as assorted errors
                yield RawItem(origin, meta=meta, error=f"record {n} is malformed: {exc}")
                continue
            check = record.digest_checker
            declared = record.rec_headers.get_header("WARC-Payload-Digest") or record.rec_headers.get_header("WARC-Block-Digest")
            if check.passed is False or (check.passed is None and declared):
                # warcio hands back whatever bytes there are; the digest tells a cut-off record
                yield RawItem(origin, meta=meta, error=f"record {n} is malformed: payload truncated or corrupt (digest check)")
                continue
            charset = "utf-8"
            if "charset=" in ctype:
                charset = ctype.split("charset=")[-1].split(";")[0].strip() or "utf-8"
            try:
                raw = payload.decode(charset)
            except (LookupError, UnicodeDecodeError):
                yield RawItem(origin, meta=meta, error=f"record {n} is not valid {charset}")
                continue
            yield RawItem(origin, raw, meta)
    except (ArchiveLoadFailed, ValueError, EOFError, OSError) as exc:
        yield RawItem(f"{path}#{n + 1}", error=f"malformed WARC record after record {n}: {exc}")


def read_feed(path: Path) -> Iterator[RawItem]:
    yield from read_feed_bytes(path.read_bytes(), str(path))


def read_feed_bytes(data: bytes, path: str) -> Iterator[RawItem]:
    """The entries of one RSS/Atom feed's bytes; ``path`` names it in origins."""
    import feedparser

    parsed = feedparser.parse(data)
    if parsed.bozo and not parsed.entries:
        yield RawItem(str(path), error=f"not a readable RSS/Atom feed: {parsed.get('bozo_exception')}")
        return
    outlet = parsed.feed.get("title")
    for n, entry in enumerate(parsed.entries, start=1):
        origin = f"{path}#{n}"
        content = entry.get("content") or []
        raw = content[0].get("value") if content else entry.get("summary")
        meta = {"url": entry.get("link", ""), "title": entry.get("title", ""), "author": entry.get("author", "")}
        if entry.get("published_parsed"):
            t = entry.published_parsed
            meta["date"] = f"{t.tm_year:04d}-{t.tm_mon:02d}-{t.tm_mday:02d}"
        if outlet:
            meta["outlet"] = outlet
        meta = {k: v for k, v in meta.items() if v}
        if not raw or not str(raw).strip():
            yield RawItem(origin, meta=meta, error=f"feed entry {n} ({meta.get('title', 'untitled')}) has no content")
            continue
        text = str(raw)
        if not text.lstrip().startswith("<"):
            text = f"<html><body><article><p>{text}</p></article></body></html>" if "<" in text else text
        yield RawItem(origin, text, meta)
