"""Run a system over a PolNeAR split and score it (``reportedly eval polnear``)."""

from __future__ import annotations

import hashlib
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from reportedly.evaluation.brat import ROLES, Ranges, SpanSet, from_attribution
from reportedly.evaluation.polnear import GoldDoc
from reportedly.evaluation.scoring import MODES, Counts, DocScore, score_document, total
from reportedly.ingest import paragraph_spans
from reportedly.model import Article, ArticleMeta

if TYPE_CHECKING:
    from reportedly.pipeline.analyzer import Analyzer

Predictor = Callable[[list[str]], Iterator[list[SpanSet]]]
SYSTEMS = ("reportedly", "textacy")


def reportedly_predictor(*, outermost_only: bool = True, model: str = "fast", analyzer: Analyzer | None = None) -> Predictor:
    """Our analyser. PolNeAR annotates only the outermost attribution ("no nested attributions"),
    so by default only attributions with no parent are scored; nested ones stay in reports."""
    from reportedly import get_analyzer

    analyzer = analyzer or get_analyzer(model)

    def predict(texts: list[str]) -> Iterator[list[SpanSet]]:
        # Offsets must stay those of the gold files: build the Article from the raw text.
        articles = (
            Article(id=hashlib.sha256(t.encode()).hexdigest()[:16], text=t, meta=ArticleMeta(), paragraphs=paragraph_spans(t))
            for t in texts
        )
        for report in analyzer.analyze_many(articles):
            yield [from_attribution(a) for a in report.attributions if not (outermost_only and a.parent_id)]

    return predict


def textacy_predictor() -> Predictor:
    """textacy's ``direct_quotations`` on the same spaCy pipeline: the baseline."""
    try:
        from textacy.extract.triples import direct_quotations
    except ImportError as exc:  # an optional extra: say how to get it
        from reportedly.errors import ReportedlyError

        raise ReportedlyError("the textacy baseline needs textacy: pip install 'reportedly[eval]'") from exc
    from reportedly.pipeline.nlp import load_bare

    nlp = load_bare()

    def rng(tokens: list[Any]) -> Ranges | None:
        if not tokens:
            return None
        return ((min(t.idx for t in tokens), max(t.idx + len(t.text) for t in tokens)),)

    def predict(texts: list[str]) -> Iterator[list[SpanSet]]:
        for doc in nlp.pipe(texts, batch_size=32):
            out: list[SpanSet] = []
            try:
                triples = list(direct_quotations(doc))
            except ValueError:  # textacy refuses a text with an odd number of quote marks
                triples = []
            for dq in triples:
                content = dq.content
                out.append(
                    SpanSet(rng(list(dq.speaker)), rng(list(dq.cue)), ((content.start_char, content.end_char),), label="textacy")
                )
            yield out

    return predict


def _snippet(text: str, ranges: Ranges | None, width: int = 90) -> str:
    if not ranges:
        return ""
    s = " … ".join(" ".join(text[a:b].split()) for a, b in ranges)
    return s if len(s) <= width else s[: width - 1] + "…"


def evaluate(
    docs: list[GoldDoc],
    system: str,
    *,
    progress: Callable[[int], None] | None = None,
    model: str = "fast",
    analyzer: Analyzer | None = None,
) -> dict[str, Any]:
    """Score ``system`` on ``docs``; ``analyzer`` (default: the shared one for ``model``) lets a
    training script score a model it has just written."""
    predictor = reportedly_predictor(model=model, analyzer=analyzer) if system == "reportedly" else textacy_predictor()
    texts: list[str] = []
    index: dict[str, int] = {}
    for d in docs:
        if d.name not in index:
            index[d.name] = len(texts)
            texts.append(d.text)
    started = time.perf_counter()
    predictions: list[list[SpanSet]] = []
    for pred in predictor(texts):
        predictions.append(pred)
        if progress is not None:
            progress(1)
    seconds = time.perf_counter() - started
    words = sum(len(t.split()) for t in texts)

    per_doc: list[tuple[GoldDoc, DocScore, list[SpanSet]]] = []
    for d in docs:
        pred = predictions[index[d.name]]
        per_doc.append((d, score_document(d.text, d.attributions, pred), pred))

    by_pub: dict[str, list[DocScore]] = defaultdict(list)
    for d, s, _ in per_doc:
        by_pub[d.publisher].append(s)

    def table(counts: dict[tuple[str, str], Counts]) -> dict[str, dict[str, dict[str, float | int]]]:
        return {role: {mode: counts[(role, mode)].as_dict() for mode in MODES} for role in (*ROLES, "attribution")}

    miss_cues: Counter[str] = Counter()
    alarm_cues: Counter[str] = Counter()
    alarm_rules: Counter[str] = Counter()
    miss_examples: dict[str, list[dict[str, str]]] = defaultdict(list)
    alarm_examples: dict[str, list[dict[str, str]]] = defaultdict(list)
    for d, s, pred in per_doc:
        for i in s.missed:
            g = d.attributions[i]
            key = _snippet(d.text, g.cue, 30).lower() or "(no cue)"
            miss_cues[key] += 1
            if len(miss_examples[key]) < 3:
                miss_examples[key].append(
                    {"doc": d.name, "source": _snippet(d.text, g.source, 40), "content": _snippet(d.text, g.content)}
                )
        for j in s.false_alarms:
            p = pred[j]
            key = _snippet(d.text, p.cue, 30).lower() or "(no cue)"
            alarm_cues[key] += 1
            alarm_rules[p.label or "?"] += 1
            if len(alarm_examples[key]) < 3:
                alarm_examples[key].append(
                    {
                        "doc": d.name,
                        "rule": p.label,
                        "source": _snippet(d.text, p.source, 40),
                        "content": _snippet(d.text, p.content),
                    }
                )
    return {
        "system": system,
        "model": model if system == "reportedly" else None,
        "documents": len(docs),
        "articles": len(texts),
        "words": words,
        "seconds": round(seconds, 2),
        "words_per_s": round(words / seconds, 1) if seconds else None,
        "overall": table(total(s for _, s, _ in per_doc)),
        "per_publisher": {pub: table(total(ss)) for pub, ss in sorted(by_pub.items())},
        "errors": {
            "misses_by_cue": [{"cue": k, "count": n, "examples": miss_examples[k]} for k, n in miss_cues.most_common(15)],
            "false_alarms_by_cue": [{"cue": k, "count": n, "examples": alarm_examples[k]} for k, n in alarm_cues.most_common(15)],
            "false_alarms_by_rule": dict(alarm_rules.most_common()),
        },
    }
