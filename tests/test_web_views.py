"""What the pages are built from: the highlighted article and the charts, on the real sample report."""

from __future__ import annotations

import html
import re

from reportedly.interfaces.web.views import attribution_items, highlighted_html, profile_chart, timeline_chart
from reportedly.model import Report

TAG = re.compile(r"<[^>]+>")
SPAN = re.compile(r'<span class="([^"]+)"([^>]*)>([^<]*)</span>')


def test_highlighting_keeps_the_text_and_marks_every_span(sample_report: Report) -> None:
    markup = str(highlighted_html(sample_report))
    assert html.unescape(TAG.sub("", markup)) == sample_report.article.text  # nothing lost, nothing added
    spans = [(set(cls.split()), attrs, html.unescape(text)) for cls, attrs, text in SPAN.findall(markup)]
    for a in sample_report.attributions:
        cue = "".join(t for cls, attrs, t in spans if "cue" in cls and f'data-att="{a.id}' in attrs)
        assert cue == a.cue.text
    for h in sample_report.hedges:
        assert any("hedge" in cls and h.cue.text in t for cls, _, t in spans)
    opinion = "".join(t for cls, _, t in spans if "opinion" in cls)
    assert "Which is a bad thing." in opinion and "Trump refused the offer." not in opinion


def test_nested_content_is_credited_to_the_innermost_speaker(sample_report: Report) -> None:
    markup = str(highlighted_html(sample_report))
    (made_clear,) = [a for a in sample_report.attributions if a.cue.text == "made clear"]
    piece = made_clear.content[0].text[:40]
    credited = [attrs for cls, attrs, t in SPAN.findall(markup) if "content" in cls and html.unescape(t).startswith(piece[:20])]
    assert credited and all('data-who="Trump"' in attrs for attrs in credited)
    assert "The Washington Post ← people close to the White House ← Trump" in html.unescape(credited[0])


def test_side_panel_items(sample_report: Report) -> None:
    items = {(i.name, i.cue): i for i in attribution_items(sample_report)}
    abc = items[("ABC News", "according to")]
    assert (abc.tag, abc.kind, abc.certainty, abc.hedges, abc.chain) == (
        "outlet",
        "according-to",
        "probable",
        ["apparently"],
        "Slate ← ABC News",
    )
    pair = items[("people close to the White House", "according to")]
    assert pair.anonymous and pair.tag == "anonymous, count 2: people close to the White House" and pair.depth == 1


def test_charts() -> None:
    rows = [
        {
            "outlet": "A & B",
            "articles": 2,
            "attributions_per_1000_words": 12.5,
            "anonymous_share": 0.5,
            "hedged_share": 0.0,
            "opinion_share": 0.25,
        },
        {
            "outlet": "C",
            "articles": 1,
            "attributions_per_1000_words": 40.0,
            "anonymous_share": 0.1,
            "hedged_share": 0.3,
            "opinion_share": 0.0,
        },
    ]
    svg = str(profile_chart(rows))
    assert svg.count('class="bar"') == 8 and 'data-outlet="A &amp; B"' in svg
    widths = {
        (o, m): float(w)
        for o, m, w in re.findall(r'data-outlet="([^"]+)" data-measure="(\w+)" x="[^"]+" y="[^"]+" width="([^"]+)"', svg)
    }
    assert widths[("C", "attributions_per_1000_words")] > widths[("A &amp; B", "attributions_per_1000_words")] > 0
    assert widths[("A &amp; B", "hedged_share")] == 0 < widths[("A &amp; B", "anonymous_share")]
    assert "no articles yet" in str(profile_chart([]))
    assert str(timeline_chart([{"date": "2017-06-06", "claims": 3, "hedged": 1}])).count('class="bar"') == 1
    assert "No dated claims" in str(timeline_chart([]))
