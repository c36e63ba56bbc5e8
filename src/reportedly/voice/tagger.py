"""Voice: is a sentence the outlet reporting, or the outlet's own opinion?

Evidence for opinion, summed per sentence (weights in ``lexicons/opinion.tsv`` and below):
evaluative words and phrases; the writer addressing or including the reader ("Hold me?");
questions and exclamations in the writer's own voice; verbless asides ("Probably.", "Which is a
bad thing."). Words inside quotation marks or inside an attribution's content are someone else's
voice and do not count; a sentence carrying an attribution cue is reporting.

A paragraph of three or more sentences that is mostly opinion pulls its short unattributed sentences along: a closing
"Soon there will be no one left." reads as comment beside "Which is a bad thing. Probably."

Beside the lexicon, a learned model (``voice/model.py``, trained on CheckThat! sentences) gives
each unattributed sentence a probability of opinion; a sentence is opinion when either the
lexicon evidence reaches 1.0 or the probability reaches the model's threshold. The lexicon keeps
what it knows about a writer's asides; the model adds the neutral-register evaluation that no
word list covers ("an indicator of some turbulence"). With the model, a sentence that carries a
cue but is mostly the writer's own words ("it is absurd to claim that ...") is judged on its
evidence; only one mostly made of attributed content is reporting outright.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from spacy.tokens import Doc, Token
from spacy.tokens import Span as TokSpan

from reportedly import lexicons
from reportedly.model import Span, Voice, VoiceSpan
from reportedly.pipeline import doccache as dc
from reportedly.voice.model import VoiceModel, load_voice_model, sentence_features

THRESHOLD = 1.0
_PERSONAL = {"i", "me", "my", "mine", "we", "us", "our", "ours", "you", "your", "yours"}
_W_PERSONAL = 0.6
_W_QUESTION = 0.5
_W_EXCLAIM = 0.5
_W_ASIDE = 1.0  # a verbless sentence that is only a hedge or evaluation
_W_RELATIVE_FRAGMENT = 0.5  # "Which is ..." standing alone comments on what came before
_SHORT_WORDS = 12
# With the learned model every sentence has some evidence, so an opinion paragraph lowers the bar for
# its short sentences (to 80%) instead of taking them all: "Trump refused the offer." stays reporting.
_SMOOTH_FLOOR = 0.8


@dataclass
class _Scored:
    sent: TokSpan
    score: float
    cues: list[tuple[int, int]]
    attributed: bool


@dataclass
class _Evidence:
    doc: Doc
    start: int
    end: int
    rule_score: float
    cues: list[tuple[int, int]]
    attributed: bool
    attributed_fraction: float
    has_cue: bool
    voiced: Callable[[int], bool]

    def features(self) -> dict[str, float]:
        return sentence_features(
            self.doc,
            self.start,
            self.end,
            voiced=self.voiced,
            attributed_fraction=self.attributed_fraction,
            has_cue=self.has_cue,
            rule_score=self.rule_score,
        )


def _evidence(
    doc: Doc,
    start: int,
    end: int,
    words: list[Token],
    lowers: list[str],
    covered: int,
    has_cue: bool,
    voiced_mask: list[bool],
) -> _Evidence:
    """The lexicon's opinion evidence for tokens ``start:end`` (one sentence, or one labelled item
    in training). ``covered``: characters of the unit inside attributed ranges; ``has_cue``: a cue
    starts in it; ``voiced_mask``: :func:`_voiced_mask` of the attributed ranges."""
    lex = lexicons.load()
    s0, s1 = words[0].idx, words[-1].idx + len(words[-1].text)
    attributed = has_cue or covered >= 0.5 * (s1 - s0)

    tokens = dc.tokens(doc)
    voiced = voiced_mask.__getitem__

    score = 0.0
    cues: list[tuple[int, int]] = []
    firsts = _opinion_firsts()
    i = start
    while i < end:
        hit = 0
        # Most words start no opinion phrase: one set look-up spares building a tuple per length.
        if lowers[i] in firsts:
            for size in range(min(lex.opinion_max_len, end - i), 0, -1):
                w = lex.opinion.get(tuple(lowers[i : i + size]))
                if w is not None and voiced(i):
                    score += w
                    last_tok = tokens[i + size - 1]
                    cues.append((tokens[i].idx, last_tok.idx + len(last_tok.text)))
                    hit = size
                    break
        i += max(hit, 1)
    personal = [t for t in words if t.lower_ in _PERSONAL and t.pos_ == "PRON" and voiced(t.i)]
    if personal:
        score += _W_PERSONAL
        cues += [(t.idx, t.idx + len(t.text)) for t in personal[:1]]
    last = words[-1]
    if last.text == "?" and voiced(last.i):
        score += _W_QUESTION
        cues.append((last.idx, last.idx + 1))
    if last.text == "!" and voiced(last.i):
        score += _W_EXCLAIM
        cues.append((last.idx, last.idx + 1))
    content_words = [t for t in words if not t.is_punct]
    has_verb = any(t.pos_ in ("VERB", "AUX") for t in content_words)
    if not has_verb and 0 < len(content_words) <= 3 and all(t.pos_ in ("ADV", "INTJ", "ADJ") for t in content_words):
        score += _W_ASIDE
        cues.append((content_words[0].idx, content_words[-1].idx + len(content_words[-1].text)))
    if content_words and content_words[0].lower_ == "which" and content_words[0].is_title:
        score += _W_RELATIVE_FRAGMENT
    # Overlapping contents (a quote inside an attributed clause) can cover a character twice: cap at 1.
    fraction = min(1.0, covered / max(1, s1 - s0))
    return _Evidence(doc, start, end, score, cues, attributed, fraction, has_cue, voiced)


def _voiced_mask(doc: Doc, attributed_ranges: list[tuple[int, int]]) -> list[bool]:
    """Per token: the writer's own words (not a space, not inside any attributed range). Computed
    once per document: testing every range for every word made this quadratic in long articles."""
    starts = dc.token_starts(doc)
    inside = [False] * len(starts)
    for s, e in attributed_ranges:
        for i in range(bisect.bisect_left(starts, s), bisect.bisect_left(starts, e)):
            inside[i] = True
    return [not (inside[i] or space) for i, space in enumerate(dc.spaces(doc))]


@lru_cache(maxsize=1)
def _opinion_firsts() -> frozenset[str]:
    return frozenset(k[0] for k in lexicons.load().opinion)


def item_features(doc: Doc, attributed_ranges: list[tuple[int, int]], cue_ranges: list[tuple[int, int]]) -> dict[str, float]:
    """The learned model's features for a whole short text taken as one unit (a labelled training item)."""
    words = [t for t in doc if not t.is_space]
    if not words:
        return {}
    mask = _voiced_mask(doc, attributed_ranges)
    s0, s1 = words[0].idx, words[-1].idx + len(words[-1].text)
    has_cue = any(s0 <= c0 < s1 for c0, _ in cue_ranges)
    covered = sum(max(0, min(s1, e) - max(s0, s)) for s, e in attributed_ranges)
    return _evidence(doc, 0, len(doc), words, dc.lowers(doc), covered, has_cue, mask).features()


