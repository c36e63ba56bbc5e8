"""The analyser: one spaCy pass per article, then each analyser on the parsed doc.

Order matters and is fixed here: entities -> attributions (+ source resolution, chains) ->
hedges -> claims (certainty) -> voice. Each step reads only the doc and what came before it.
"""

from __future__ import annotations

import dataclasses
import gc
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from typing import NamedTuple, Protocol

from spacy.language import Language
from spacy.tokens import Doc, Token
from spacy.tokens import Span as TokenSpan

from reportedly import __version__
from reportedly.attribution.convtagger import load_conv
from reportedly.attribution.edges import load_edges, polish_content, polish_cue
from reportedly.attribution.extent import load_extent
from reportedly.attribution.extractor import LAYOUT_RULES, Candidate, extract, subject_phrase
from reportedly.attribution.learned import MIN_REPORTING, act_or_hedge, merge, stance_on_thing
from reportedly.attribution.sources import Resolver
from reportedly.attribution.spans import ranges_overlap
from reportedly.certainty.claims import build_claims
from reportedly.certainty.hedges import find_hedges
from reportedly.errors import InputError, ModelNotFoundError
from reportedly.events.extractor import extract_events
from reportedly.model import Article, ArticleMeta, Attribution, Hedge, Report, Span
from reportedly.pipeline import doccache as dc
from reportedly.pipeline.entities import find_entities
from reportedly.pipeline.nlp import load_nlp, pipeline_label
from reportedly.voice.tagger import tag_voice

MODELS = ("fast", "accurate", "rules")  # attribution extractors; "fast" is the default


class LearnedExtractor(Protocol):
    """What the analyser merges with the rules: attributions with a confidence and a reporting strength."""

    def extract(self, doc: Doc, paragraphs: Sequence[tuple[int, int]], rules: Sequence[Candidate]) -> list[Candidate]: ...


# The accurate tagger's attributions stand when its probability that the cue's first word begins a
# cue is at least this; the rules fill in around them. Tuned on PolNeAR dev: for MiniLM alone, exact
# cue F1 .750 with no floor, .760 at .5, .769 at .8, .767 at .9; averaged with MPNet (shipped), whose
# probabilities are less peaked, see the accurate model card's table (.65 is best on whole attributions).
ACCURATE_MIN_CONFIDENCE = 0.65


# A sentence that takes every analyser through its lazily loaded parts (lexicons, the event
# lexicon, the voice and factuality models), so they are in memory before the heap is settled.
_WARM_UP = "Officials said on Monday that the senator had reportedly offered to resign, which was a mistake."


def settle_heap() -> None:
    """Move every object alive now out of the cycle collector's reach (``gc.freeze``).

    The spaCy pipeline, the models and the lexicons are about 230,000 container objects that live
    as long as the process. Every full collection walks all of them, and the analysers allocate
    enough to set off two to five full collections per pass over PolNeAR dev's 84 articles: 0.5 to
    0.66 s per pass, up to 1.3 s on a process's first (``docs/accuracy.md``, "Throughput"). Frozen objects
    are still freed by reference counting; only cyclic garbage among them is never collected, a
    bounded amount, at most what was alive at the freeze.
    """
    gc.collect()
    gc.freeze()


def check_model(model: str) -> None:
    if model not in MODELS:
        raise InputError(f"unknown attribution model {model!r}: choose one of {', '.join(MODELS)}")


