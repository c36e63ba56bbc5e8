"""Direct quotations found in the raw text, before any parsing.

Newspaper convention for a quote that runs over several paragraphs: each new paragraph re-opens the
quote mark and only the last one closes it. Such a quote is one :class:`Quote` with one piece per
paragraph.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from spacy.tokens import Doc

from reportedly.pipeline import doccache as dc

_OPEN = {"“", "«", "„"}
_CLOSE = {"”", "»"}
_STRAIGHT = '"'


@dataclass
class Quote:
    pieces: list[tuple[int, int]] = field(default_factory=list)  # char ranges inside the marks
    marked: list[tuple[int, int]] = field(default_factory=list)  # the same with their quote marks

    @property
    def start(self) -> int:
        return self.pieces[0][0]

    @property
    def end(self) -> int:
        return self.pieces[-1][1]

    def overlaps(self, start: int, end: int) -> bool:
        return any(s < end and start < e for s, e in self.pieces)


def _is_open(text: str, i: int) -> bool:
    ch = text[i]
    if ch in _OPEN:
        return True
    if ch in _CLOSE:
        return False
    before = text[i - 1] if i > 0 else " "
    return before.isspace() or before in "([{—–-:"


# Typewriter double quotes, two characters each: ``…'' and ''…'' (the New York Times' archive text).
_TYPEWRITER = ("''", "``")


def _typewriter_as_straight(text: str) -> tuple[str, set[int]]:
    """The text with each typewriter pair read as a straight quote mark and a filler after it (so
    that offsets hold), and where the pairs start."""
    if "''" not in text and "``" not in text:
        return text, set()
    chars = list(text)
    starts: set[int] = set()
    i = 0
    while i < len(text) - 1:
        if text[i : i + 2] in _TYPEWRITER:
            chars[i], chars[i + 1] = _STRAIGHT, "\x00"
            starts.add(i)
            i += 2
        else:
            i += 1
    return "".join(chars), starts


def find_quotes(text: str, min_chars: int = 2) -> list[Quote]:
    text, pairs = _typewriter_as_straight(text)
    quotes: list[Quote] = []
    current: Quote | None = None
    piece_start = -1
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "\n" and current is not None and text.startswith("\n", i + 1 if i + 1 < n else i):
            # Paragraph break inside an open quote: continue only if the next paragraph re-opens.
            j = i
            while j < n and text[j].isspace():
                j += 1
            if piece_start < i:
                current.pieces.append((piece_start, i))
            if j < n and (text[j] in _OPEN or text[j] == _STRAIGHT):
                piece_start = j + 1
                i = j + 1
                continue
            if current.pieces:
                quotes.append(current)
            current = None
            i = j
            continue
        if ch in _OPEN or ch in _CLOSE or ch == _STRAIGHT:
            if current is None and _is_open(text, i):
                current = Quote()
                piece_start = i + 1
            elif current is not None and not (_is_open(text, i) and ch not in _CLOSE and ch != _STRAIGHT):
                if i - piece_start >= min_chars or current.pieces:
                    current.pieces.append((piece_start, i))
                    quotes.append(current)
                current = None
        i += 1
    if current is not None and piece_start < n:
        current.pieces.append((piece_start, n))
        quotes.append(current)
    if pairs:  # a piece opened by a pair starts after its filler; a pair's marks are two characters
        for q in quotes:
            q.pieces = [(s + 1 if s - 1 in pairs else s, e) for s, e in q.pieces]
    marks = _OPEN | _CLOSE | {_STRAIGHT}
    for q in quotes:
        # Quoted content is annotated with its marks (PolNeAR's convention, and a reader's).
        q.marked = [
            (
                s - 2 if s - 2 in pairs else s - 1 if s > 0 and text[s - 1] in marks else s,
                e + 2 if e in pairs else e + 1 if e < n and text[e] in marks else e,
            )
            for s, e in q.pieces
        ]
    return [q for q in quotes if q.pieces and sum(e - s for s, e in q.pieces) >= min_chars]


def doc_quotes(doc: Doc) -> list[Quote]:
    """The quotations of a parsed document's text, found once and shared by the analysers."""
    return dc.memo(doc, "quotes", lambda d: find_quotes(dc.text(d)))
