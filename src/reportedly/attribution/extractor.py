"""Attribution v1: rules over the dependency parse.

Each rule is a small function that yields :class:`Candidate` attributions from one doc:

- ``verb_cues``: a cue verb from ``lexicons/cues.tsv`` with its subject as Source and its clausal
  complement as Content ("Trump apparently believes [the ... belongs to Sessions]"); a cue with no
  complement of its own is parenthetical or postposed ("..., these people said, ...") and takes
  the clause it interrupts; a cue next to quotation marks takes the quote(s) ("“A,” he said, “B.”").
- ``according_to``: "according to X" takes the clause it is attached to.
- ``block_citations``: a paragraph such as "From the Washington Post:" relays the next paragraph.

Sources are resolved afterwards (:mod:`reportedly.attribution.sources`); chains come from nesting.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence
from dataclasses import dataclass

from spacy.tokens import Doc, Token
from spacy.tokens import Span as TokSpan

from reportedly import lexicons
from reportedly.attribution.quotes import Quote, doc_quotes
from reportedly.attribution.spans import ranges_overlap, subtree_minus, token_ranges
from reportedly.model import AttributionKind
from reportedly.pipeline import doccache as dc

_SUBJ = {"nsubj", "csubj"}
_CONTENT_DEPS = {"ccomp"}
_INTENT_DEPS = {"xcomp"}
_SETOFF_DEPS = {"parataxis", "ccomp", "advcl", "dep"}
_BLOCK_PREPS = {"from", "via", "per"}
_EXPLETIVES = {"it", "there"}  # "it is reported that ...": no source in the text


@dataclass
class Candidate:
    kind: AttributionKind
    cue: tuple[int, int]
    content: list[tuple[int, int]]
    rule: str
    source: TokSpan | None = None
    cue_token: Token | None = None
    scaffold: frozenset[int] = frozenset()  # tokens of "source + cue" set into another sentence's flow
    confidence: float = 1.0  # a learned extractor's probability that the cue is one (rules: 1)
    reporting: float = 1.0  # how much the cue's head is a reporting word (learned extractor)


@dataclass
class _Context:
    doc: Doc
    lex: lexicons.Lexicons
    quotes: list[Quote]
    quote_starts: list[int]
    paragraphs: list[tuple[int, int]]

    def quotes_in(self, start: int, end: int) -> list[Quote]:
        hi = bisect.bisect_left(self.quote_starts, end)
        return [q for q in self.quotes[:hi] if q.end > start and q.overlaps(start, end)]

    def in_quote(self, char: int) -> bool:
        return any(s <= char < e for q in self.quotes_in(char, char + 1) for s, e in q.pieces)

    def paragraph_after(self, char: int) -> tuple[int, int] | None:
        starts = [p[0] for p in self.paragraphs]
        k = bisect.bisect_right(starts, char)
        return self.paragraphs[k] if k < len(self.paragraphs) else None

    def paragraph_of(self, char: int) -> tuple[int, int]:
        starts = [p[0] for p in self.paragraphs]
        k = max(0, bisect.bisect_right(starts, char) - 1)
        return self.paragraphs[k]


_CUE_LEFT_DEPS = {"aux", "auxpass", "neg", "advmod"}
_CUE_TIME = {"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "today", "yesterday", "tonight"}


def _cue_range(tok: Token, complement: Token | None) -> tuple[int, int]:
    """The cue as annotators mark it: the verb with its auxiliaries and adjacent adverbs ("has
    now said"), particle or complement ("made clear", "pointed out"), a day right after it
    ("said Friday") and a colon that introduces the content ("said:")."""
    doc = tok.doc
    lo = hi = tok.i
    hedges = lexicons.load().hedges
    # Hedge adverbs stay out of the cue: "apparently believes" is a hedged cue, not a longer one.
    members = {c.i for c in tok.children if c.dep_ in _CUE_LEFT_DEPS and c.i < tok.i and (c.lower_,) not in hedges}
    while lo - 1 in members:
        lo -= 1
    extra = {c.i for c in tok.children if c.dep_ == "prt"} | ({complement.i} if complement is not None else set())
    while hi + 1 in extra:
        hi += 1
    if complement is not None and complement.i > hi and complement.i - hi <= 3:
        hi = complement.i  # "made [it] clear"
    if hi + 1 < len(doc) and doc[hi + 1].lower_ in _CUE_TIME and doc[hi + 1].head.i == tok.i:
        hi += 1
    if hi + 1 < len(doc) and doc[hi + 1].text == ":":
        hi += 1
    return doc[lo].idx, doc[hi].idx + len(doc[hi].text)


def _np(tok: Token) -> TokSpan:
    """The noun phrase a source head stands for, as annotators mark it: with a closing bracket
    ("Sen. Lindsey Graham (R-S.C.)") and the comma closing an apposition ("Brian Fallon, the
    campaign's press secretary,"), without participial or non-restrictive relative clauses
    ("Trump, speaking to veterans, said")."""
    doc = tok.doc
    left, right = tok.left_edge.i, tok.right_edge.i + 1
    for child in tok.rights:
        if child.dep_ == "acl" or (child.dep_ == "relcl" and doc[child.left_edge.i - 1].text == ","):
            right = min(right, child.left_edge.i)
    while right > left + 1 and (doc[right - 1].is_space or (doc[right - 1].is_punct and doc[right - 1].text not in ")]")):
        right -= 1
    if any(c.dep_ == "appos" for c in tok.rights) and right < len(doc) and doc[right].text == ",":
        right += 1
    return doc[left:right]


def _subject(tok: Token) -> Token | None:
    for child in tok.children:
        if child.dep_ in _SUBJ:
            # "Smith, who said ...": "who" is the Source, as PolNeAR's annotators mark it; the
            # resolver takes it to Smith (``sources.Resolver``).
            return child
        if child.dep_ == "agent":  # passive: "was told by officials"
            for pobj in child.children:
                if pobj.dep_ == "pobj":
                    return pobj
    if tok.dep_ in ("conj", "xcomp") and tok.head.i != tok.i:  # "He smiled and said ...", "declined to say"
        return _subject(tok.head)
    if tok.dep_ == "advcl" and tok.tag_ == "VBG" and tok.head.i != tok.i:  # "He hit back, saying that ..."
        return _subject(tok.head)
    return None


def subject_phrase(tok: Token, content: Sequence[tuple[int, int]]) -> TokSpan | None:
    """The Source a cue verb's parse gives: its subject's noun phrase (:func:`_subject`, :func:`_np`),
    none for an expletive ("it was said") or a "subject" inside the content (a parse gone wrong)."""
    subj = _subject(tok)
    if subj is None or subj.lower_ in _EXPLETIVES:
        return None
    if any(ranges_overlap((subj.idx, subj.idx + 1), r) for r in content):
        return None
    return _np(subj)


def _cue_entry(tok: Token, lex: lexicons.Lexicons) -> tuple[str, Token | None] | None:
    if tok.pos_ != "VERB":
        return None
    entries = lex.cues.get(tok.lemma_.lower())
    if not entries:
        return None
    for kind, needed in entries:
        if needed is None:
            return kind, None
        for child in tok.children:
            if child.lower_ == needed or child.lemma_.lower() == needed:
                return kind, child
    return None


def _is_postposed_cue(head: Token, verb: Token, lex: lexicons.Lexicons) -> bool:
    return (
        head.i > verb.i
        and _cue_entry(head, lex) is not None
        and any(c.dep_ in _SUBJ for c in head.children)
        and head.left_edge.i > 0
        and head.doc[head.left_edge.i - 1].text == ","
    )


def _kind_from_quotes(ctx: _Context, content: list[tuple[int, int]], cue_kind: str) -> AttributionKind:
    covered = 0
    total = 0
    for s, e in content:
        total += e - s
        for q in ctx.quotes_in(s, e):
            for qs, qe in q.marked:
                covered += max(0, min(e, qe) - max(s, qs))
    if total and covered >= 0.9 * total:
        return AttributionKind.direct
    if covered > 0:
        return AttributionKind.mixed
    if cue_kind in ("belief", "intent"):
        return AttributionKind.belief_or_intent
    return AttributionKind.indirect


def _covered(ranges: list[tuple[int, int]], by: list[tuple[int, int]]) -> float:
    total = sum(e - s for s, e in ranges)
    inside = sum(max(0, min(e, be) - max(s, bs)) for s, e in ranges for bs, be in by)
    return inside / total if total else 0.0


def _quote_ranges(quotes: list[Quote]) -> list[tuple[int, int]]:
    return [p for q in quotes for p in q.marked]


def verb_cues(ctx: _Context) -> list[Candidate]:
    doc, lex = ctx.doc, ctx.lex
    out: list[Candidate] = []
    toks, sents, sent_starts = dc.tokens(doc), dc.sents(doc), dc.sent_starts(doc)
    # The cached parts of speech pick out the verbs: ``Token.pos_`` on every word costs more.
    for i, pos in enumerate(dc.pos(doc)):
        if pos != "VERB":
            continue
        tok = toks[i]
        entry = _cue_entry(tok, lex)
        if entry is None or ctx.in_quote(tok.idx):
            continue
        cue_kind, complement = entry
        cue_range = _cue_range(tok, complement)
        subj = _subject(tok)
        sent = sents[bisect.bisect_right(sent_starts, i) - 1]  # ``tok.sent`` builds a new Span
        content_heads = [c for c in tok.children if c.dep_ in _CONTENT_DEPS and (complement is None or c.i != complement.i)]
        if complement is not None:
            content_heads += [c for c in complement.children if c.dep_ in _CONTENT_DEPS]
        if cue_kind == "intent":
            content_heads += [c for c in tok.children if c.dep_ in _INTENT_DEPS]
        others = [c for c in tok.children if c.dep_ == "parataxis" and _cue_entry(c, lex) is not None]
        content: list[tuple[int, int]] = []
        rule = ""
        scaffold: frozenset[int] = frozenset()
        if content_heads:
            idx: set[int] = set()
            for h in content_heads:
                idx |= subtree_minus(h, others)
            content = token_ranges(doc, idx)
            rule = "verb+complement"
        sent_quotes = [q for q in ctx.quotes_in(sent.start_char, sent.end_char) if not q.overlaps(*cue_range)]
        if sent_quotes and (not content or _covered(content, _quote_ranges(sent_quotes)) >= 0.9):
            # Quote(s) around the cue: the quoted words are the content, even when split by the cue.
            # A clause only partly quoted ("that Trump's statement was “true.”") stays the content.
            content = _quote_ranges(sent_quotes)
            rule = "quote"
        if (
            not content
            and subj is not None
            and cue_kind in ("speech", "report")
            and tok.dep_ in _SETOFF_DEPS
            and tok.head.i != tok.i
            and not any(c.dep_ in ("dobj", "dative") for c in tok.children)
        ):
            # Parenthetical or postposed cue: the clause it interrupts is the content.
            head = tok.head
            exclude = [tok] + [
                c for c in head.children if c.dep_ == "parataxis" and _cue_entry(c, lex) is not None and c.i != tok.i
            ]
            content = token_ranges(doc, subtree_minus(head, exclude))
            rule = "parenthetical"
            scaffold = frozenset(t.i for t in tok.subtree)
        if not content and subj is not None and tok.dep_ == "ROOT":
            after = [t for t in doc[tok.i + 1 : sent.end] if not (t.is_punct or t.is_space)]
            if not after and any(t.text == ":" for t in doc[tok.i + 1 : sent.end]):
                para = ctx.paragraph_after(tok.idx)
                if para is not None:
                    content = [para]
                    rule = "colon-block"
            elif not after:
                # "..., he said." closing a paragraph: the quote or sentence before it.
                prev_quotes = [
                    q for q in ctx.quotes_in(ctx.paragraph_of(tok.idx)[0], sent.start_char) if q.end <= sent.start_char
                ]
                if prev_quotes:
                    content = list(prev_quotes[-1].marked)
                    rule = "quote-before"
                else:
                    set_off = [c for c in tok.children if c.dep_ in ("ccomp", "parataxis", "dep")]
                    idx = set()
                    for c in set_off:
                        idx |= subtree_minus(c, [])
                    content = token_ranges(doc, idx)
                    rule = "postposed"
        if not content:
            continue
        kind = _kind_from_quotes(ctx, content, cue_kind)
        out.append(
            Candidate(
                kind=kind,
                cue=cue_range,
                content=content,
                rule=f"{cue_kind}:{rule}",
                source=subject_phrase(tok, content),
                cue_token=tok,
                scaffold=scaffold,
            )
        )
    return out


def according_to(ctx: _Context) -> list[Candidate]:
    doc = ctx.doc
    out: list[Candidate] = []
    toks, low = dc.tokens(doc), dc.lowers(doc)
    for i in (k for k, w in enumerate(low) if w == "according"):
        if i + 1 >= len(toks) or low[i + 1] != "to":
            continue
        tok, to = toks[i], toks[i + 1]
        pobj = next((c for c in to.children if c.dep_ == "pobj"), None)
        if pobj is None:
            continue
        phrase = subtree_minus(tok) | {to.i} | subtree_minus(to)
        sent = tok.sent
        head = tok.head
        while head.dep_ == "conj" and head.head.i != head.i:
            head = head.head
        words = [t for t in sent if not (t.is_punct or t.is_space)]
        # ", according to X." closing the sentence (or "According to X, ..." opening it) scopes
        # over the whole sentence, wherever the parser hung it.
        edge = bool(words) and (min(phrase) <= words[0].i or max(phrase) >= words[-1].i)
        whole = head.dep_ == "ROOT" or head.i == tok.i or edge
        idx = {t.i for t in sent} - phrase if whole else subtree_minus(head) - phrase
        content = token_ranges(doc, idx)
        if not content:
            continue
        out.append(
            Candidate(
                kind=AttributionKind.according_to,
                cue=(tok.idx, to.idx + len(to.text)),
                content=content,
                rule="according-to",
                source=_np(pobj),
                cue_token=tok,
                scaffold=frozenset(phrase) if edge else frozenset(),
            )
        )
    return out


def block_citations(ctx: _Context) -> list[Candidate]:
    """A one-line paragraph "From the Washington Post:" relays the next paragraph verbatim."""
    doc = ctx.doc
    out: list[Candidate] = []
    text = dc.text(doc)
    for sent in dc.sents(doc):
        if not text[sent.start_char : sent.end_char].rstrip().endswith(":"):
            continue
        words = [t for t in sent if not t.is_space]
        if len(words) < 3 or len(words) > 12 or words[-1].text != ":" or words[0].lower_ not in _BLOCK_PREPS:
            continue
        para = ctx.paragraph_of(words[0].idx)
        if para[1] > words[-1].idx + 1:
            continue  # the colon does not end the paragraph
        nxt = ctx.paragraph_after(words[-1].idx)
        if nxt is None:
            continue
        prep = words[0]
        pobj = next((c for c in prep.children if c.dep_ == "pobj"), None)
        source = _np(pobj) if pobj is not None else doc[words[1].i : words[-1].i]
        out.append(
            Candidate(
                kind=AttributionKind.direct,
                cue=(prep.idx, prep.idx + len(prep.text)),
                content=[nxt],
                rule="block-citation",
                source=source,
                cue_token=prep,
            )
        )
    return out


# Labels that open a line without naming a speaker ("UPDATE: ...", "The Latest: ...").
_NOT_SPEAKERS = {
    "video",
    "update",
    "updated",
    "byline",
    "exclusive",
    "email",
    "breaking",
    "watch",
    "look",
    "boom",
    "busted",
    "note",
    "photo",
    "photos",
    "read",
    "live",
    "editor's note",
    "correction",
    "the latest",
    "related",
    "un",
}
_SPEAKER_LINE = re.compile(r"[\"“]?([A-Z][A-Z.'’\- ]{0,30}[A-Z.]): +(?=\S)")
_HEADLINE = re.compile(r"([^:\n]{2,40}): +(?=\S)")
_HEADLINE_SOURCE_NOUNS = {"poll", "report", "study", "survey", "newspaper", "paper", "fact-check", "analysis", "memo"}
_DASH = r"(?:―|—|–|--|-)"
_QUOTE_THEN_NAME = re.compile(rf"([“”\"][^“\"]+[”\"])\s*({_DASH})\s*([A-Z][\w.'’ -]{{1,40}}?)[.\s]*$")
_NAME_THEN_QUOTE = re.compile(rf"([A-Z][\w.'’ ]{{1,40}}?)\s+({_DASH})\s+([“\"].+[”\"])\s*$")


def _named(doc: Doc, start: int, end: int, *, max_words: int = 6) -> TokSpan | None:
    """The text in ``start..end`` as a speaker's name: a few words, no verb or preposition."""
    span = doc.char_span(start, end, alignment_mode="expand")
    if span is None or not 0 < len([t for t in span if not t.is_punct]) <= max_words:
        return None
    if any(t.pos_ in {"VERB", "AUX", "ADP", "SCONJ"} for t in span):
        return None
    return span


def _lines(text: str, paragraphs: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """The lines of each paragraph (a gallery of pull quotes is one paragraph, a quote a line)."""
    out = []
    for ps, pe in paragraphs:
        start = ps
        for line in text[ps:pe].split("\n"):
            if line.strip():
                out.append((start, start + len(line.rstrip())))
            start += len(line) + 1
    return out


# The rules below draw their edges from layout (the line, the label, the quotation marks), not
# from the parse: the learned edge model leaves their attributions alone.
LAYOUT_RULES = frozenset({"speaker-label", "headline-label", "pull-quote"})


def speaker_labels(ctx: _Context) -> list[Candidate]:
    """Attributions with no verb, where layout names the speaker.

    - a transcript: paragraphs opening "WALLACE: ..." (two speakers at least, so that a lone
      "UPDATE:" is not one);
    - a headline "Pence: Gennifer Flowers Won't Be at Debate" (the source a name, an outlet or a
      poll);
    - a pull quote with its speaker after or before a dash: "“…” ― Sonya Herridge".
    The punctuation mark is the cue, as PolNeAR annotates it.
    """
    doc = ctx.doc
    text = dc.text(doc)
    out: list[Candidate] = []

    def add(cue: tuple[int, int], content: tuple[int, int], source: TokSpan, rule: str, kind: AttributionKind) -> None:
        out.append(Candidate(kind=kind, cue=cue, content=[content], rule=rule, source=source, cue_token=None))

    lines = []
    for ps, pe in ctx.paragraphs:
        m = _SPEAKER_LINE.match(text, ps, pe)
        if m and m.group(1).strip().lower() not in _NOT_SPEAKERS:
            lines.append((m, pe))
    if len({m.group(1).strip() for m, _ in lines}) >= 2:
        for m, pe in lines:
            source = _named(doc, m.start(1), m.end(1))
            end = len(text[:pe].rstrip())
            if text[m.start() : m.start() + 1] in '"“' and text[end - 1 : end] in '"”':
                end -= 1  # the transcript's quotation marks wrap the whole line
            if source is not None and end > m.end():
                add((m.end(1), m.end(1) + 1), (m.end(), end), source, "speaker-label", AttributionKind.direct)
    if ctx.paragraphs:
        ps, pe = ctx.paragraphs[0]
        m = _HEADLINE.match(text, ps, pe)
        if m and m.group(1).strip().lower() not in _NOT_SPEAKERS and "\n" not in text[ps:pe].strip():
            source = _named(doc, m.start(1), m.end(1), max_words=5)
            if source is not None and (
                any(t.ent_type_ in {"PERSON", "ORG", "GPE", "NORP"} for t in source)
                or source[-1].lower_ in _HEADLINE_SOURCE_NOUNS
                or (len(source) <= 3 and all(t.pos_ == "PROPN" for t in source))
            ):
                add(
                    (m.end(1), m.end(1) + 1),
                    (m.end(), len(text[:pe].rstrip())),
                    source,
                    "headline-label",
                    AttributionKind.indirect,
                )
    for ps, pe in _lines(text, ctx.paragraphs):
        line = text[ps:pe]
        m = _QUOTE_THEN_NAME.match(line)
        quote, dash, name = (1, 2, 3)
        if m is None:
            m = _NAME_THEN_QUOTE.match(line)
            quote, dash, name = (3, 2, 1)
        if m is None:
            continue
        source = _named(doc, ps + m.start(name), ps + m.end(name))
        if source is None or not any(t.pos_ == "PROPN" for t in source):
            continue
        add(
            (ps + m.start(dash), ps + m.end(dash)),
            (ps + m.start(quote), ps + m.end(quote)),
            source,
            "pull-quote",
            AttributionKind.direct,
        )
    return out


RULES = (speaker_labels, block_citations, according_to, verb_cues)


def make_context(doc: Doc, paragraphs: Sequence[tuple[int, int]]) -> _Context:
    text = dc.text(doc)
    quotes = doc_quotes(doc)
    return _Context(
        doc=doc,
        lex=lexicons.load(),
        quotes=quotes,
        quote_starts=[q.start for q in quotes],
        paragraphs=list(paragraphs) or [(0, len(text))],
    )


def extract(doc: Doc, paragraphs: Sequence[tuple[int, int]]) -> list[Candidate]:
    ctx = make_context(doc, paragraphs)
    found: list[Candidate] = []
    seen_cues: set[tuple[int, int]] = set()
    for rule in RULES:
        for cand in rule(ctx):
            if cand.cue in seen_cues:
                continue
            seen_cues.add(cand.cue)
            found.append(cand)
    _cut_scaffolding(doc, found)
    _attach_orphan_quotes(ctx, found)
    found.sort(key=lambda c: c.cue[0])
    return found


def _cut_scaffolding(doc: Doc, found: list[Candidate]) -> None:
    """Take "..., these people said, ..." and ", according to X" out of every other content they
    interrupt: they are another attribution's scaffolding, not part of what was said."""
    chunks = [(c, set(c.scaffold), c.cue[0]) for c in found if c.scaffold]
    if not chunks:
        return
    for c in found:
        if c.rule.endswith((":quote", ":quote-before", "block-citation")):
            continue
        for other, idx, at in chunks:
            if other is c or not any(s <= at < e for s, e in c.content):
                continue
            toks: set[int] = set()
            for s, e in c.content:
                span = doc.char_span(s, e, alignment_mode="expand")
                if span is not None:
                    toks |= {t.i for t in span}
            c.content = token_ranges(doc, toks - idx, lead_that=False) or c.content


def _attach_orphan_quotes(ctx: _Context, found: list[Candidate]) -> None:
    """A quote no cue claims is the last speaker talking on.

    In the speaker's own paragraph it joins that attribution's content ("“A,” said X. “B.”" is one
    attribution with two pieces, as PolNeAR annotates it); a quote opening a later paragraph is a
    new attribution of the same speaker, with the opening mark standing in for the cue.
    """
    claimed = [r for c in found for r in c.content]
    for q in ctx.quotes:
        if any(ranges_overlap(p, r) for p in q.pieces for r in claimed):
            continue
        para = ctx.paragraph_of(q.start)
        prev_para = ctx.paragraph_of(max(0, para[0] - 3))
        earlier = [c for c in found if c.cue[0] < q.start and c.cue[0] >= prev_para[0] and c.source is not None]
        if not earlier:
            continue
        speaker = max(earlier, key=lambda c: c.cue[0])
        if speaker.cue[0] >= para[0] and speaker.rule.endswith(("quote", "quote-continuation")):
            speaker.content = sorted(speaker.content + q.marked)
            claimed += q.marked
            continue
        text = dc.text(ctx.doc)
        starts_paragraph = not text[para[0] : q.marked[0][0]].strip()
        if not starts_paragraph or len(text[q.start : q.end].split()) < 4:
            continue
        found.append(
            Candidate(
                kind=AttributionKind.direct,
                cue=(q.marked[0][0], q.marked[0][0] + 1),  # the opening quote mark stands in for the cue
                content=list(q.marked),
                rule="quote-continuation",
                source=speaker.source,
                cue_token=None,
            )
        )
        claimed += q.marked
