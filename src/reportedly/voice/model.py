"""Learned voice: the probability that a sentence is the writer's own opinion.

A logistic regression over what the parse already gives, trained on the CLEF-2023 CheckThat!
English subjectivity sentences (``scripts/train_voice.py``): word lemmas,
part-of-speech tags (adjectives, superlatives, modals), first- and second-person pronouns in the
writer's voice, intensifiers, negation, named-entity types (names, dates and figures lean
objective), question and exclamation marks, quotation marks, how much of the sentence is
attributed content, and the lexicon's own evidence score (``lexicons/opinion.tsv``).

Linear on sparse features, so it costs a few dictionary look-ups per sentence (the analysis must
stay at >= 0.8x bare spaCy). The artefact is plain JSON, read once on first use.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from spacy.tokens import Doc, Token

from reportedly.pipeline import doccache as dc

ARTEFACT = "voice.json"

_FIRST_PERSON = {"i", "me", "my", "mine", "we", "us", "our", "ours"}
_SECOND_PERSON = {"you", "your", "yours"}
_INTENSIFIERS = {
    "very", "so", "too", "really", "extremely", "truly", "totally", "utterly", "absolutely", "incredibly", "deeply",
    "highly", "quite", "rather", "simply", "just", "even", "only", "merely", "hardly", "already", "still",
}  # fmt: skip
_QUOTES = {'"', "“", "”", "``", "''"}
_OPENERS = {"but", "and", "so", "yet", "still", "which"}


def sentence_features(
    doc: Doc,
    start: int,
    end: int,
    *,
    voiced: Callable[[int], bool],
    attributed_fraction: float,
    has_cue: bool,
    rule_score: float,
) -> dict[str, float]:
    """Features of tokens ``start:end`` of ``doc``; ``voiced(i)`` says token i is the writer's own words."""
    f: dict[str, float] = {}

    def add(key: str, value: float = 1.0) -> None:
        f[key] = f.get(key, 0.0) + value

    words: list[Token] = [t for t in dc.tokens(doc)[start:end] if not t.is_space]
    if not words:
        return f
    if has_cue:
        add("attr_cue")
    add("attr_frac", attributed_fraction)
    if attributed_fraction >= 0.5:
        add("attr_major")
    add("rule_score", rule_score)
    if rule_score >= 1.0:
        add("rule_opinion")
    if any(t.text in _QUOTES for t in words):
        add("has_quote")
    n = 0
    for t in words:
        if t.is_punct and t.text not in ("?", "!"):
            continue
        n += 1
        # Lemma bigrams were tried: on 830 training sentences they overfit (dev macro-F1 -0.02).
        add("w=" + ("<num>" if t.like_num else t.lemma_.lower()))
        add("tag=" + t.tag_)
        low = t.lower_
        if low in _FIRST_PERSON and voiced(t.i):
            add("p1")
        elif low in _SECOND_PERSON and voiced(t.i):
            add("p2")
        if low in _INTENSIFIERS:
            add("intens")
        if t.tag_ == "MD":
            add("md=" + low)
        if t.dep_ == "neg":
            add("neg")
        if t.ent_iob_ == "B":  # per token: walking doc.ents for every sentence is quadratic in long articles
            add("ent=" + t.ent_type_)
    last = words[-1].text
    if last == "?":
        add("question")
    elif last == "!":
        add("exclaim")
    if words[0].lower_ in _OPENERS:
        add("starts=" + words[0].lower_)
    add(f"len={min(n // 8, 5)}")
    return f


@dataclass(frozen=True)
class VoiceModel:
    intercept: float
    weights: dict[str, float]
    threshold: float  # probability at which a sentence is opinion
    meta: dict[str, Any]

    def probability(self, features: dict[str, float]) -> float:
        z = self.intercept + sum(v * self.weights.get(k, 0.0) for k, v in features.items())
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": "reportedly.voice/logistic",
            "intercept": self.intercept,
            "threshold": self.threshold,
            "weights": dict(sorted(self.weights.items())),
            "meta": self.meta,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> VoiceModel:
        return cls(
            intercept=float(data["intercept"]),
            weights={k: float(v) for k, v in data["weights"].items()},
            threshold=float(data["threshold"]),
            meta=dict(data.get("meta", {})),
        )


def write_model(model: VoiceModel, path: str) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(model.to_json(), fh, ensure_ascii=False, indent=0, sort_keys=False)
        fh.write("\n")


def read_model(text: str) -> VoiceModel:
    return VoiceModel.from_json(json.loads(text))


@lru_cache(maxsize=1)
def load_voice_model() -> VoiceModel:
    """The shipped model, read once per process."""
    return read_model(resources.files("reportedly.models").joinpath(ARTEFACT).read_text(encoding="utf-8"))