class Step(NamedTuple):
    """One learned extractor and how its attributions meet the ones found before it.

    ``learned_first``: its attributions (cue confidence >= ``floor``, neither an act nor a
    hedge as the cue, ``learned.act_or_hedge``, nor on a cue that layout drew, ``LAYOUT_RULES``;
    with ``plausible``, only those with a Content and a cue that reads as a reporting word,
    ``learned.reporting_strength``) stand and the earlier ones fill in where they do not overlap
    (the accurate tagger, whose edges beat the rules'); otherwise the earlier ones stand and it
    adds what they missed (the fast CRF, ``learned.merge``'s rules-first), where
    ``adopt_sources`` lets the earlier attributions take its source edges. With
    ``rule_content``, a standing attribution takes the Content of an earlier one sharing its cue
    where that Content holds its own; with ``missing_content``, only where it has none; with
    ``parse_sources``, one the tagger left without a Source takes its cue verb's subject; with
    ``keep_nested``, the earlier attributions whose cue lies inside a standing one's Content
    stay, nested in it ("wants" in "The president wants to cut taxes, according to three
    people"); with ``fill_layout_and_relays``, only the attributions that layout draws (speaker
    labels, headlines, pull quotes) and those relaying a standing one fill in.
    """

    extractor: LearnedExtractor
    floor: float | None = None
    adopt_sources: bool = True
    learned_first: bool = False
    plausible: bool = False
    rule_content: bool = False
    missing_content: bool = False
    parse_sources: bool = False
    keep_nested: bool = False
    fill_layout_and_relays: bool = False

    def combine(self, before: list[Candidate], found: list[Candidate]) -> list[Candidate]:
        if self.learned_first:
            floor = 0.0 if self.floor is None else self.floor
            if self.missing_content:
                found = [_with_missing_content(c, before) for c in found]
            # Layout draws its attributions' edges (the line, the label, the marks), where a tagger
            # reading the same cue misplaces them (a transcript whose paragraphs open with a
            # quotation mark: ‘"WALLACE: …’): on a cue layout drew, the layout's attribution stands.
            drawn = [c.cue for c in before if c.rule in LAYOUT_RULES]
            standing = [
                c
                for c in found
                if c.confidence >= floor and not act_or_hedge(c) and not any(ranges_overlap(c.cue, d) for d in drawn)
            ]
            if self.plausible:
                standing = [c for c in standing if c.content and c.reporting >= MIN_REPORTING]
            if self.rule_content:
                standing = [_with_rule_content(c, before) for c in standing]
            if self.parse_sources:
                standing = [_with_parse_source(c) for c in standing]
            fill = [c for c in before if _relays_or_layout(c, standing)] if self.fill_layout_and_relays else before
            merged = merge(standing, fill, min_confidence=0.0, adopt_sources=False)
            if self.keep_nested:
                merged = _with_nested(merged, standing, before)
            return merged
        return merge(before, found, min_confidence=self.floor, adopt_sources=self.adopt_sources)


def _relays_or_layout(c: Candidate, standing: Sequence[Candidate]) -> bool:
    """Whether an earlier attribution is one a tagger does not read (layout draws it: a speaker
    label, a headline, a pull quote) or relays a standing one, whose cue lies in its Content
    ("From the Washington Post: ... according to two people close to the White House"): the chain
    of who relays whom is made of these."""
    return c.rule in LAYOUT_RULES or any(s <= t.cue[0] < e for t in standing for s, e in c.content)


def _with_nested(merged: list[Candidate], standing: Sequence[Candidate], earlier: Sequence[Candidate]) -> list[Candidate]:
    """``merged`` and the earlier attributions nested in a standing Content (their cue inside it,
    on no cue already taken): PolNeAR scores only the outermost, but the chains are made of these."""
    contents = [r for c in standing for r in c.content]
    cues = [c.cue for c in merged]
    nested = [
        r
        for r in earlier
        if any(s <= r.cue[0] < e for s, e in contents) and not any(r.cue[0] < e and s < r.cue[1] for s, e in cues)
    ]
    return sorted([*merged, *nested], key=lambda c: c.cue[0]) if nested else merged


def _with_parse_source(c: Candidate) -> Candidate:
    """``c``, given its cue verb's subject as Source where the tagger drew none (``fast_steps``)."""
    tok = c.cue_token
    if c.source is not None or tok is None or tok.pos_ != "VERB":
        return c
    source = subject_phrase(tok, c.content)
    return c if source is None else dataclasses.replace(c, source=source)


def _twin(c: Candidate, rules: Sequence[Candidate]) -> Candidate | None:
    """The first earlier attribution with a Content whose cue overlaps ``c``'s."""
    return next((r for r in rules if r.content and ranges_overlap(r.cue, c.cue)), None)


def _with_missing_content(c: Candidate, rules: Sequence[Candidate]) -> Candidate:
    """``c``, given the Content (and kind) of the earlier attribution sharing its cue where the
    tagger drew none, and that one's Source where it drew none either (``_load_learned``)."""
    twin = None if c.content else _twin(c, rules)
    if twin is None:
        return c
    source = c.source if c.source is not None else twin.source
    return dataclasses.replace(c, content=list(twin.content), kind=twin.kind, source=source)


