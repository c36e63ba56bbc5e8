"""The scorer on hand-made gold/prediction pairs, brat round trips, and the eval command."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import FIXTURES
from reportedly.evaluation.brat import SpanSet, from_attribution, read_ann, write_ann
from reportedly.evaluation.polnear import DataError, load_split
from reportedly.evaluation.scoring import Counts, normalise, score_document, total
from reportedly.model import Article, Attribution, AttributionKind, Report, Span

TEXT = "Alice said the plan failed. Bob said nothing happened. Carol smiled."


def at(sub: str, nth: int = 0) -> tuple[tuple[int, int], ...]:
    start = -1
    for _ in range(nth + 1):
        start = TEXT.index(sub, start + 1)
    return ((start, start + len(sub)),)


GOLD = [
    SpanSet(at("Alice"), at("said"), at("the plan failed")),
    SpanSet(at("Bob"), at("said", 1), at("nothing happened")),
]
PRED = [
    SpanSet(at("Alice"), at("said"), at("plan failed")),  # content overlaps only
    SpanSet(at("Bob"), at("said", 1), at("nothing happened")),  # all exact
    SpanSet(at("Carol"), at("smiled"), None),  # a false alarm with no content
]


def figures(c: Counts) -> tuple[float, float, float]:
    return (round(c.precision, 4), round(c.recall, 4), round(c.f1, 4))


def test_exact_and_overlap_by_hand() -> None:
    s = score_document(TEXT, GOLD, PRED).counts
    assert figures(s[("source", "exact")]) == (0.6667, 1.0, 0.8)  # 2 of 3 predicted, 2 of 2 gold
    assert figures(s[("cue", "exact")]) == (0.6667, 1.0, 0.8)
    assert figures(s[("content", "exact")]) == (0.5, 0.5, 0.5)  # "plan failed" is not "the plan failed"
    assert figures(s[("content", "overlap")]) == (1.0, 1.0, 1.0)
    assert figures(s[("attribution", "exact")]) == (0.3333, 0.5, 0.4)  # only Bob's matches whole
    assert figures(s[("attribution", "overlap")]) == (0.6667, 1.0, 0.8)


def test_empty_prediction() -> None:
    s = score_document(TEXT, GOLD, []).counts
    for key, c in s.items():
        assert figures(c) == (0.0, 0.0, 0.0), key
        assert c.gold == (2 if key[0] else 0) and c.pred == 0


def test_empty_gold() -> None:
    s = score_document(TEXT, [], PRED).counts
    assert figures(s[("cue", "exact")]) == (0.0, 0.0, 0.0)
    assert s[("cue", "exact")].pred == 3 and s[("content", "exact")].pred == 2


def test_one_to_one_matching() -> None:
    gold = [SpanSet(None, at("said"), at("the plan failed"))]
    pred = [SpanSet(None, at("said"), at("the plan")), SpanSet(None, at("said"), at("plan failed"))]
    s = score_document(TEXT, gold, pred).counts
    assert figures(s[("content", "overlap")]) == (0.5, 1.0, 0.6667)
    assert figures(s[("attribution", "overlap")]) == (0.5, 1.0, 0.6667)  # missing sources on both sides match


def test_exact_ignores_edge_whitespace_and_whitespace_gaps() -> None:
    (start, end) = at("the plan failed")[0]
    assert normalise(((start - 1, end),), TEXT) == ((start, end),)
    split = ((start, start + 8), (start + 9, end))  # "the plan" + "failed" around a space
    assert normalise(split, TEXT) == ((start, end),)


def test_discontinuous_content() -> None:
    text = "“We will win,” he said, “and soon.”"
    a, b = text.index("“We"), text.index("“and")
    gold = [SpanSet(None, None, ((a, a + 14), (b, len(text))))]
    exact = score_document(text, gold, [SpanSet(None, None, ((b, len(text)), (a, a + 14)))]).counts
    assert figures(exact[("content", "exact")]) == (1.0, 1.0, 1.0)
    partial = score_document(text, gold, [SpanSet(None, None, ((a, a + 14),))]).counts
    assert figures(partial[("content", "exact")]) == (0.0, 0.0, 0.0)
    assert figures(partial[("content", "overlap")]) == (1.0, 1.0, 1.0)


def test_totals_add_up() -> None:
    t = total([score_document(TEXT, GOLD, PRED), score_document(TEXT, GOLD, [])])
    c = t[("source", "exact")]
    assert (c.gold, c.pred, c.matched) == (4, 3, 2)


ANN = """T1\tSource 0 5\tAlice
T2\tCue 6 10\tsaid
T3\tContent 11 19;20 26\tthe plan failed
T4\tAttribution 6 10\tsaid
E1\tAttribution:T4 Content:T3 Cue:T2 Source:T1
T5\tCue 32 36\tsaid
T6\tContent 37 53\tnothing happened
T7\tAttribution-no-source 32 36\tsaid
E2\tAttribution-no-source:T7 Cue:T5 Content:T6
T8\tDiscard 55 60\tCarol
"""


def test_brat_round_trip_through_our_types() -> None:
    gold = read_ann(ANN)
    assert gold == [
        SpanSet(((0, 5),), ((6, 10),), ((11, 19), (20, 26))),
        SpanSet(None, ((32, 36),), ((37, 53),)),
    ]

    def spans(r: tuple[tuple[int, int], ...] | None) -> list[Span]:
        return [Span(start=s, end=e, text=TEXT[s:e]) for s, e in r or ()]

    attributions = [
        Attribution(
            id=f"a{i}",
            kind=AttributionKind.indirect,
            source=(spans(g.source) or [None])[0],
            cue=spans(g.cue)[0],
            content=spans(g.content),
        )
        for i, g in enumerate(gold, start=1)
    ]
    report = Report(article=Article(id="x", text=TEXT), attributions=attributions)
    assert [from_attribution(a) for a in attributions] == [SpanSet(g.source, g.cue, g.content, label="") for g in gold]
    written = write_ann(report)
    assert read_ann(written) == gold
    assert "Attribution-no-source" in written


def test_polnear_reader_and_test_split_refusal() -> None:
    docs = load_split("dev", FIXTURES / "polnear_mini")
    assert [(d.name, d.annotator, d.publisher, len(d.attributions)) for d in docs] == [
        ("ledger_2016-09-01_bridge", "ab12", "ledger", 2)
    ]
    with pytest.raises(DataError, match="held back"):
        load_split("test", FIXTURES / "polnear_mini")


def test_eval_command_end_to_end(tmp_path: Path) -> None:
    out = tmp_path / "eval.json"
    cmd = [sys.executable, "-m", "reportedly", "eval", "polnear", "--split", "dev", "--data", str(FIXTURES / "polnear_mini")]
    proc = subprocess.run([*cmd, "--baseline", "textacy", "--out", str(out)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "PolNeAR dev" in proc.stdout and "textacy" in proc.stdout
    results = {r["system"]: r for r in json.loads(out.read_text(encoding="utf-8"))["results"]}
    ours = results["reportedly"]
    for role in ("source", "cue", "content", "attribution"):
        assert ours["overall"][role]["exact"]["f1"] == 1.0, role
    assert ours["per_publisher"]["ledger"]["cue"]["exact"]["gold"] == 2
    assert ours["words_per_s"] > 0
    # textacy only sees the direct quote: half the gold attributions
    assert results["textacy"]["overall"]["cue"]["overlap"]["recall"] == 0.5
    refused = subprocess.run([*cmd[:5], "--split", "test"], capture_output=True, text=True, timeout=300)
    assert refused.returncode == 2 and "held back" in refused.stderr and "Traceback" not in refused.stderr


def test_export_brat(tmp_path: Path) -> None:
    from reportedly.interfaces.cli import sample_path

    cmd = [sys.executable, "-m", "reportedly", "export", str(sample_path()), "--format", "brat", "--out", str(tmp_path)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    stem = sample_path().stem
    text = (tmp_path / f"{stem}.txt").read_text(encoding="utf-8")
    spans = read_ann((tmp_path / f"{stem}.ann").read_text(encoding="utf-8"))
    cues = [text[s:e] for sp in spans for s, e in sp.cue or ()]
    assert cues == ["according to", "believes", "From", "according to", "made clear", "said", "said"]
