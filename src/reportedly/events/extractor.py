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

import bisect
from dataclasses import dataclass
from functools import lru_cache

from spacy.tokens import Doc

from reportedly import lexicons
from reportedly.model import Attribution, Certainty, Claim, Event, Span
from reportedly.pipeline import doccache as dc
from reportedly.pipeline.entities import DocEntities

_LIGHT_VERBS = {"make", "take", "give", "offer", "have", "hold", "launch", "issue", "submit", "tender", "file", "announce"}
_TARGET_PREPS = {"to", "against", "with", "after", "on", "toward", "towards"}
_SUBJ = {"nsubj", "nsubjpass"}
_ORDER = [Certainty.unknown, Certainty.possible, Certainty.probable, Certainty.negated, Certainty.certain]
_DEFINITE = {"the", "this", "that", "his", "her", "their", "its"}
_TO_VERBS = {"offer", "threaten", "promise", "agree", "refuse", "decide", "plan", "vow"}


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


def _span(bounds: tuple[int, int], text: str) -> Span:
    s, e = bounds
    return Span(start=s, end=e, text=text[s:e])


# The tree walks below go by token index over ``dc.parse`` lists: reading ``Token.children`` or
# ``Token.head`` makes a new Token object on every step, and they run for every verb.


def _actor(p: dc.Parse, verb: int) -> int | None:
    for c in p.children(verb):
        dep = p.dep[c]
        if dep in _SUBJ and p.tokens[c].tag_ not in ("WDT", "EX") and p.lower[c] not in ("it", "there"):
            return p.head[verb] if p.tokens[c].tag_ == "WP" and p.dep[verb] == "relcl" else c
        if dep == "agent":
            return next((g for g in p.children(c) if p.dep[g] == "pobj"), None)
    head = p.head[verb]
    if p.dep[verb] in ("xcomp", "conj") and head != verb and p.tokens[head].pos_ in ("VERB", "AUX"):
        return _actor(p, head)
    return None


def _tense(p: dc.Parse, verb: int) -> str:
    auxes = [c for c in p.children(verb) if p.dep[c] in ("aux", "auxpass")]
    if any(p.lower[a] in ("will", "shall", "'ll") for a in auxes):
        return "future"
    tags = [p.tokens[verb].tag_, *(p.tokens[a].tag_ for a in auxes)]
    if "VBD" in tags:
        return "past"
    if "VBZ" in tags or "VBP" in tags:
        return "present"
    if p.dep[verb] in ("xcomp", "conj") and p.tokens[p.head[verb]].pos_ in ("VERB", "AUX"):
        return _tense(p, p.head[verb])
    return "unknown"


def _phrase_span(p: dc.Parse, i: int) -> tuple[int, int]:
    lefts, rights = dc.edges(p.tokens[i].doc)
    left, right = lefts[i], rights[i]
    for c in p.children(i):
        if c > i and p.dep[c] in ("relcl", "acl", "punct"):
            edge = lefts[c]
            right = edge - 1 if edge > i else i
            break
    return p.start[left], p.end(right)


