"""Derive reportedly's verb -> CAMEO top-level class table from the CAMEO 2.0 verb dictionary
(PETRARCH2, MIT licence), as ``src/reportedly/lexicons/cameo_verbs.tsv``:

    python scripts/build_cameo_verbs.py ../shared/data/cameo/petrarch2/CAMEO.2.0.txt

Each dictionary block lists synonym verbs and phrase patterns with codes; a verb takes its block's
own code when it has one, else the commonest top-level class among the block's patterns. Entries in
``lexicons/cameo_overrides.tsv`` (news verbs the dictionary leaves uncoded or codes by rare
patterns) win over the derived ones.
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "src/reportedly/lexicons/cameo_verbs.tsv"
_BLOCK = re.compile(r"^---\s+(\S.*?)\s+\[([^\]]*)\]\s+---")
_CODE = re.compile(r"\[(\d{2,4})(?::\d+)?\]")


def main() -> None:
    path = Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/data/cameo/petrarch2/CAMEO.2.0.txt")
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    start = next(i for i, line in enumerate(lines) if "VERB PATTERNS" in line)
    table: dict[str, str] = {}
    verbs: list[str] = []
    own: str | None = None
    codes: Counter[str] = Counter()

    def flush() -> None:
        cls = own or (codes.most_common(1)[0][0] if codes else None)
        if cls:
            for v in verbs:
                table.setdefault(v, cls)

    for line in lines[start:]:
        m = _BLOCK.match(line)
        if m:
            flush()
            verbs, codes = [], Counter()
            code = m.group(2).strip()
            own = code[:2] if code[:2].isdigit() else None
            continue
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        if text.startswith("-"):
            for c in _CODE.findall(text):
                codes[c[:2]] += 1
        elif not text.startswith(("+", "&", "~")):
            word = text.split("{")[0].strip().split()[0] if text.split() else ""
            if word.isalpha():
                verbs.append(word.lower())
    flush()
    rows = "\n".join(f"{v}\t{c}" for v, c in sorted(table.items()))
    header = "# verb lemma -> CAMEO top-level class (two digits), derived by scripts/build_cameo_verbs.py from CAMEO 2.0\n"
    OUT.write_text(header + rows + "\n", encoding="utf-8")
    print(f"wrote {len(table)} verbs to {OUT}")


if __name__ == "__main__":
    main()
