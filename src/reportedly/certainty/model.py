"""Learned event factuality: how firmly the text presents one predicate, on the -3..+3 scale.

The hedge rules (``hedges.py``) give each claim a class; this model gives the event a number,
learned from the UW and MEANTIME factuality corpora (``scripts/train_factuality.py``). Features
come from the one spaCy parse: the word and its tag, auxiliaries and modals, negation (also on a
negative subject: "No one held her back"), hedge cues, clause marks ("if", "whether"), and the
same for each governing word up the tree with the kind of embedding predicate (speech, belief,
intent, future-oriented, negative such as "refuse" or "cancel"), a question, a quotation.

The model is linear, so scoring a claim costs a few dictionary look-ups: the throughput target of
the whole analysis (>= 0.8x bare spaCy) leaves no room for a per-sentence neural encoder. The two
corpora grade differently (MEANTIME calls modal "can fly" unknown, UW calls it likely), so the
weights are trained with feature augmentation (Daumé III, 2007): a shared weight per feature plus
a per-corpus correction, and a per-corpus isotonic calibration. Reports use the UW scale
(graded, news-wire).

The artefact is plain JSON (gzip), loaded once on first use; no scikit-learn at run time.
"""

from __future__ import annotations

import gzip
import json
from bisect import bisect_right
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from spacy.tokens import Token

from reportedly import lexicons
from reportedly.pipeline import doccache as dc

ARTEFACT = "factuality.json.gz"
DEFAULT_DOMAIN = "uw"

_MODALS = {"will", "would", "may", "might", "could", "can", "should", "must", "shall", "'ll", "wo", "ca"}
_NEGATIVE_WORDS = {"not", "n't", "never", "no", "nothing", "none", "neither", "nor", "without"}
_NEGATIVE_ARGS = {"nobody", "nothing", "none", "neither", "no"}
# Predicate classes let ten thousand training events generalise beyond the verbs they contain.
_NEGATIVE_PREDICATES = {
    "refuse", "fail", "deny", "decline", "avoid", "prevent", "stop", "cancel", "reject", "block", "ban", "forbid",
    "halt", "suspend", "against", "without", "instead", "lack", "miss", "neglect", "abandon", "rule", "postpone",
    "delay", "drop", "scrap", "veto",
}  # fmt: skip
_FUTURE_PREDICATES = {
    "want", "plan", "hope", "expect", "intend", "seek", "try", "aim", "propose", "offer", "agree", "promise",
    "threaten", "ask", "urge", "order", "call", "need", "prepare", "schedule", "set", "decide", "vote", "consider",
    "push", "demand", "allow", "require", "wish", "like", "attempt", "plot", "vow", "pledge", "due", "able",
    "likely", "willing", "ready", "go", "permit", "help", "encourage", "force",
}  # fmt: skip
_FACTIVE_PREDICATES = {
    "know", "learn", "realize", "discover", "regret", "find", "show", "reveal", "admit", "acknowledge", "confirm",
    "prove", "see", "note",
}  # fmt: skip
_ANCESTORS = 4


@lru_cache(maxsize=1)
def _hedge_words() -> dict[str, str]:
    return {k[0]: v for k, v in lexicons.load().hedges.items() if len(k) == 1}


@lru_cache(maxsize=1)
def _cue_kinds() -> dict[str, str]:
    return {lemma: kinds[0][0] for lemma, kinds in lexicons.load().cues.items()}


def _classes(lemma: str) -> list[str]:
    out = []
    if lemma in _NEGATIVE_PREDICATES:
        out.append("negpred")
    if lemma in _FUTURE_PREDICATES:
        out.append("futpred")
    if lemma in _FACTIVE_PREDICATES:
        out.append("factpred")
    kind = _cue_kinds().get(lemma)
    if kind is not None:
        out.append("cue_" + kind)
    return out


def _negative_argument(tok: Token) -> list[str]:
    for c in tok.children:
        if c.dep_ in ("nsubj", "nsubjpass", "dobj", "attr") and (
            c.lower_ in _NEGATIVE_ARGS or any(g.lower_ == "no" and g.dep_ in ("det", "neg") for g in c.children)
        ):
            return [c.dep_ + "_neg"]
    return []


def _local(tok: Token, prefix: str) -> list[str]:
    """What sits on the word itself: auxiliaries, negation, clause mark, hedging adverbs."""
    hedges = _hedge_words()
    f: list[str] = []
    for c in tok.children:
        low = c.lower_
        dep = c.dep_
        if dep == "neg" or low == "never":
            f.append(prefix + "neg")
        if dep in ("aux", "auxpass"):
            if c.tag_ == "MD" or low in _MODALS:
                f.append(prefix + "md=" + c.lemma_.lower())
            elif c.tag_ == "TO":
                f.append(prefix + "to")
            else:
                f.append(prefix + "aux=" + c.lemma_.lower())
        elif dep == "mark":
            f.append(prefix + "mark=" + low)
        elif dep == "advmod" and (low in hedges or low in _NEGATIVE_WORDS):
            f.append(prefix + "adv=" + low)
        elif dep == "det" and low in ("no", "any"):
            f.append(prefix + "det=" + low)
        if dep in ("amod", "advmod", "compound") and c.lemma_.lower() in _NEGATIVE_PREDICATES:
            f.append(prefix + "mod_negpred")  # "the now-cancelled deal"
        if low in hedges and dep not in ("aux", "auxpass"):
            f.append(prefix + "hedge=" + hedges[low])
    return f


