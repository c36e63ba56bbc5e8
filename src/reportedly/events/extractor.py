"""Events v1: actor - action - target records from the dependency parse.

For each verb with an actor (its subject, the agent of a passive, or the subject it shares with
the verb it depends on: "Sessions offered to resign"):

- predicate: the lemma, with a particle ("step down") or, for a light verb with an event noun as
  object, the noun ("offered his resignation" -> "offer resignation", "made the suggestion");
- target: a named or titled entity as object, recipient ("to the president") or prepositional
  object of against/with/after; a definite event noun as object is another event ("refused the
  offer" -> the offer);
- CAMEO top-level class from ``lexicons/cameo_verbs.tsv`` (derived from the CAMEO 2.0 verb
  dictionary) with ``cameo_overrides.tsv`` on top;
- support: the innermost attribution whose content holds the verb (None: the outlet itself), and
  the certainty of the claim that carries it. ``outlet_certainty`` is the publisher's own
  commitment: an event it only relays is at most probable;
- ``same_as``: a later mention of an event already told ("offered to resign" after "offered his
  resignation"; "made the suggestion" after either) links back to it: same actor and same verb,
  or a light verb with a definite event noun right after the actor's last event.

Attribution cues are not events: "said" is provenance, recorded as an Attribution.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from spacy.tokens import Doc, Token

from reportedly import lexicons
from reportedly.model import Attribution, Certainty, Claim, Event, Span
from reportedly.pipeline import doccache as dc
from reportedly.pipeline.entities import DocEntities

_LIGHT_VERBS = {"make", "take", "give", "offer", "have", "hold", "launch", "issue", "submit", "tender", "file", "announce"}
_TARGET_PREPS = {"to", "against", "with", "after", "on", "toward", "towards"}
_SUBJ = {"nsubj", "nsubjpass"}
_ORDER = [Certainty.unknown, Certainty.possible, Certainty.probable, Certainty.negated, Certainty.certain]
_DEFINITE = {"the", "this", "that", "his", "her", "their", "its"}


@dataclass(frozen=True)
class EventLexicon:
    cameo: dict[str, str]
    classes: dict[str, str]
    nouns: dict[str, str]


@lru_cache(maxsize=1)
def event_lexicon() -> EventLexicon:
    rows = lexicons.rows  # the shared data-file reader
    cameo = {r[0]: r[1] for r in rows("cameo_verbs.tsv")}
    cameo.update({r[0]: r[1] for r in rows("cameo_overrides.tsv")})
    return EventLexicon(
        cameo=cameo,
        classes={r[0]: r[1] for r in rows("cameo_classes.tsv")},
        nouns={r[0]: r[1] for r in rows("event_nouns.tsv")},
    )


def _span(tok_or_span: Token | tuple[int, int], text: str) -> Span:
    if isinstance(tok_or_span, Token):
        s, e = tok_or_span.idx, tok_or_span.idx + len(tok_or_span.text)
    else:
        s, e = tok_or_span
    return Span(start=s, end=e, text=text[s:e])


def _actor(verb: Token) -> Token | None:
    for c in verb.children:
        if c.dep_ in _SUBJ and c.tag_ not in ("WDT", "EX") and c.lower_ not in ("it", "there"):
            return verb.head if c.tag_ == "WP" and verb.dep_ == "relcl" else c
        if c.dep_ == "agent":
            return next((p for p in c.children if p.dep_ == "pobj"), None)
    if verb.dep_ in ("xcomp", "conj") and verb.head.i != verb.i and verb.head.pos_ in ("VERB", "AUX"):
        return _actor(verb.head)
    return None


def _tense(verb: Token) -> str:
    auxes = [c for c in verb.children if c.dep_ in ("aux", "auxpass")]
    if any(a.lower_ in ("will", "shall", "'ll") for a in auxes):
        return "future"
    tags = [verb.tag_, *(a.tag_ for a in auxes)]
    if any(t in ("VBD",) for t in tags):
        return "past"
    if any(t in ("VBZ", "VBP") for t in tags):
        return "present"
    if verb.dep_ in ("xcomp", "conj") and verb.head.pos_ in ("VERB", "AUX"):
        return _tense(verb.head)
    return "unknown"


def _phrase_span(tok: Token) -> tuple[int, int]:
    left, right = tok.left_edge, tok.right_edge
    for c in tok.rights:
        if c.dep_ in ("relcl", "acl", "punct"):
            right = tok.doc[c.left_edge.i - 1] if c.left_edge.i > tok.i else tok
            break
    return left.idx, right.idx + len(right.text)


def _weakest(a: Certainty, b: Certainty) -> Certainty:
    return min(a, b, key=_ORDER.index)


def extract_events(
    doc: Doc,
    ents: DocEntities,
    attributions: list[Attribution],
    claims: list[Claim],
    cue_token_ids: set[int],
) -> list[Event]:
    lex = event_lexicon()
    text = dc.text(doc)
    events: list[Event] = []
    last_by_actor: dict[str, Event] = {}
    by_lemma: dict[tuple[str, str], Event] = {}

    # Every piece of every content, flat: these two lookups run once per verb.
    attribution_pieces = [(p.start, p.end, k) for k, a in enumerate(attributions) for p in a.content]
    attribution_size = [sum(p.end - p.start for p in a.content) for a in attributions]
    claim_pieces = [(p.start, p.end, k) for k, c in enumerate(claims) for p in c.content]
    claim_size = [sum(p.end - p.start for p in c.content) for c in claims]

    def innermost(char: int) -> Attribution | None:
        hits = {k for s, e, k in attribution_pieces if s <= char < e}
        return attributions[min(sorted(hits), key=attribution_size.__getitem__)] if hits else None

    def claim_at(char: int, attribution: Attribution | None) -> Claim | None:
        hits = sorted({k for s, e, k in claim_pieces if s <= char < e})
        own = [k for k in hits if attribution is not None and claims[k].attribution_id == attribution.id]
        pool = own or hits
        return claims[min(pool, key=claim_size.__getitem__)] if pool else None

    # Words of a source phrase ("two people ... who requested anonymity") describe the source,
    # they are not news events.
    in_sources = [(a.source.start, a.source.end) for a in attributions if a.source is not None]
    absorbed: set[int] = set()
    for verb in dc.tokens(doc):
        if verb.pos_ != "VERB" or verb.i in cue_token_ids or verb.i in absorbed:
            continue
        if any(s <= verb.idx < e for s, e in in_sources):
            continue
        actor = _actor(verb)
        if actor is None:
            continue
        lemma = verb.lemma_.lower()
        particle = next((c for c in verb.children if c.dep_ == "prt"), None)
        predicate = f"{lemma} {particle.lower_}" if particle is not None else lemma
        trigger_end = verb.idx + len(verb.text)
        obj = next((c for c in verb.children if c.dep_ in ("dobj", "dative")), None)
        xcomp = next((c for c in verb.children if c.dep_ == "xcomp" and c.pos_ == "VERB"), None)
        light_noun = None
        if obj is not None and lemma in _LIGHT_VERBS and obj.lemma_.lower() in lex.nouns:
            light_noun = obj
            predicate = f"{lemma} {obj.lemma_.lower()}"
            trigger_end = max(trigger_end, obj.idx + len(obj.text))
        elif xcomp is not None and lemma in ("offer", "threaten", "promise", "agree", "refuse", "decide", "plan", "vow"):
            predicate = f"{lemma} to {xcomp.lemma_.lower()}"
            absorbed.add(xcomp.i)  # "offered to resign" is one event, not two
        if predicate == lemma and f"{lemma} {next((c.lower_ for c in verb.children if c.dep_ == 'prep'), '')}" in lex.cameo:
            prep = next(c for c in verb.children if c.dep_ == "prep")
            predicate = f"{lemma} {prep.lower_}"  # "go after", "call for"
        cameo = lex.cameo.get(predicate) or lex.cameo.get(lemma)
        if cameo in (None, "-") and light_noun is not None:
            cameo = lex.cameo.get(lex.nouns[light_noun.lemma_.lower()])
        if cameo == "-":
            cameo = None

        # Target: an entity or title as object / recipient / prepositional object, or an event noun.
        target_tok: Token | None = None
        target_event: Event | None = None
        candidates = [] if light_noun is not None else ([obj] if obj is not None else [])
        for c in [*verb.children, *(light_noun.children if light_noun is not None else [])]:
            if c.dep_ in ("prep", "dative") and c.lower_ in _TARGET_PREPS:
                candidates += [p for p in c.children if p.dep_ == "pobj"]
        for cand in candidates:
            noun = cand.lemma_.lower()
            dets = {d.lower_ for d in cand.children if d.dep_ in ("det", "poss")}
            if noun in lex.nouns and dets & _DEFINITE and ents.entity_at(cand) is None:
                verb_of = lex.nouns[noun]
                target_event = next(
                    (e for e in reversed(events) if e.predicate.split()[0] == verb_of or verb_of in e.predicate.split()), None
                )
                if target_event is not None:
                    target_tok = cand
                    break
            if ents.entity_at(cand) is not None or cand.pos_ == "PROPN":
                target_tok = cand
                break
        if target_tok is None and obj is not None and light_noun is None and obj.pos_ in ("PROPN", "PRON"):
            target_tok = obj  # an unrecognised name or a pronoun; "had faith" has no target

        actor_ent = ents.entity_at(actor)
        target_ent = ents.entity_at(target_tok) if target_tok is not None else None
        attribution = innermost(verb.idx)
        claim = claim_at(verb.idx, attribution)
        certainty = claim.certainty if claim is not None else Certainty.certain
        if any(c.dep_ == "neg" for c in verb.children) and certainty == Certainty.certain:
            certainty = Certainty.negated
        outlet_certainty = certainty if attribution is None else _weakest(certainty, Certainty.probable)

        actor_key = actor_ent.id if actor_ent is not None else actor.lower_
        same_as: Event | None = None
        if light_noun is not None and {d.lower_ for d in light_noun.children if d.dep_ in ("det",)} & _DEFINITE:
            same_as = last_by_actor.get(actor_key)  # "made the suggestion": the actor's last event
        if same_as is None:
            same_as = by_lemma.get((actor_key, lemma))
        ev = Event(
            id=f"v{len(events) + 1}",
            predicate=predicate,
            trigger=_span((verb.idx, trigger_end), text),
            actor=_span(_phrase_span(actor), text),
            actor_name=actor_ent.name if actor_ent is not None else text[slice(*_phrase_span(actor))],
            actor_entity_id=actor_ent.id if actor_ent is not None else None,
            target=_span(_phrase_span(target_tok), text) if target_tok is not None else None,
            target_name=target_ent.name if target_ent is not None else (target_event.predicate if target_event else None),
            target_entity_id=target_ent.id if target_ent is not None else None,
            target_event_id=target_event.id if target_event is not None else None,
            cameo=cameo,
            cameo_label=lex.classes.get(cameo) if cameo else None,
            negated=any(c.dep_ == "neg" for c in verb.children),
            tense=_tense(verb),
            certainty=certainty,
            outlet_certainty=outlet_certainty,
            attribution_id=attribution.id if attribution is not None else None,
            claim_id=claim.id if claim is not None else None,
            same_as=same_as.id if same_as is not None else None,
        )
        events.append(ev)
        last_by_actor[actor_key] = ev
        by_lemma.setdefault((actor_key, lemma), ev)
    return events