def _with_rule_content(c: Candidate, rules: Sequence[Candidate]) -> Candidate:
    """``c`` with the Content (and so the kind) of the earlier attribution sharing its cue, if
    that one has a Content that holds ``c``'s, and its Source where ``c`` has none: where both
    read the same sentence and the tagger's Content lies inside the rule's, the rules' contents,
    cut from the parse tree, are more often the annotators' than a tagger's (``fast_steps``).

    A tagger's Content that reaches past the rule's, or lies elsewhere, stays: the rules stop at
    the first quotation or clause ("“…,” Rep. Moore said. “If indeed …”", "promised to continue
    supporting Clinton and said she would …"), the tagger read the whole. PolNeAR dev, fast exact
    F1 source / cue / content / whole: .7643 / .7278 / .5665 / .5053 with every rule Content,
    .7659 / .7312 / .5844 / .5255 with only those holding the tagger's; train (which the tagger
    learned from the teachers' labels, not the annotators') .7300 / .6962 / .5545 / .4778 against
    .7317 / .6981 / .5757 / .4978.
    """
    twin = _twin(c, rules)
    if twin is None:
        return c
    # A Source the tagger did not draw comes from the rule too ("according to the two people
    # close to the White House, who requested anonymity").
    source = c.source if c.source is not None else twin.source
    if c.content and not _holds(twin.content, c.content) and not _overlaps(c.content, source):
        return c if source is c.source else dataclasses.replace(c, source=source)
    return dataclasses.replace(c, content=list(twin.content), kind=twin.kind, source=source)


def _holds(outer: Sequence[tuple[int, int]], inner: Sequence[tuple[int, int]]) -> bool:
    return outer[0][0] <= inner[0][0] and inner[-1][1] <= outer[-1][1]


def _overlaps(ranges: Sequence[tuple[int, int]], source: TokenSpan | None) -> bool:
    """Whether a Content takes in part of its own Source (a tagger's misreading: "according to [the
    two people close to the White House]" tagged as content as well)."""
    return source is not None and any(s < source.end_char and source.start_char < e for s, e in ranges)


# The fast tagger's attributions stand when its probability that the cue's first word begins a cue
# is at least this. PolNeAR dev exact source / cue / content / whole (an earlier draw of the
# network; the shipped one gives .727 / .702 / .527 / .458 at .65), with the tests of
# ``fast_steps``: .727 / .700 / .527 / .456 at .4, .728 / .701 / .528 / .457 at .5, .726 / .702 /
# .529 / .460 at .65 (with the Content test alone: .739 / .710 / .533 / .459 at .35, .738 / .713 /
# .535 / .462 at .5, .740 / .716 / .536 / .468 at .65, .732 / .710 / .537 / .469 at .75).
FAST_MIN_CONFIDENCE = 0.65


def fast_steps(extractor: LearnedExtractor | None = None) -> list[Step]:
    """The fast mode: the convolutional tagger first (``extractor`` replaces it: a training script
    scoring the model it just wrote), the rules filling in where it found nothing."""
    # Fast's plausibility tests, which the CRF's additions passed before: a Content, and a cue that
    # reads as a reporting word (a lexicon verb, "according to", or a word heading a Cue in at least
    # 15% of its PolNeAR train uses), besides ``act_or_hedge``. They keep "Sessions offered his
    # resignation to the president" and "Trump was only notified of Sessions' decision" events, not
    # attributions. Until the sixteenth round a word under half its uses a cue also needed a clause
    # as content; without that test fast reads .7643 / .7278 / .5665 / .5053 on PolNeAR dev (source /
    # cue / content / whole) against .7543 / .7131 / .5571 / .4969, and a stance on a thing
    # ("attacked Machado") stays an event as well (``learned.stance_on_thing``).
    return [
        Step(
            extractor if extractor is not None else load_conv(),
            FAST_MIN_CONFIDENCE,
            learned_first=True,
            plausible=True,
            rule_content=True,
            parse_sources=True,
            keep_nested=True,
        )
    ]


