"""Terminal rendering of a Report: the article with Sources, Cues, Contents, hedges and opinion
sentences highlighted, then the attributions as relay trees, hedges and voice."""

from __future__ import annotations

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from reportedly.model import Attribution, Certainty, Report, Source, SourceKind, Voice

STYLES = {
    "opinion": "italic on grey19",
    "content": "green",
    "hedge": "bold yellow underline",
    "source": "bold cyan",
    "cue": "bold magenta",
}
_CERTAINTY_STYLE = {
    Certainty.certain: "green",
    Certainty.probable: "yellow",
    Certainty.possible: "dark_orange",
    Certainty.unknown: "red",
    Certainty.negated: "bright_red",
}


def highlighted_text(report: Report) -> Text:
    text = Text(report.article.text)
    # Later layers win where they overlap: a cue inside a content reads as a cue.
    for v in report.voice:
        if v.voice == Voice.opinion:
            text.stylize(STYLES["opinion"], v.sentence.start, v.sentence.end)
    for a in report.attributions:
        for p in a.content:
            text.stylize(STYLES["content"], p.start, p.end)
    for h in report.hedges:
        text.stylize(STYLES["hedge"], h.cue.start, h.cue.end)
    for a in report.attributions:
        if a.source is not None:
            text.stylize(STYLES["source"], a.source.start, a.source.end)
        text.stylize(STYLES["cue"], a.cue.start, a.cue.end)
    return text


def legend() -> Text:
    t = Text("legend: ")
    for name in ("source", "cue", "content", "hedge", "opinion"):
        t.append(f" {name} ", style=STYLES[name])
        t.append(" ")
    return t


def describe_source(src: Source | None, fallback: str) -> Text:
    if src is None:
        return Text(fallback or "(no source in text)", style="dim")
    t = Text(src.name, style="bold cyan")
    if src.kind == SourceKind.anonymous:
        count = f", count {src.count}" if src.count is not None else ""
        t.append(f"  [anonymous{count}: {src.descriptor}]", style="cyan")
    else:
        t.append(f"  [{src.kind.value}]", style="cyan")
    return t


def _snippet(s: str, width: int = 110) -> str:
    s = " ".join(s.split())
    return s if len(s) <= width else s[: width - 1] + "…"


def _node_label(report: Report, a: Attribution) -> Text:
    src = report.source(a.source_id)
    label = describe_source(src, a.source.text if a.source else "")
    label.append("  —", style="dim")
    label.append(a.cue.text, style=STYLES["cue"])
    label.append("→  ", style="dim")
    label.append(f"“{_snippet(a.content_text)}”", style="green")
    claim = report.claim_for(a)
    label.append(f"  ({a.kind.value}", style="dim")
    if claim is not None:
        label.append(", ", style="dim")
        label.append(claim.certainty.value, style=_CERTAINTY_STYLE[claim.certainty])
        hedges = [h.cue.text for h in report.hedges if h.id in claim.hedge_ids]
        if hedges:
            label.append(" via " + ", ".join(hedges), style="yellow")
    label.append(")", style="dim")
    return label


def attribution_tree(report: Report) -> Tree:
    root = Tree(Text(f"{report.article.meta.outlet or 'this outlet'} (publisher)", style="bold"))
    children: dict[str | None, list[Attribution]] = {}
    for a in report.attributions:
        children.setdefault(a.parent_id, []).append(a)

    def add(node: Tree, parent: str | None) -> None:
        for a in children.get(parent, []):
            add(node.add(_node_label(report, a)), a.id)

    add(root, None)
    if not report.attributions:
        root.add(Text("no attributions: every claim is the outlet's own", style="dim"))
    return root


def hedge_table(report: Report) -> Table:
    table = Table(title="Hedges and negation", title_justify="left", show_edge=False)
    table.add_column("cue", style="yellow")
    table.add_column("class")
    table.add_column("scope", overflow="fold")
    for h in report.hedges:
        table.add_row(
            h.cue.text, Text(h.kind.value, style=_CERTAINTY_STYLE[h.kind]), _snippet(h.scope.text if h.scope else "", 90)
        )
    return table


def voice_table(report: Report) -> Table:
    table = Table(title="Opinion sentences (the outlet's own voice)", title_justify="left", show_edge=False)
    table.add_column("score", justify="right")
    table.add_column("sentence", overflow="fold")
    for v in report.voice:
        if v.voice == Voice.opinion:
            table.add_row(f"{v.score:.1f}", _snippet(v.sentence.text, 110))
    return table


def events_table(report: Report) -> Table:
    table = Table(title="Events (who did what to whom, and who says so)", title_justify="left", show_edge=False)
    table.add_column("actor")
    table.add_column("action")
    table.add_column("target")
    table.add_column("CAMEO")
    table.add_column("outlet's certainty")
    table.add_column("supported by", overflow="fold")
    for e in report.events:
        if e.cameo is None and e.target is None:
            continue  # states and unclassified verbs: listed in JSON, left out here
        a = report.attribution(e.attribution_id)
        support = " ← ".join(report.chain(a)) if a is not None else f"{report.article.meta.outlet or 'this outlet'} itself"
        action = ("not " if e.negated else "") + e.predicate
        table.add_row(
            _snippet(e.actor_name or "", 30),
            action,
            _snippet(e.target_name or "", 30),
            f"{e.cameo} {e.cameo_label}" if e.cameo else "",
            Text(e.outlet_certainty.value, style=_CERTAINTY_STYLE[e.outlet_certainty]),
            support + (f"  (= {e.same_as})" if e.same_as else ""),
        )
    return table


def render(report: Report, console: Console) -> None:
    meta = report.article.meta
    title = meta.title or report.article.text.split("\n", 1)[0][:80]
    console.print(
        Panel(Group(highlighted_text(report), Text(), legend()), title=f"[bold]{title}", subtitle=f"article {report.article.id}")
    )
    console.print(Text("Attributions (relay chains: outlet ← cited source ← its source)", style="bold"))
    console.print(attribution_tree(report))
    console.print()
    if report.hedges:
        console.print(hedge_table(report))
        console.print()
    if report.events:
        console.print(events_table(report))
        console.print()
    if any(v.voice == Voice.opinion for v in report.voice):
        console.print(voice_table(report))
    else:
        console.print(Text("No opinion sentences: the outlet's own voice is reporting throughout.", style="dim"))
    n_anon = sum(1 for s in report.sources if s.anonymous)
    console.print(
        Text(
            f"{len(report.attributions)} attributions, {len(report.sources)} sources ({n_anon} anonymous), "
            f"{len(report.claims)} claims, {sum(1 for c in report.claims if c.certainty != Certainty.certain)} below certain",
            style="dim",
        )
    )
