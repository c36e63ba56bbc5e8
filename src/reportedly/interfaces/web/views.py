"""What the pages show, computed from a Report or corpus rows: the highlighted article, the side
panel's attribution list, and the SVG charts. Markup is built here (escaped with markupsafe)
rather than in templates because highlighting is a sweep over overlapping spans, which a
template language expresses badly; templates only place the results."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from markupsafe import Markup, escape

from reportedly.model import Attribution, Report, SourceKind, Voice

# Layer order is paint order: later layers win the background where spans overlap, so a cue
# inside quoted content still reads as a cue (the terminal view does the same).
LAYERS = ("opinion", "content", "hedge", "source", "cue")


def snippet(text: str, width: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def source_tag(report: Report, a: Attribution) -> tuple[str, str]:
    """(name, tag): anonymous groups read 'anonymous, count N: descriptor' as in the terminal view."""
    src = report.source(a.source_id)
    if src is None:
        return (a.source.text if a.source else "(no source in text)"), "unresolved"
    if src.kind == SourceKind.anonymous:
        count = f", count {src.count}" if src.count is not None else ""
        return src.name, f"anonymous{count}: {src.descriptor or src.name}"
    return src.name, src.kind.value


@dataclass
class AttributionItem:
    id: str
    name: str
    tag: str
    anonymous: bool
    kind: str
    certainty: str | None
    hedges: list[str]
    chain: str
    cue: str
    content: str
    depth: int
    who: str = ""


def attribution_items(report: Report) -> list[AttributionItem]:
    items = []
    for a in report.attributions:
        name, tag = source_tag(report, a)
        claim = report.claim_for(a)
        chain = report.chain(a)
        src = report.source(a.source_id)
        items.append(
            AttributionItem(
                id=a.id,
                name=name,
                tag=tag,
                anonymous=bool(src and src.anonymous),
                kind=a.kind.value,
                certainty=claim.certainty.value if claim else None,
                hedges=[h.cue.text for h in report.hedges if claim and h.id in claim.hedge_ids],
                chain=" ← ".join(chain),
                cue=a.cue.text,
                content=snippet(a.content_text),
                depth=len(chain) - 2,
                who=f"{name} ({tag})",
            )
        )
    return items


@dataclass
class _Layer:
    kind: str
    start: int
    end: int
    key: str  # attribution id for content/source/cue, hedge class for hedges, score for opinion


def _layers(report: Report) -> list[_Layer]:
    out: list[_Layer] = []
    for v in report.voice:
        if v.voice == Voice.opinion:
            out.append(_Layer("opinion", v.sentence.start, v.sentence.end, f"{v.score:.1f}"))
    for a in report.attributions:
        out += [_Layer("content", p.start, p.end, a.id) for p in a.content]
    out += [_Layer("hedge", h.cue.start, h.cue.end, h.kind.value) for h in report.hedges]
    for a in report.attributions:
        if a.source is not None:
            out.append(_Layer("source", a.source.start, a.source.end, a.id))
        out.append(_Layer("cue", a.cue.start, a.cue.end, a.id))
    return [layer for layer in out if layer.end > layer.start]


def highlighted_html(report: Report) -> Markup:
    """The article text as HTML, each stretch wrapped in a span whose classes name its layers.

    A content stretch carries the attribution it belongs to (the innermost one where contents
    nest) in ``data-att``, the speaker in ``data-who`` and a ``title`` saying who said it and
    through whom, so hovering shows it with or without the page's script.
    """
    text = report.article.text
    items = {i.id: i for i in attribution_items(report)}
    layers = _layers(report)
    bounds = sorted({0, len(text), *(x.start for x in layers), *(x.end for x in layers)})
    starts: dict[int, list[_Layer]] = {}
    for layer in layers:
        starts.setdefault(layer.start, []).append(layer)
    active: list[_Layer] = []
    parts: list[str] = []
    for lo, hi in pairwise(bounds):
        active = [x for x in active if x.end > lo] + starts.get(lo, [])
        piece = escape(text[lo:hi])
        if not active:
            parts.append(piece)
            continue
        keys: dict[str, list[str]] = {k: [] for k in LAYERS}
        for x in active:
            keys[x.kind].append(x.key)
        parts.append(_segment(piece, keys, items))
    return Markup("".join(parts))


def _segment(piece: str, keys: dict[str, list[str]], items: dict[str, AttributionItem]) -> str:
    classes = ["hl", *(k for k in LAYERS if keys[k])]
    attrs: dict[str, str] = {}
    title: list[str] = []
    if keys["content"]:
        # innermost relay: the attribution with the longest chain says the words
        inner = max((items[k] for k in keys["content"]), key=lambda i: i.depth)
        attrs["data-att"] = inner.id
        attrs["data-who"] = inner.name
        certainty = f" · {inner.certainty}" if inner.certainty else ""
        title.append(f"Said by {inner.who}\n{inner.chain}\n{inner.kind}{certainty}")
    for kind in ("source", "cue"):
        if keys[kind]:
            attrs["data-att"] = " ".join(dict.fromkeys(keys[kind]))
            first = items[keys[kind][0]]
            title.insert(0, f"{kind} of the attribution to {first.name}")
    if keys["hedge"]:
        worst = keys["hedge"][0]
        classes.append(f"h-{worst}")
        title.append(f"hedge: {worst}")
    if keys["opinion"]:
        title.append(f"opinion sentence (score {keys['opinion'][0]})")
    attrs["title"] = "\n".join(title)
    rendered = " ".join(f'{k}="{escape(v)}"' for k, v in attrs.items())
    return f'<span class="{" ".join(classes)}" {rendered}>{piece}</span>'


def hedge_items(report: Report) -> list[dict[str, str]]:
    return [
        {"cue": h.cue.text, "kind": h.kind.value, "scope": snippet(h.scope.text if h.scope else "", 120)} for h in report.hedges
    ]


def opinion_items(report: Report) -> list[dict[str, str]]:
    return [
        {"sentence": snippet(v.sentence.text, 160), "score": f"{v.score:.1f}"} for v in report.voice if v.voice == Voice.opinion
    ]


def summary(report: Report) -> dict[str, int]:
    return {
        "attributions": len(report.attributions),
        "sources": len(report.sources),
        "anonymous": sum(1 for s in report.sources if s.anonymous),
        "claims": len(report.claims),
        "hedged": sum(1 for c in report.claims if c.certainty.value != "certain"),
        "opinion": sum(1 for v in report.voice if v.voice == Voice.opinion),
        "words": len(report.article.text.split()),
    }


@dataclass
class EventItem:
    id: str
    actor: str
    action: str
    negated: bool
    target: str
    cameo: str
    certainty: str
    support: str
    group: int  # 1-based number of the event these mentions share, in order of first mention
    repeat_of: str = ""  # what the first mention said, for a later mention of the same event


def event_items(report: Report) -> list[EventItem]:
    """The events the terminal view lists (a CAMEO class or a target: bare states and unclassified
    verbs stay in the JSON only), each with the relay chain that supports it. Mentions of one event
    share a group number so that "made the suggestion" reads as the offer said again, not a new one."""
    outlet = report.article.meta.outlet or "this outlet"
    groups: dict[str, int] = {}
    items = []
    for e in report.events:
        if e.cameo is None and e.target is None:
            continue
        mentions = report.event_group(e)
        first = mentions[0]
        group = groups.setdefault(first.id, len(groups) + 1)
        a = report.attribution(e.attribution_id)
        repeat_of = ""
        if e.same_as is not None and first.id != e.id:
            repeat_of = " ".join(x for x in (first.actor_name, "not" if first.negated else "", first.predicate) if x)
        items.append(
            EventItem(
                id=e.id,
                actor=snippet(e.actor_name or "", 60),
                action=("not " if e.negated else "") + e.predicate,
                negated=e.negated,
                target=snippet(e.target_name or "", 60),
                cameo=f"{e.cameo} {e.cameo_label}" if e.cameo and e.cameo_label else e.cameo or "",
                certainty=e.outlet_certainty.value,
                support=" ← ".join(report.chain(a)) if a is not None else f"{outlet} itself",
                group=group,
                repeat_of=repeat_of,
            )
        )
    return items


def article_context(report: Report) -> dict[str, Any]:
    meta = report.article.meta
    first_line = report.article.text.split("\n", 1)[0]
    return {
        "report": report,
        "title": meta.title or snippet(first_line, 100),
        "highlighted": highlighted_html(report),
        "attributions": attribution_items(report),
        "hedges": hedge_items(report),
        "opinions": opinion_items(report),
        "summary": summary(report),
        "events": event_items(report),
    }


# -- charts ----------------------------------------------------------------------------------------
MEASURES = (
    ("anonymous_share", "anonymous sources", "#c2185b"),
    ("hedged_share", "hedged claims", "#e0a400"),
    ("opinion_share", "opinion sentences", "#7b5ea7"),
)
DENSITY_COLOUR = "#3b78b5"


def _text(x: float, y: float, s: str, anchor: str = "start", cls: str = "") -> str:
    c = f' class="{cls}"' if cls else ""
    return f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}"{c}>{escape(s)}</text>'


def _axis(value: float, steps: tuple[float, ...]) -> tuple[float, float]:
    """(top, step): the smallest step from ``steps`` giving at most five ticks, and the first
    tick at or above ``value``."""
    if value <= 0:
        return steps[-1] * 4, steps[-1]
    step = next((s for s in steps if value / s <= 5), steps[-1])
    return step * math.ceil(value / step - 1e-9), step


def _count_steps(value: float) -> tuple[float, ...]:
    magnitude = 10 ** math.floor(math.log10(value / 5)) if value > 0 else 1
    return tuple(m * magnitude for m in (1, 2, 2.5, 5, 10, 20))


def profile_chart(rows: Sequence[dict[str, Any]]) -> Markup:
    """Per outlet: three share bars (anonymous sources, hedged claims, opinion sentences) and the
    attribution density beside them, as one inline SVG (no script, no external library)."""
    label_w, share_w, gap, dens_w, bar_h = 190, 380, 48, 200, 12
    group_h = bar_h * len(MEASURES) + 16
    top_pad, legend_h = 44, 30
    width = label_w + share_w + gap + dens_w + 40
    height = top_pad + group_h * max(len(rows), 1) + legend_h + 24
    top_share = min(1.0, max((float(r[k]) for r in rows for k, _, _ in MEASURES), default=0.0) * 1.05)
    share_top, share_step = _axis(top_share, (0.025, 0.05, 0.1, 0.2, 0.25))
    top_dens = max((float(r["attributions_per_1000_words"]) for r in rows), default=0.0) * 1.05
    dens_top, dens_step = _axis(top_dens, _count_steps(top_dens))
    x0, d0 = label_w, label_w + share_w + gap
    out = [
        f'<svg id="profile-chart" class="chart" role="img" viewBox="0 0 {width} {height}" '
        'xmlns="http://www.w3.org/2000/svg" aria-label="Outlet sourcing profile">',
        _text(x0, 18, "share of attributions, claims and sentences", cls="axis-title"),
        _text(d0, 18, "attributions per 1,000 words", cls="axis-title"),
    ]
    plot_bottom = top_pad + group_h * max(len(rows), 1)
    for k in range(round(share_top / share_step) + 1):
        x = x0 + share_w * k * share_step / share_top
        out.append(f'<line class="grid" x1="{x:.1f}" y1="{top_pad - 8}" x2="{x:.1f}" y2="{plot_bottom}"/>')
        out.append(_text(x, top_pad - 12, f"{round(k * share_step * 100, 1):g}%", "middle", "tick"))
    for k in range(round(dens_top / dens_step) + 1):
        xd = d0 + dens_w * k * dens_step / dens_top
        out.append(f'<line class="grid" x1="{xd:.1f}" y1="{top_pad - 8}" x2="{xd:.1f}" y2="{plot_bottom}"/>')
        out.append(_text(xd, top_pad - 12, f"{round(k * dens_step, 6):g}", "middle", "tick"))
    for i, r in enumerate(rows):
        y = top_pad + i * group_h + 8
        outlet = str(r["outlet"])
        out.append(_text(label_w - 10, y + bar_h * 1.5 + 4, snippet(outlet, 26), "end", "label"))
        for k, (key, label, colour) in enumerate(MEASURES):
            value = float(r[key])
            w = share_w * min(value / share_top, 1.0)
            out.append(
                f'<rect class="bar" data-outlet="{escape(outlet)}" data-measure="{key}" x="{x0}" y="{y + k * bar_h:.1f}" '
                f'width="{w:.1f}" height="{bar_h - 2}" fill="{colour}"><title>{escape(outlet)}: {escape(label)} '
                f"{value:.1%}</title></rect>"
            )
            out.append(_text(x0 + w + 4, y + k * bar_h + bar_h - 3, f"{value:.0%}", cls="value"))
        dens = float(r["attributions_per_1000_words"])
        w = dens_w * min(dens / dens_top, 1.0)
        out.append(
            f'<rect class="bar" data-outlet="{escape(outlet)}" data-measure="attributions_per_1000_words" x="{d0}" '
            f'y="{y + bar_h:.1f}" width="{w:.1f}" height="{bar_h - 2}" fill="{DENSITY_COLOUR}"><title>{escape(outlet)}: '
            f"{dens:.1f} attributions per 1,000 words ({int(r['articles'])} articles)</title></rect>"
        )
        out.append(_text(d0 + w + 4, y + 2 * bar_h - 3, f"{dens:.1f}", cls="value"))
    if not rows:
        out.append(_text(x0, top_pad + 20, "no articles yet", cls="label"))
    ly = plot_bottom + 22
    lx = float(x0)
    for _, label, colour in MEASURES:
        out.append(f'<rect x="{lx:.1f}" y="{ly - 10}" width="12" height="12" fill="{colour}"/>')
        out.append(_text(lx + 17, ly, label, cls="legend"))
        lx += 40 + 7.2 * len(label)
    out.append("</svg>")
    return Markup("".join(out))


def timeline_chart(points: Sequence[dict[str, Any]]) -> Markup:
    """Claims about an entity per day: all claims, with the hedged ones (below certain) in front."""
    if not points:
        return Markup('<p class="muted">No dated claims.</p>')
    bar_w = max(14, min(72, 560 // len(points)))
    plot_h, left, bottom = 160, 36, 64
    width = left + bar_w * len(points) + 20
    height = plot_h + bottom + 16
    top = max(int(p["claims"]) for p in points)
    out = [
        f'<svg id="timeline-chart" class="chart" role="img" viewBox="0 0 {width} {height}" '
        'xmlns="http://www.w3.org/2000/svg" aria-label="Claims over time">'
    ]
    base = plot_h + 10
    out.append(f'<line class="axis" x1="{left}" y1="{base}" x2="{width - 10}" y2="{base}"/>')
    out.append(_text(left - 6, 16, str(top), "end", "tick"))
    out.append(_text(left - 6, base, "0", "end", "tick"))
    for i, p in enumerate(points):
        x = left + i * bar_w + 2
        n, hedged = int(p["claims"]), int(p["hedged"] or 0)
        h = plot_h * n / top
        hh = plot_h * hedged / top
        date = escape(str(p["date"]))
        out.append(
            f'<rect class="bar" data-date="{date}" x="{x}" y="{base - h:.1f}" width="{bar_w - 4}" height="{h:.1f}" '
            f'fill="{DENSITY_COLOUR}"><title>{date}: {n} claims, {hedged} hedged</title></rect>'
        )
        if hh:
            out.append(f'<rect x="{x}" y="{base - hh:.1f}" width="{bar_w - 4}" height="{hh:.1f}" fill="{MEASURES[1][2]}"/>')
        cx = x + (bar_w - 4) / 2
        out.append(
            f'<text class="tick" x="{cx:.1f}" y="{base + 12}" text-anchor="end" '
            f'transform="rotate(-45 {cx:.1f} {base + 12})">{date}</text>'
        )
    out.append("</svg>")
    return Markup("".join(out))
