"""Event classes scored on the CAMEO gold sentences of the PETRARCH coders.

Each gold sentence carries its events as (source, target, event code); we score the top-level
class (the code's first two digits) per sentence as multisets: a predicted class counts as a hit
as often as the gold sentence has it. Actors are not scored: the gold codes them with country and
agent codes ("USA", "GUYJUD") from PETRARCH's actor dictionaries, which reportedly does not use.

Sets: ``gsr`` is 78 real news sentences (universal_petrarch/PETR2_GSR_validation.xml, those marked
evaluate="true"); ``unit`` is the 284 PETRARCH unit-test records, many about fictional countries.
"""

from __future__ import annotations

import html
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reportedly.errors import ReportedlyError

SETS = {
    "gsr": "universal_petrarch/PETR2_GSR_validation.xml",
    "unit": "petrarch2/PETR.UnitTest.records.xml",
}
_SENTENCE = re.compile(r"<Sentence\b([^>]*)>(.*?)(?=<Sentence\b|</Sentences>|\Z)", re.S)
_CODE = re.compile(r'<EventCoding[^>]*eventcode="(\d+)"')
_TEXT = re.compile(r"<Text>(.*?)</Text>", re.S)


@dataclass
class GoldSentence:
    id: str
    text: str
    classes: list[str]


def default_dir() -> Path | None:
    for c in (Path.cwd().parent / "shared/data/cameo", Path(__file__).resolve().parents[4] / "shared/data/cameo"):
        if c.is_dir():
            return c
    return None


def load(which: str, data: Path | None = None) -> list[GoldSentence]:
    root = data or default_dir()
    if which not in SETS:
        raise ReportedlyError(f"unknown CAMEO set {which!r}: use one of {', '.join(SETS)}")
    if root is None or not (root / SETS[which]).exists():
        raise ReportedlyError(f"CAMEO gold file not found ({root or '../shared/data/cameo'}/{SETS[which]}); pass --data DIR")
    raw = (root / SETS[which]).read_text(encoding="utf-8", errors="replace")
    out: list[GoldSentence] = []
    for attrs, body in _SENTENCE.findall(raw):
        if which == "gsr" and 'evaluate="true"' not in attrs:
            continue
        text = _TEXT.search(body)
        if text is None:
            continue
        sid = re.search(r'id="([^"]+)"', attrs)
        out.append(
            GoldSentence(
                id=sid.group(1) if sid else str(len(out)),
                text=" ".join(html.unescape(text.group(1)).split()),
                classes=[c[:2] for c in _CODE.findall(body)],
            )
        )
    return out


def score(gold: list[list[str]], pred: list[list[str]]) -> dict[str, Any]:
    per: dict[str, Counter[str]] = {}
    total: Counter[str] = Counter()
    for g, p in zip(gold, pred, strict=True):
        gc, pc = Counter(g), Counter(p)
        for cls in set(gc) | set(pc):
            tp = min(gc[cls], pc[cls])
            c = per.setdefault(cls, Counter())
            c["tp"] += tp
            c["fp"] += pc[cls] - tp
            c["fn"] += gc[cls] - tp
            total.update({"tp": tp, "fp": pc[cls] - tp, "fn": gc[cls] - tp})

    def prf(c: Counter[str]) -> dict[str, float | int]:
        p = c["tp"] / (c["tp"] + c["fp"]) if c["tp"] + c["fp"] else 0.0
        r = c["tp"] / (c["tp"] + c["fn"]) if c["tp"] + c["fn"] else 0.0
        f = 2 * p * r / (p + r) if p + r else 0.0
        return {
            "precision": round(p, 3),
            "recall": round(r, 3),
            "f1": round(f, 3),
            "gold": c["tp"] + c["fn"],
            "pred": c["tp"] + c["fp"],
        }

    return {"overall": prf(total), "per_class": {k: prf(v) for k, v in sorted(per.items())}}


def evaluate(which: str, data: Path | None = None) -> dict[str, Any]:
    from reportedly import get_analyzer
    from reportedly.ingest import paragraph_spans
    from reportedly.model import Article

    sentences = load(which, data)
    analyzer = get_analyzer()
    articles = (Article(id=s.id, text=s.text, paragraphs=paragraph_spans(s.text)) for s in sentences)
    pred = [[e.cameo for e in r.events if e.cameo] for r in analyzer.analyze_many(articles)]
    result = score([s.classes for s in sentences], pred)
    result.update(set=which, sentences=len(sentences), gold_events=sum(len(s.classes) for s in sentences))
    return result
