"""Source resolution: from the words that name a source to who it is.

There is no offline coreference model for English, so this is ours, and deliberately simple:
it walks the attributions in text order, keeping the sources seen so far as the discourse
context, and resolves each source phrase by the first rule that applies:

1. a pronoun ("he", "they") -> the most recent compatible source or entity before it;
2. a phrase headed by a named entity ("Jeff Sessions", "ABC News") -> that entity;
3. an unnamed descriptor ("two people close to the White House who requested anonymity") ->
   an anonymous group, with its descriptor and stated count; a demonstrative or bare definite
   ("these people", "the officials") refers back to the latest such group;
4. a role ("the president", "the former Senator") -> the person seen with that title, else the
   most recent person; an indefinite role ("a spokesman") stays a role source;
5. a document head ("the report", "a memo") -> a document source;
6. anything else -> an unresolved source named by its words.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from spacy.tokens import Span as TokSpan
from spacy.tokens import Token

from reportedly import lexicons
from reportedly.model import EntityKind, Source, SourceKind
from reportedly.model import Span as CharSpan
from reportedly.pipeline import doccache as dc
from reportedly.pipeline.entities import DocEntities

_NUMBERS = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "a": 1,
    "an": 1,
    "another": 1,
    "both": 2,
    "dozen": 12,
    "a dozen": 12,
    "half a dozen": 6,
    "a pair of": 2,
    "pair": 2,
}
_ANAPHORIC_DETS = {"these", "those", "the", "such", "both"}
_PERSON_PRONOUNS = {"he": "m", "she": "f", "him": "m", "her": "f"}
_GROUP_PRONOUNS = {"they", "them"}
_THING_PRONOUNS = {"it"}
_ANONYMITY_WORDS = (
    "anonymity",
    "not authorized",
    "not authorised",
    "declined to be named",
    "asked not to be named",
    "requested anonymity",
)
_ENTITY_SOURCE_KIND = {
    EntityKind.person: SourceKind.person,
    EntityKind.organisation: SourceKind.organisation,
    EntityKind.outlet: SourceKind.outlet,
    EntityKind.place: SourceKind.organisation,  # "Russia said ..." speaks for a government
    EntityKind.group: SourceKind.organisation,
    EntityKind.role: SourceKind.role,
    EntityKind.document: SourceKind.document,
}


@dataclass
class Resolver:
    ents: DocEntities
    lex: lexicons.Lexicons = field(default_factory=lexicons.load)
    sources: list[Source] = field(default_factory=list)
    _by_entity: dict[str, Source] = field(default_factory=dict)
    _by_key: dict[str, Source] = field(default_factory=dict)
    _history: list[tuple[int, Source]] = field(default_factory=list)  # (char, source) in text order

    # -- registry --------------------------------------------------------------------------------
    def _new(self, kind: SourceKind, name: str, **kw: object) -> Source:
        src = Source(id=f"s{len(self.sources) + 1}", kind=kind, name=name, **kw)
        self.sources.append(src)
        return src

    def _for_entity(self, entity_id: str) -> Source:
        src = self._by_entity.get(entity_id)
        if src is None:
            ent = next(e for e in self.ents.entities if e.id == entity_id)
            src = self._new(_ENTITY_SOURCE_KIND[ent.kind], ent.name, entity_id=ent.id)
            self._by_entity[entity_id] = src
        return src

    def _keyed(self, key: str, make: SourceKind, name: str, **kw: object) -> Source:
        src = self._by_key.get(key)
        if src is None:
            src = self._new(make, name, **kw)
            self._by_key[key] = src
        return src

    def _recent(self, char: int, pred: object) -> Source | None:
        for pos, src in reversed(self._history):
            if pos < char and pred(src):  # type: ignore[operator]
                return src
        return None

    # -- resolution -----------------------------------------------------------------------------
    def resolve(self, phrase: TokSpan) -> Source:
        src = self._resolve(phrase)
        mention = CharSpan(start=phrase.start_char, end=phrase.end_char, text=phrase.text)
        if all(m.start != mention.start for m in src.mentions):
            src.mentions.append(mention)
        self._history.append((phrase.start_char, src))
        return src

    def outlet_source(self, name: str) -> Source:
        return self._keyed(f"outlet:{name.lower()}", SourceKind.outlet, name)

    def _resolve(self, phrase: TokSpan) -> Source:
        head = phrase.root
        low = head.lower_
        at = phrase.start_char
        if head.tag_ in ("WP", "WDT") and head.head.dep_ == "relcl" and head.head.head.i != head.head.i:
            # "Victor Cha, who served ..., said": the Source is "who", as annotators mark it; the
            # speaker is the noun the relative clause hangs on.
            noun = head.head.head
            return self._resolve(phrase.doc[noun.left_edge.i : noun.i + 1])
        if head.pos_ == "PRON" or low in _PERSON_PRONOUNS or low in _GROUP_PRONOUNS:
            return self._pronoun(head, at)
        ent = self.ents.entity_at(head)
        if ent is None:  # "spokesman Sean Spicer", "Sessions, the attorney general"
            named = [self.ents.entity_at(c) for c in head.children if c.dep_ in ("compound", "appos", "flat")]
            ent = next((e for e in named if e is not None and e.kind == EntityKind.person), None)
        if ent is not None:
            return self._for_entity(ent.id)
        outlet = lexicons.canonical_outlet(phrase.text)
        if outlet:
            return self.outlet_source(outlet)
        lemma = head.lemma_.lower()
        sent = phrase.sent
        sent_text = dc.text(phrase.doc)[sent.start_char : sent.end_char].lower()
        anonymous_marked = any(w in sent_text for w in _ANONYMITY_WORDS)
        if low in self.lex.anonymous or lemma in self.lex.anonymous or (anonymous_marked and self._is_role(head)):
            return self._anonymous(phrase, head, at)
        if self._is_role(head):
            return self._role(phrase, head, at)
        if low in self.lex.documents or lemma in self.lex.documents:
            name = _descriptor(phrase)
            return self._keyed(f"doc:{name.lower()}", SourceKind.document, name, descriptor=name)
        name = phrase.text
        return self._keyed(f"text:{name.lower()}", SourceKind.unresolved, name)

    def _is_role(self, head: Token) -> bool:
        words = [t.lower_ for t in head.lefts if t.dep_ == "compound"] + [head.lower_]
        return head.lower_ in self.lex.roles or " ".join(words[-2:]) in self.lex.roles

    def _pronoun(self, head: Token, at: int) -> Source:
        low = head.lower_
        if low in _PERSON_PRONOUNS:
            src = self._recent(
                at, lambda s: s.kind == SourceKind.person or (s.kind in (SourceKind.role, SourceKind.anonymous) and s.count == 1)
            )
            if src is not None:
                return src
            ent = self.ents.last_before(at, {EntityKind.person})
            if ent is not None:
                return self._for_entity(ent.id)
        elif low in _GROUP_PRONOUNS:
            src = self._recent(at, lambda s: s.kind == SourceKind.anonymous and s.count != 1)
            if src is None:
                src = self._recent(at, lambda s: s.kind in (SourceKind.organisation, SourceKind.outlet))
            if src is not None:
                return src
        elif low in _THING_PRONOUNS:
            src = self._recent(at, lambda s: s.kind in (SourceKind.organisation, SourceKind.outlet, SourceKind.document))
            if src is not None:
                return src
        return self._keyed(f"pron:{low}:{at}", SourceKind.unresolved, head.text)

    def _anonymous(self, phrase: TokSpan, head: Token, at: int) -> Source:
        dets = [c.lower_ for c in head.children if c.dep_ in ("det", "predet")]
        count = _count(head)
        descriptor = _descriptor(phrase)
        if (
            count is None
            and (not dets or dets[0] in _ANAPHORIC_DETS)
            and any(d in ("these", "those", "such", "the") for d in dets)
        ):
            # "these people", "the officials": back to the latest group with the same head noun,
            # else the latest anonymous group of all.
            lemma = head.lemma_.lower()
            prior = self._recent(
                at, lambda s: s.anonymous and s.descriptor is not None and s.descriptor.split()[0:1] and _same_head(s, lemma)
            )
            prior = prior or self._recent(at, lambda s: s.anonymous)
            if prior is not None:
                return prior
        if count is None and head.tag_ in ("NN",) and any(d in ("a", "an", "one", "another") for d in dets):
            count = 1
        key = f"anon:{descriptor.lower()}:{count}"
        return self._keyed(key, SourceKind.anonymous, descriptor, anonymous=True, descriptor=descriptor, count=count)

    def _role(self, phrase: TokSpan, head: Token, at: int) -> Source:
        dets = [c.lower_ for c in head.children if c.dep_ in ("det", "poss")]
        role = " ".join([*[t.lower_ for t in head.lefts if t.dep_ == "compound"][-1:], head.lower_])
        definite = bool(dets) and dets[0] in ("the", "his", "her", "their", "its", "our")
        if definite:
            ent = self.ents.person_with_title(role) or self.ents.person_with_title(head.lower_)
            if ent is None:
                # "the former senator": the latest person mentioned, unless we know them by
                # another current title ("the mayor" is not Senator Lopez); "former" lifts that.
                former = any(t.lower_ in ("former", "ex") for t in head.lefts)
                ent = self.ents.last_before(at, {EntityKind.person}, accept=lambda e: former or not e.titles or role in e.titles)
            if ent is not None:
                return self._for_entity(ent.id)
        name = _descriptor(phrase)
        return self._keyed(f"role:{name.lower()}", SourceKind.role, name, descriptor=name)


def _same_head(src: Source, lemma: str) -> bool:
    words = (src.descriptor or "").lower().split()
    return bool(words) and (lemma in words[:3])


def _count(head: Token) -> int | None:
    for c in head.children:
        if c.dep_ == "nummod":
            if c.like_num and c.text.isdigit():
                return int(c.text)
            n = _NUMBERS.get(c.lower_)
            if n is not None:
                return n
        if c.dep_ == "quantmod" and c.lower_ in _NUMBERS:
            return _NUMBERS[c.lower_]
    return None


def _descriptor(phrase: TokSpan) -> str:
    """The describing words of a source phrase: no determiner, number or anonymity clause."""
    head = phrase.root
    drop: set[int] = set()
    for c in head.children:
        if c.dep_ in ("det", "predet", "nummod", "poss") and c.i < head.i and c.dep_ != "poss":
            drop |= {t.i for t in c.subtree}
        if c.dep_ in ("relcl", "acl") and any(
            w in " ".join(t.lower_ for t in c.subtree) for w in (*_ANONYMITY_WORDS, "speak", "discuss")
        ):
            drop |= {t.i for t in c.subtree}
    # A relative clause the parser hung on a noun inside the phrase ("the White House who ...").
    for t in phrase:
        if t.dep_ == "relcl" and t.head.i != head.i and any(w in " ".join(x.lower_ for x in t.subtree) for w in _ANONYMITY_WORDS):
            drop |= {x.i for x in t.subtree}
    words = [t for t in phrase if t.i not in drop and not t.is_space]
    while words and (words[-1].is_punct or words[-1].lower_ in ("who", "that", "which")):
        words.pop()
    if not words:
        return phrase.text
    return phrase.doc[words[0].i : words[-1].i + 1].text