def _pieces_at(starts: list[int], among: list[int], pieces: list[tuple[int, int, int]]) -> dict[int, list[int]]:
    """For each token of ``among`` (ascending), the numbers of the pieces its first character
    falls in, ascending."""
    at: dict[int, list[int]] = {}
    for s, e, k in pieces:
        # The tokens that start in [s, e) are a run of indices: starts are sorted.
        lo, hi = bisect.bisect_left(starts, s), bisect.bisect_left(starts, e)
        for i in among[bisect.bisect_left(among, lo) : bisect.bisect_left(among, hi)]:
            at.setdefault(i, []).append(k)
    return at


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
    p = dc.parse(doc)
    toks = p.tokens
    events: list[Event] = []
    last_by_actor: dict[str, Event] = {}
    by_lemma: dict[tuple[str, str], Event] = {}

    # Which contents hold each verb's first character, found once per piece instead of once per verb.
    verbs = dc.verbs(doc)
    attribution_at = _pieces_at(p.start, verbs, [(q.start, q.end, k) for k, a in enumerate(attributions) for q in a.content])
    attribution_size = [sum(q.end - q.start for q in a.content) for a in attributions]
    claim_at = _pieces_at(p.start, verbs, [(q.start, q.end, k) for k, c in enumerate(claims) for q in c.content])
    claim_size = [sum(q.end - q.start for q in c.content) for c in claims]

    def innermost(i: int) -> Attribution | None:
        hits = attribution_at.get(i)
        return attributions[min(hits, key=attribution_size.__getitem__)] if hits else None

    def claim_of(i: int, attribution: Attribution | None) -> Claim | None:
        hits = claim_at.get(i, [])
        own = [k for k in hits if attribution is not None and claims[k].attribution_id == attribution.id]
        pool = own or hits
        return claims[min(pool, key=claim_size.__getitem__)] if pool else None

    # Words of a source phrase ("two people ... who requested anonymity") describe the source,
    # they are not news events.
    in_sources = _pieces_at(p.start, verbs, [(a.source.start, a.source.end, 0) for a in attributions if a.source is not None])
    absorbed: set[int] = set()
    for v in verbs:
        if v in cue_token_ids or v in absorbed or v in in_sources:
            continue
        actor = _actor(p, v)
        if actor is None:
            continue
        lemma = toks[v].lemma_.lower()
        # The first child of each kind that the rules below look at, in one pass.
        particle = obj = xcomp = prep = None
        negated = False
        for c in p.children(v):
            dep = p.dep[c]
            if dep == "prt":
                particle = c if particle is None else particle
            elif dep in ("dobj", "dative"):
                obj = c if obj is None else obj
            elif dep == "xcomp":
                xcomp = c if xcomp is None and toks[c].pos_ == "VERB" else xcomp
            elif dep == "prep":
                prep = c if prep is None else prep
            elif dep == "neg":
                negated = True
        predicate = f"{lemma} {p.lower[particle]}" if particle is not None else lemma
        trigger_end = p.end(v)
        light_noun = None
        if obj is not None and lemma in _LIGHT_VERBS and (obj_lemma := toks[obj].lemma_.lower()) in lex.nouns:
            light_noun = obj
            predicate = f"{lemma} {obj_lemma}"
            trigger_end = max(trigger_end, p.end(obj))
        elif xcomp is not None and lemma in _TO_VERBS:
            predicate = f"{lemma} to {toks[xcomp].lemma_.lower()}"
            absorbed.add(xcomp)  # "offered to resign" is one event, not two
        # The lexicon's keys are stripped, so a verb without a preposition never matches "lemma ".
        if predicate == lemma and prep is not None and f"{lemma} {p.lower[prep]}" in lex.cameo:
            predicate = f"{lemma} {p.lower[prep]}"  # "go after", "call for"
        cameo = lex.cameo.get(predicate) or lex.cameo.get(lemma)
        if cameo in (None, "-") and light_noun is not None:
            cameo = lex.cameo.get(lex.nouns[toks[light_noun].lemma_.lower()])
        if cameo == "-":
            cameo = None

        # Target: an entity or title as object / recipient / prepositional object, or an event noun.
        target: int | None = None
        target_event: Event | None = None
        candidates = [] if light_noun is not None else ([obj] if obj is not None else [])
        for c in [*p.children(v), *(p.children(light_noun) if light_noun is not None else [])]:
            if p.dep[c] in ("prep", "dative") and p.lower[c] in _TARGET_PREPS:
                candidates += [g for g in p.children(c) if p.dep[g] == "pobj"]
        for cand in candidates:
            noun = toks[cand].lemma_.lower()
            cand_ent = ents.entity_at(toks[cand])
            if (
                noun in lex.nouns
                and cand_ent is None
                and {p.lower[d] for d in p.children(cand) if p.dep[d] in ("det", "poss")} & _DEFINITE
            ):
                verb_of = lex.nouns[noun]
                target_event = next(
                    (e for e in reversed(events) if e.predicate.split()[0] == verb_of or verb_of in e.predicate.split()), None
                )
                if target_event is not None:
                    target = cand
                    break
            if cand_ent is not None or toks[cand].pos_ == "PROPN":
                target = cand
                break
        if target is None and obj is not None and light_noun is None and toks[obj].pos_ in ("PROPN", "PRON"):
            target = obj  # an unrecognised name or a pronoun; "had faith" has no target

        actor_ent = ents.entity_at(toks[actor])
        target_ent = ents.entity_at(toks[target]) if target is not None else None
        attribution = innermost(v)
        claim = claim_of(v, attribution)
        certainty = claim.certainty if claim is not None else Certainty.certain
        if negated and certainty == Certainty.certain:
            certainty = Certainty.negated
        outlet_certainty = certainty if attribution is None else _weakest(certainty, Certainty.probable)

        actor_key = actor_ent.id if actor_ent is not None else p.lower[actor]
        same_as: Event | None = None
        if light_noun is not None and {p.lower[d] for d in p.children(light_noun) if p.dep[d] == "det"} & _DEFINITE:
            same_as = last_by_actor.get(actor_key)  # "made the suggestion": the actor's last event
        if same_as is None:
            same_as = by_lemma.get((actor_key, lemma))
        actor_span = _phrase_span(p, actor)
        ev = Event(
            id=f"v{len(events) + 1}",
            predicate=predicate,
            trigger=_span((p.start[v], trigger_end), text),
            actor=_span(actor_span, text),
            actor_name=actor_ent.name if actor_ent is not None else text[slice(*actor_span)],
            actor_entity_id=actor_ent.id if actor_ent is not None else None,
            target=_span(_phrase_span(p, target), text) if target is not None else None,
            target_name=target_ent.name if target_ent is not None else (target_event.predicate if target_event else None),
            target_entity_id=target_ent.id if target_ent is not None else None,
            target_event_id=target_event.id if target_event is not None else None,
            cameo=cameo,
            cameo_label=lex.classes.get(cameo) if cameo else None,
            negated=negated,
            tense=_tense(p, v),
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
