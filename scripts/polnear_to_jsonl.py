"""Write PolNeAR train/dev texts as JSON Lines with their publisher, date, author and title, ready
for ``reportedly ingest``:

    python scripts/polnear_to_jsonl.py ../shared/data/polnear --splits train dev > polnear.jsonl
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("data", type=Path, help="the PolNeAR folder (with metadata.tsv)")
    parser.add_argument("--splits", nargs="+", default=["train", "dev"], choices=["train", "dev"])
    args = parser.parse_args()
    with (args.data / "metadata.tsv").open(encoding="utf-8") as fh:
        meta = {r["filename"]: r for r in csv.DictReader(fh, delimiter="\t")}
    for split in args.splits:
        for path in sorted((args.data / split / "text").glob("*.txt")):
            m = meta.get(path.stem, {})
            row = {
                "text": path.read_text(encoding="utf-8"),
                "outlet": m.get("publisher") or path.stem.split("_")[0],
                "date": m.get("publication_date"),
                "author": m.get("author"),
                "title": m.get("title"),
                "id": path.stem,
            }
            sys.stdout.write(json.dumps(row, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
