"""Document-level entities: spaCy's NER mentions, cleaned and merged within one article.

Rule (documented in docs/analysis.md):
- A PERSON mention is keyed by its last name token, so "Jeff Sessions", "Sessions" and
  "Attorney General Jeff Sessions" are one person; the canonical name is the longest form seen.
- A surface form labelled PERSON anywhere in the article is a person everywhere (the small model
  labels the same "Trump" ORG in one sentence and PERSON in the next).
- Titles in front of a name ("President", "Attorney General") are stripped and kept as titles, so
  later role mentions ("the president", "his attorney general") can be linked to the person.
- ORG names matching the outlet list (or shaped like one: "... News", "... Post") are outlets.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from spacy.tokens import Doc, Span, Token

from reportedly import lexicons
from reportedly.model import Entity, EntityKind
from reportedly.model import Span as CharSpan
from reportedly.pipeline import doccache as dc

_LABEL_KIND = {
    "PERSON": EntityKind.person,
    "ORG": EntityKind.organisation,
    "GPE": EntityKind.place,
    "LOC": EntityKind.place,
    "FAC": EntityKind.place,
    "NORP": EntityKind.group,
}
_POSSESSIVE = {"'s", "’s", "'", "’"}


@dataclass
class Mention:
    start: int  # token index
    end: int
    start_char: int
    end_char: int
    text: str
    kind: EntityKind
    titles: list[str] = field(default_factory=list)


@dataclass
class DocEntities:
    """Entities of one doc, with a token -> entity index for the analysers."""

    entities: list[Entity]
    by_token: dict[int, int]  # token index -> position in ``entities``
    mentions: list[tuple[int, int]]  # (start_char, entity position), in text order

    def entity_at(self, tok: Token) -> Entity | None:
        pos = self.by_token.get(tok.i)
        return self.entities[pos] if pos is not None else None

    def person_with_title(self, title: str) -> Entity | None:
        hits = [e for e in self.entities if e.kind == EntityKind.person and title in e.titles]
        return hits[0] if len(hits) == 1 else None

    def last_before(self, char: int, kinds: set[EntityKind], accept: Callable[[Entity], bool] | None = None) -> Entity | None:
        best: Entity | None = None
        for start, pos in self.mentions:
            if start >= char:
                break
            ent = self.entities[pos]
            if ent.kind in kinds and (accept is None or accept(ent)):
                best = ent
        return best


def _trim(span: Span) -> tuple[int, int]:
    """Token bounds without leading determiners or trailing possessives and line breaks."""
    start, end = span.start, span.end
    doc = dc.tokens(span.doc)  # the shared token list: indexing a Doc builds a new Token each time
    for i in range(start, end):  # an entity never runs over a line break
        if doc[i].is_space or "\n" in doc[i].whitespace_:
            end = i + (0 if doc[i].is_space else 1)
            break
    while start < end and doc[start].lower_ in {"the", "a", "an"}:
        start += 1
    while end > start and (doc[end - 1].text in _POSSESSIVE or doc[end - 1].is_punct):
        end -= 1
    return start, end


def _titles_before(doc: Doc, start: int, lex: lexicons.Lexicons) -> tuple[int, list[str]]:
    """Move ``start`` back over a title written in front of a name ("Attorney General Jeff ...")."""
    titles = []
    for n in range(lex.role_max_len, 0, -1):
        s = start - n
        if s < 0:
            continue
        words = " ".join(dc.lowers(doc)[s:start])
        if words in lex.roles and all(t.is_title or t.is_upper for t in doc[s:start]):
            titles.append(words)
            return s, titles
    return start, titles


def _strip_titles(doc: Doc, start: int, end: int, lex: lexicons.Lexicons) -> tuple[int, list[str]]:
    titles = []
    for n in range(min(lex.role_max_len, end - start - 1), 0, -1):
        words = " ".join(dc.lowers(doc)[start : start + n])
        if words in lex.roles:
            titles.append(words)
            start += n
            break
    return start, titles


def find_entities(doc: Doc) -> DocEntities:
    lex = lexicons.load()
    raw: list[Mention] = []
    person_forms: set[str] = set()
    for ent in doc.ents:
        kind = _LABEL_KIND.get(ent.label_)
        if kind is None:
            continue
        start, end = _trim(ent)
        if start >= end:
            continue
        titles: list[str] = []
        if kind == EntityKind.person:
            start, titles = _strip_titles(doc, start, end, lex)
            _, before = _titles_before(doc, start, lex)
            titles += before
        text = doc[start:end].text
        if lexicons.looks_like_outlet(text) and kind in (EntityKind.organisation, EntityKind.person, EntityKind.group):
            kind = EntityKind.outlet
        raw.append(Mention(start, end, doc[start].idx, doc[end - 1].idx + len(doc[end - 1]), text, kind, titles))
        if kind == EntityKind.person:
            person_forms.add(text.lower())
            person_forms.add(doc[end - 1].lower_)

    # Outlets the NER missed ("Politico said"): match the outlet list on proper-noun runs.
    covered = {i for m in raw for i in range(m.start, m.end)}
    toks = dc.tokens(doc)
    # Parts of speech as a per-document list: ``Token.pos_`` decodes a string on every read.
    pos_of = dc.pos(doc)
    propn = [i for i, p in enumerate(pos_of) if p == "PROPN"]
    for i in propn:
        tok = toks[i]
        if i in covered:
            continue
        if lexicons.canonical_outlet(tok.text) and (i + 1 >= len(doc) or pos_of[i + 1] != "PROPN"):
            raw.append(Mention(tok.i, tok.i + 1, tok.idx, tok.idx + len(tok), tok.text, EntityKind.outlet))
            covered.add(tok.i)

    # Last names of known people that NER missed or mislabelled ("Sessions" as NORP).
    last_names = {doc[m.end - 1].lower_ for m in raw if m.kind == EntityKind.person}
    for m in raw:
        if m.kind != EntityKind.person and m.text.lower() in person_forms:
            m.kind = EntityKind.person
    lowers = dc.lowers(doc)
    for i, p in enumerate(pos_of):
        # the tagger calls a capitalised "Sessions" a plural noun now and then
        if p not in ("PROPN", "NOUN") or lowers[i] not in last_names or i in covered:
            continue
        tok = toks[i]
        if p == "PROPN" or tok.is_title:
            raw.append(Mention(tok.i, tok.i + 1, tok.idx, tok.idx + len(tok), tok.text, EntityKind.person))
    raw.sort(key=lambda m: m.start)

    groups: dict[tuple[str, str], list[Mention]] = defaultdict(list)
    for m in raw:
        if m.kind == EntityKind.person:
            key = doc[m.end - 1].lower_
        elif m.kind == EntityKind.outlet:
            key = (lexicons.canonical_outlet(m.text) or m.text).lower()
        else:
            key = m.text.lower().removeprefix("the ")
        groups[(m.kind.value, key)].append(m)

    entities: list[Entity] = []
    by_token: dict[int, int] = {}
    mentions: list[tuple[int, int]] = []
    for (kind_value, _key), ms in sorted(groups.items(), key=lambda kv: kv[1][0].start):
        pos = len(entities)
        kind = EntityKind(kind_value)
        name = max((m.text for m in ms), key=lambda t: (len(t.split()), len(t)))
        if kind == EntityKind.outlet:
            name = lexicons.canonical_outlet(name) or name
        titles = sorted({t for m in ms for t in m.titles})
        entities.append(
            Entity(
                id=f"e{pos + 1}",
                name=name,
                kind=kind,
                titles=titles,
                mentions=[CharSpan(start=m.start_char, end=m.end_char, text=m.text) for m in ms],
            )
        )
        for m in ms:
            for i in range(m.start, m.end):
                by_token[i] = pos
            mentions.append((m.start_char, pos))

    # Role mentions ("the president", "his attorney general") of a person whose title we saw.
    titled = {t: e for e in entities if e.kind == EntityKind.person for t in e.titles}
    if titled:
        for i, p in enumerate(pos_of):
            if p != "NOUN" or i in by_token:
                continue
            tok = toks[i]
            for n in range(lex.role_max_len, 0, -1):
                s = tok.i - n + 1
                if s < 0:
                    continue
                words = " ".join(dc.lowers(doc)[s : tok.i + 1])
                holder = titled.get(words)
                if holder is not None and s > 0 and dc.lowers(doc)[s - 1] in {"the", "his", "her", "their", "our"}:
                    pos = entities.index(holder)
                    holder.mentions.append(CharSpan(start=doc[s].idx, end=tok.idx + len(tok), text=doc[s : tok.i + 1].text))
                    for i in range(s, tok.i + 1):
                        by_token[i] = pos
                    mentions.append((doc[s].idx, pos))
                    break
        for e in entities:
            e.mentions.sort(key=lambda sp: sp.start)
    mentions.sort()
    return DocEntities(entities=entities, by_token=by_token, mentions=mentions)