def event_features(tok: Token) -> list[str]:
    """Binary features of the event word ``tok`` in its parse (names only; all values are 1)."""
    lemma = tok.lemma_.lower()
    f = ["lemma=" + lemma, "tag=" + tok.tag_, "pos=" + tok.pos_, "dep=" + tok.dep_, "tag_dep=" + tok.tag_ + "|" + tok.dep_]
    f += ["cls=" + c for c in _classes(lemma)]
    f += _negative_argument(tok)
    f += _local(tok, "")
    # A conjunct shares its first conjunct's auxiliaries and embedding ("did not hurry or [wait]").
    top = tok
    for _ in range(16):
        if top.dep_ != "conj" or top.head.i == top.i:
            break
        top = top.head
        f += _local(top, "cj:")
        f += ["cj:" + x for x in _negative_argument(top)]
    cur = top
    for k in range(1, _ANCESTORS + 1):
        if cur.head.i == cur.i:
            f.append(f"a{k}:root")
            break
        head, dep = cur.head, cur.dep_
        head_lemma = head.lemma_.lower()
        f += [
            f"a{k}:dep={dep}",
            f"a{k}:dep_lemma={dep}|{head_lemma}",
            f"a{k}:dep_tag={dep}|{head.tag_}",
            "anc:lemma=" + head_lemma,
        ]
        if k == 1:
            f.append(f"a1:dep_lemma_tag={dep}|{head_lemma}|{tok.tag_}")
        for c in _classes(head_lemma):
            f += [f"a{k}:cls={c}|{dep}", "anc:cls=" + c]
        f += ["anc:" + x for x in _negative_argument(head)]
        local = _local(head, "anc:")
        f += local
        if k == 1:
            f += ["a1:" + x[4:] for x in local]
        cur = head
    sent = tok.sent
    if any(t.text == "?" for t in sent[-2:]):
        f.append("question")
    before = dc.tokens(tok.doc)[sent.start : tok.i]
    opened = sum(1 for t in before if t.text in ("``", "“"))
    closed = sum(1 for t in before if t.text in ("''", "”"))
    if opened > closed:
        f.append("in_quote")
    root = sent.root.i
    f.append("rel_pos=" + ("root" if tok.i == root else "before_root" if tok.i < root else "after_root"))
    return f


@dataclass(frozen=True)
class FactualityModel:
    """Linear weights (shared + per-corpus correction) and a per-corpus isotonic calibration."""

    intercept: float
    weights: dict[str, tuple[float, ...]]  # feature -> (shared, domain 1, domain 2, ...)
    domains: tuple[str, ...]
    domain_scale: float  # value of the per-corpus copy of each feature (relative regularisation)
    calibration: dict[str, tuple[tuple[float, ...], tuple[float, ...]]]  # domain -> (x thresholds, y values)
    meta: dict[str, Any]

    def raw(self, features: list[str], domain: str = DEFAULT_DOMAIN) -> float:
        d = self.domains.index(domain) + 1
        total = self.intercept
        for name in features:
            w = self.weights.get(name)
            if w is not None:
                total += w[0] + self.domain_scale * w[d]
        return max(-3.0, min(3.0, total))

    def predict_features(self, features: list[str], domain: str = DEFAULT_DOMAIN) -> float:
        return _interpolate(self.raw(features, domain), *self.calibration[domain])

    def predict(self, tok: Token, domain: str = DEFAULT_DOMAIN) -> float:
        """Factuality of the event word ``tok``: -3 (did not happen) .. 0 (unknown) .. +3 (happened)."""
        return self.predict_features(event_features(tok), domain)

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": "reportedly.factuality/linear-augmented",
            "intercept": self.intercept,
            "domains": list(self.domains),
            "domain_scale": self.domain_scale,
            "weights": {k: list(v) for k, v in sorted(self.weights.items())},
            "calibration": {d: {"x": list(x), "y": list(y)} for d, (x, y) in self.calibration.items()},
            "meta": self.meta,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FactualityModel:
        return cls(
            intercept=float(data["intercept"]),
            weights={k: tuple(float(x) for x in v) for k, v in data["weights"].items()},
            domains=tuple(data["domains"]),
            domain_scale=float(data["domain_scale"]),
            calibration={d: (tuple(c["x"]), tuple(c["y"])) for d, c in data["calibration"].items()},
            meta=dict(data.get("meta", {})),
        )


def _interpolate(x: float, xs: tuple[float, ...], ys: tuple[float, ...]) -> float:
    """Piecewise-linear, flat outside the thresholds: what sklearn's IsotonicRegression.predict does."""
    if not xs:
        return x
    if x <= xs[0]:
        return ys[0]
    if x >= xs[-1]:
        return ys[-1]
    j = bisect_right(xs, x)
    x0, x1, y0, y1 = xs[j - 1], xs[j], ys[j - 1], ys[j]
    return y0 if x1 == x0 else y0 + (y1 - y0) * (x - x0) / (x1 - x0)


def write_model(model: FactualityModel, path: str) -> None:
    raw = json.dumps(model.to_json(), ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    with open(path, "wb") as fh:
        # mtime=0: the same model gives the same bytes, so a retrain shows up in git only if it changed
        fh.write(gzip.compress(raw, compresslevel=9, mtime=0))


def read_model(data: bytes) -> FactualityModel:
    return FactualityModel.from_json(json.loads(gzip.decompress(data).decode("utf-8")))


@lru_cache(maxsize=1)
def load_factuality_model() -> FactualityModel:
    """The shipped model, read once per process."""
    return read_model(resources.files("reportedly.models").joinpath(ARTEFACT).read_bytes())