def _load_learned(model: str) -> list[Step]:
    """The learned extractors merged, in turn, with the rules' attributions."""
    if model == "rules":
        return []
    if model == "fast":
        return fast_steps()
    try:
        from reportedly.attribution.transformer import load_accurate_tagger
    except ImportError as exc:  # torch, tokenizers or safetensors missing
        raise ModelNotFoundError(
            f"--model accurate needs the optional extra: pip install torch==2.13.0 'reportedly[accurate]' ({exc})"
        ) from exc
    # The CRF adds nothing the tagger misses on PolNeAR dev (.748 cue F1 with it, .750 without).
    # Since the seventeenth round the rules fill in only what layout draws: where the taggers left
    # a cue out, the rules' verb and quotation attributions were mostly not the annotators' (on
    # PolNeAR dev 27 of about 100 had a gold cue at the same place). Dev exact F1 source / cue /
    # content / whole: .8404 / .7824 / .6874 / .6226 with every rule filling in, .8433 / .7863 /
    # .6925 / .6324 with the layout rules and the relays (the same with the layout rules alone),
    # .8432 / .7862 / .6924 / .6322 with none. Since the eighteenth round a tagged cue the taggers
    # gave no Content takes the rule's for the same cue: .8439 / .7865 / .6956 / .6359 without,
    # .8443 / .7868 / .6966 / .6386 with (where the tagger's Content lies inside the rule's, the
    # rule's would cost: .6688 content, seventeenth round).
    return [
        Step(
            load_accurate_tagger(),
            ACCURATE_MIN_CONFIDENCE,
            learned_first=True,
            missing_content=True,
            fill_layout_and_relays=True,
        )
    ]


class Analyzer:
    """Holds the loaded pipeline; reuse one instance for many articles.

    ``model`` picks the attribution extractor: ``fast`` (a dilated CNN trained on PolNeAR, first, the
    rules filling in), ``accurate`` (two fine-tuned transformer taggers, MiniLM and MPNet, averaged, then the rules;
    needs torch and the accurate extra) or
    ``rules`` (the rules alone). ``pipeline`` names the spaCy package; ``learned`` replaces the
    learned extractors with one that adds to the rules (the CRF's training script scoring the model
    it just wrote); ``steps`` replaces them with these steps (:func:`fast_steps` of a new model). ``edges`` and
    ``extent`` (accurate only) switch the learned span-edge models off. ``settle`` (the default)
    loads every lazily loaded part with one short warm-up analysis and then hides the loaded
    pipeline and models from the garbage collector (:func:`settle_heap`): long batches run faster.
    """

    def __init__(
        self,
        model: str = "fast",
        *,
        pipeline: str | None = None,
        nlp: Language | None = None,
        batch_size: int = 32,
        learned: LearnedExtractor | None = None,
        steps: Sequence[Step] | None = None,
        edges: bool = True,
        extent: bool = True,
        settle: bool = True,
    ) -> None:
        check_model(model)
        self.model = model
        self.nlp = nlp if nlp is not None else load_nlp(pipeline)
        self.batch_size = batch_size
        self.label = pipeline_label(self.nlp)
        if steps is not None:
            self.learned = list(steps)
        else:
            self.learned = [Step(learned)] if learned is not None else _load_learned(model)
        # The learned edges go with the learned extractors; "rules" stays the rules alone.
        self.edges = load_edges(model) if model != "rules" and edges else None
        # A Content's reach among clause edges (accurate only: it reads the taggers' probabilities,
        # and fast's throughput budget has no room for it).
        self.extent = load_extent(model) if extent and steps is None and learned is None else None
        if settle:
            self.analyze(Article(id="warm-up", text=_WARM_UP, meta=ArticleMeta()))
            settle_heap()

    def analyze(self, article: Article) -> Report:
        return self.report(article, self.nlp(article.text))

    def analyze_many(self, articles: Iterable[Article]) -> Iterator[Report]:
        """Batched with ``nlp.pipe``; yields reports in input order."""
        pending: deque[Article] = deque()

        def texts() -> Iterator[str]:
            for art in articles:
                pending.append(art)
                yield art.text

        for doc in self.nlp.pipe(texts(), batch_size=self.batch_size):
            yield self.report(pending.popleft(), doc)

    def candidates(self, doc: Doc, paragraphs: Sequence[tuple[int, int]]) -> list[Candidate]:
        """The rules' attributions merged with each learned extractor's, edges as they found them."""
        candidates = extract(doc, paragraphs)
        rules = candidates
        for step in self.learned:
            candidates = step.combine(candidates, step.extractor.extract(doc, paragraphs, rules))
        return candidates

    def report(self, article: Article, doc: Doc) -> Report:
        text = article.text
        dc.prime_text(doc, text)
        paragraphs = [(p.start, p.end) for p in article.paragraphs] or [(0, len(text))]
        ents = find_entities(doc)
        candidates = self.candidates(doc, paragraphs)
        if self.edges is not None:
            self.edges.refine(doc, candidates)
        if self.extent is not None:
            self.extent.refine(doc, candidates)
        for c in candidates:
            c.content = polish_content(text, c.content)
            c.cue = polish_cue(text, c.cue, c.content)
        resolver = Resolver(ents)
        attributions, cue_tokens = _attributions(candidates, resolver, text)
        found_hedges = find_hedges(doc)
        hedges = [
            Hedge(
                id=f"h{i + 1}",
                cue=Span(start=h.start, end=h.end, text=text[h.start : h.end]),
                kind=h.kind,
                scope=Span(start=h.scope[0], end=h.scope[1], text=text[h.scope[0] : h.scope[1]]),
            )
            for i, h in enumerate(found_hedges)
        ]
        # A stance on a thing ("Trump attacked Machado") is an attribution and an act: its verb stays
        # an event, and its sentence a claim of the outlet's own.
        acts = frozenset(
            a.id
            for a in attributions
            if (t := cue_tokens[a.id]) is not None and stance_on_thing(t, [(q.start, q.end) for q in a.content])
        )
        claims = build_claims(doc, attributions, cue_tokens, found_hedges, hedges, acts)
        cue_ids = {t.i for aid, t in cue_tokens.items() if t is not None and aid not in acts}
        events = extract_events(doc, ents, attributions, claims, cue_ids)
        voice = tag_voice(
            doc,
            [(p.start, p.end) for a in attributions for p in a.content],
            [(a.cue.start, a.cue.end) for a in attributions],
            paragraphs,
        )
        dc.release(doc)
        return Report(
            reportedly_version=__version__,
            pipeline=self.label,
            article=article,
            entities=ents.entities,
            sources=resolver.sources,
            attributions=attributions,
            hedges=hedges,
            claims=claims,
            voice=voice,
            events=events,
        )


