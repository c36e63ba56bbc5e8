"""Story clustering speed: articles/s of ``assign_stories`` over a corpus database.

    python scripts/polnear_to_jsonl.py ../shared/data/polnear --splits train > train.jsonl
    reportedly ingest train.jsonl --db train.sqlite --no-stories
    python bench/stories.py train.sqlite

The database is copied first, so the measured run always starts with no stories.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from reportedly.corpus.store import Store
from reportedly.corpus.stories import assign_stories, backend, stories


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("db", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "copy.sqlite"
        shutil.copy(args.db, copy)
        with Store(copy) as store:
            store.db.executescript("DROP TABLE IF EXISTS story_articles; DROP TABLE IF EXISTS stories;")
            started = time.perf_counter()
            placed = assign_stories(store)
            seconds = time.perf_counter() - started
            rows = stories(store, limit=10_000)
    multi = [r for r in rows if r["articles"] > 1]
    print(f"backend: {backend()}")
    largest = rows[0]["articles"] if rows else 0
    print(f"{placed} articles into {len(rows)} stories ({len(multi)} with 2+ articles, largest {largest})")
    print(f"{seconds:.1f} s, {placed / seconds:.1f} articles/s")


if __name__ == "__main__":
    main()
