"""brat standoff for attributions, both ways.

Reading follows PolNeAR's layout: ``T`` lines are spans (Source, Cue, Content, and an
Attribution trigger on the cue); each ``E`` line joins one attribution's spans. A span may be
discontinuous (``T9\tContent 315 448;463 553\t...``). Writing produces the same layout, so brat
(and any brat tool) can show reportedly's attributions next to gold ones.
"""

from __future__ import annotations

from dataclasses import dataclass

from reportedly.model import Attribution, Report, Span

Ranges = tuple[tuple[int, int], ...]
ROLES = ("source", "cue", "content")


@dataclass(frozen=True)
class SpanSet:
    """An attribution's Source, Cue and Content as character ranges (any may be absent)."""

    source: Ranges | None
    cue: Ranges | None
    content: Ranges | None
    label: str = ""  # free text for error analysis (e.g. the rule that found it)

    def role(self, name: str) -> Ranges | None:
        value: Ranges | None = getattr(self, name)
        return value


def parse_ranges(field: str) -> Ranges:
    out = []
    for part in field.split(";"):
        start, end = part.split()
        out.append((int(start), int(end)))
    return tuple(sorted(out))


def read_ann(ann: str) -> list[SpanSet]:
    """Attributions of one .ann file. Spans of labels other than Source/Cue/Content are ignored."""
    spans: dict[str, tuple[str, Ranges]] = {}
    events: list[list[tuple[str, str]]] = []
    for line in ann.splitlines():
        if not line.strip():
            continue
        cols = line.split("\t")
        if line.startswith("T") and len(cols) >= 2:
            label, _, ranges = cols[1].partition(" ")
            spans[cols[0]] = (label, parse_ranges(ranges))
        elif line.startswith("E") and len(cols) >= 2:
            events.append([tuple(arg.split(":", 1)) for arg in cols[1].split()])  # type: ignore[misc]
    out = []
    for args in events:
        roles: dict[str, Ranges] = {}
        for role, tid in args[1:]:  # args[0] is the trigger (Attribution:T4)
            label = role.rstrip("0123456789").lower()
            if label in ROLES and tid in spans:
                roles[label] = spans[tid][1]
        if "cue" in roles or "content" in roles:
            out.append(SpanSet(roles.get("source"), roles.get("cue"), roles.get("content")))
    return out


def _ranges(spans: list[Span] | Span | None) -> Ranges | None:
    if spans is None:
        return None
    if isinstance(spans, Span):
        spans = [spans]
    return tuple(sorted((s.start, s.end) for s in spans)) or None


def from_attribution(a: Attribution) -> SpanSet:
    return SpanSet(_ranges(a.source), _ranges(a.cue), _ranges(a.content), label=a.rule)


def write_ann(report: Report, *, outermost_only: bool = False) -> str:
    """Our attributions as brat standoff (PolNeAR's labels), with the resolved source as a note."""
    text = report.article.text
    lines: list[str] = []
    t = 0

    def span_line(label: str, ranges: Ranges) -> str:
        nonlocal t
        t += 1
        frag = " ".join(text[s:e].replace("\n", " ") for s, e in ranges)
        lines.append(f"T{t}\t{label} {';'.join(f'{s} {e}' for s, e in ranges)}\t{frag}")
        return f"T{t}"

    for n, a in enumerate(report.attributions, start=1):
        if outermost_only and a.parent_id is not None:
            continue
        spans = from_attribution(a)
        args = []
        if spans.content:
            args.append(f"Content:{span_line('Content', spans.content)}")
        if spans.cue:
            args.append(f"Cue:{span_line('Cue', spans.cue)}")
        if spans.source:
            args.append(f"Source:{span_line('Source', spans.source)}")
        label = "Attribution" if spans.source else "Attribution-no-source"
        trigger = span_line(label, spans.cue or spans.content or ((0, 0),))
        lines.append(f"E{n}\t{label}:{trigger} {' '.join(args)}")
        src = report.source(a.source_id)
        note = f"kind={a.kind.value}"
        if src is not None:
            note += f"; source={src.name} ({src.kind.value}{', anonymous' if src.anonymous else ''})"
        if a.parent_id:
            note += f"; relayed through {a.parent_id}"
        lines.append(f"#{n}\tAnnotatorNotes E{n}\t{note}")
    return "\n".join(lines) + ("\n" if lines else "")