def _attributions(
    candidates: list[Candidate], resolver: Resolver, text: str
) -> tuple[list[Attribution], dict[str, Token | None]]:
    def span(r: tuple[int, int]) -> Span:
        return Span(start=r[0], end=r[1], text=text[r[0] : r[1]])

    # Resolve in text order of the source mention so anaphora look back at what a reader has seen.
    def mention_start(c: Candidate) -> int:
        return c.source.start_char if c.source is not None else c.cue[0]

    order = sorted(range(len(candidates)), key=lambda k: mention_start(candidates[k]))
    source_ids: dict[int, str | None] = {}
    for k in order:
        c = candidates[k]
        source_ids[k] = resolver.resolve(c.source).id if c.source is not None else None

    attributions: list[Attribution] = []
    cue_tokens: dict[str, Token | None] = {}
    for k, c in enumerate(candidates):
        aid = f"a{k + 1}"
        attributions.append(
            Attribution(
                id=aid,
                kind=c.kind,
                source=span((c.source.start_char, c.source.end_char)) if c.source is not None else None,
                cue=span(c.cue),
                content=[span(r) for r in c.content],
                source_id=source_ids[k],
                rule=c.rule,
            )
        )
        cue_tokens[aid] = c.cue_token
    _link_parents(attributions)
    return attributions, cue_tokens


def _link_parents(attributions: list[Attribution]) -> None:
    """An attribution whose cue lies inside another's content is relayed through it; the
    innermost (shortest) such content is the parent."""
    for a in attributions:
        best: tuple[int, Attribution] | None = None
        for b in attributions:
            if b is a:
                continue
            if any(p.start <= a.cue.start < p.end for p in b.content):
                size = sum(p.end - p.start for p in b.content)
                if best is None or size < best[0]:
                    best = (size, b)
        a.parent_id = best[1].id if best else None
    # Two attributions inside each other's content (a parse tangle): the wider one is the outer.
    by_id = {a.id: a for a in attributions}
    for a in attributions:
        other = by_id.get(a.parent_id or "")
        if other is not None and other.parent_id == a.id:
            outer = max((a, other), key=lambda x: sum(p.end - p.start for p in x.content))
            outer.parent_id = None