def tag_voice(
    doc: Doc,
    attributed_ranges: list[tuple[int, int]],
    cue_ranges: list[tuple[int, int]],
    paragraphs: list[tuple[int, int]],
    *,
    learned: bool = True,
    model: VoiceModel | None = None,
) -> list[VoiceSpan]:
    """Voice per sentence. ``learned=False`` uses the lexicon evidence alone (v1, for comparison);
    ``model`` replaces the shipped model (training scores a model before it is written)."""
    text = dc.text(doc)
    scored: list[_Scored] = []
    lowers = dc.lowers(doc)
    if learned and model is None:
        model = load_voice_model()
    elif not learned:
        model = None
    toks = dc.tokens(doc)
    mask = _voiced_mask(doc, attributed_ranges)
    # One sweep over the sentences in text order: testing every range against every sentence was
    # quadratic in long articles. ``active`` holds the ranges that may still reach a sentence.
    pending = sorted(attributed_ranges)
    cue_starts = sorted(c0 for c0, _ in cue_ranges)
    active: list[tuple[int, int]] = []
    j = 0
    for sent in dc.sents(doc):
        words = [t for t in toks[sent.start : sent.end] if not t.is_space]
        if not words:
            continue
        s0, s1 = words[0].idx, words[-1].idx + len(words[-1].text)
        while j < len(pending) and pending[j][0] < s1:
            active.append(pending[j])
            j += 1
        active = [r for r in active if r[1] > s0]
        covered = sum(max(0, min(s1, e) - max(s0, s)) for s, e in active)
        k = bisect.bisect_left(cue_starts, s0)
        has_cue = k < len(cue_starts) and cue_starts[k] < s1
        ev = _evidence(doc, sent.start, sent.end, words, lowers, covered, has_cue, mask)
        if model is None:
            reported = ev.attributed
            score = 0.0 if reported else ev.rule_score
        else:
            # A cue alone no longer silences the writer: in "it is absurd to claim that ..." the
            # evaluation is the writer's own. Content that fills most of the sentence still does.
            reported = ev.attributed_fraction >= 0.5
            # Either kind of evidence can make opinion; the score keeps its meaning (opinion at >= 1.0).
            score = 0.0 if reported else max(ev.rule_score, model.probability(ev.features()) / model.threshold)
        scored.append(_Scored(sent, score, [] if reported else ev.cues, ev.attributed))

    _smooth_paragraphs(scored, paragraphs, 0.0 if model is None else _SMOOTH_FLOOR)
    out = []
    for sc in scored:
        words = [t for t in toks[sc.sent.start : sc.sent.end] if not t.is_space]
        s0, s1 = words[0].idx, words[-1].idx + len(words[-1].text)
        out.append(
            VoiceSpan(
                sentence=Span(start=s0, end=s1, text=text[s0:s1]),
                voice=Voice.opinion if sc.score >= THRESHOLD else Voice.reporting,
                score=round(sc.score, 3),
                cues=[Span(start=a, end=b, text=text[a:b]) for a, b in sc.cues],
            )
        )
    return out


def _smooth_paragraphs(scored: list[_Scored], paragraphs: list[tuple[int, int]], floor: float) -> None:
    for p0, p1 in paragraphs:
        members = [sc for sc in scored if p0 <= sc.sent.start_char < p1]
        if len(members) < 3:
            continue
        opinion = sum(1 for sc in members if sc.score >= THRESHOLD)
        if opinion * 2 < len(members) or opinion == 0:
            continue
        for sc in members:
            n_words = sum(1 for t in sc.sent if not (t.is_punct or t.is_space))
            if floor <= sc.score < THRESHOLD and not sc.attributed and n_words <= _SHORT_WORDS:
                sc.score = THRESHOLD
