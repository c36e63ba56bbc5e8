"""Export a corpus store as flat tables: articles, attributions, claims, entities (JSON Lines, CSV, Parquet).

The table layouts here are the contract the Spark runner writes too, so the results of either
load into the same tools.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reportedly.corpus.rows import ARTICLE_COLUMNS, ATTRIBUTION_COLUMNS, CLAIM_COLUMNS
from reportedly.corpus.store import Store

if TYPE_CHECKING:
    import pyarrow as pa

ENTITY_COLUMNS = ("id", "name", "kind", "mentions", "articles")

COLUMNS: dict[str, tuple[str, ...]] = {
    "articles": ARTICLE_COLUMNS,
    "attributions": ATTRIBUTION_COLUMNS,
    "claims": CLAIM_COLUMNS,
    "entities": ENTITY_COLUMNS,
}

# Every other column is text. Parquet types are fixed up front rather than guessed from the rows: a
# column that happens to be all NULL (no article with an author) must still be text, and the
# Spark runner writes these same types.
INTEGER_COLUMNS: dict[str, frozenset[str]] = {
    "articles": frozenset({"words", "sentences", "opinion_sentences"}),
    "attributions": frozenset({"anonymous", "source_count"}),
    "claims": frozenset(),
    "entities": frozenset({"id", "mentions", "articles"}),
}

TABLES: dict[str, str] = {
    "articles": f"SELECT {', '.join(ARTICLE_COLUMNS)} FROM articles ORDER BY id",
    "attributions": f"SELECT {', '.join(ATTRIBUTION_COLUMNS)} FROM attributions ORDER BY article_id, id",
    "claims": f"SELECT {', '.join(CLAIM_COLUMNS)} FROM claims ORDER BY article_id, rowid",
    "entities": f"SELECT {', '.join(ENTITY_COLUMNS)} FROM entities ORDER BY id",
}


def arrow_schema(table: str) -> pa.Schema:
    import pyarrow as pa

    ints = INTEGER_COLUMNS[table]
    return pa.schema([(c, pa.int64() if c in ints else pa.string()) for c in COLUMNS[table]])


def rows(store: Store, table: str) -> list[dict[str, Any]]:
    return [dict(r) for r in store.query(TABLES[table])]


def export(store: Store, fmt: str, out: Path) -> dict[str, Path]:
    out.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    for table in TABLES:
        data = rows(store, table)
        if fmt == "jsonl":
            path = out / f"{table}.jsonl"
            with path.open("w", encoding="utf-8") as fh:
                for r in data:
                    fh.write(json.dumps(r, ensure_ascii=False) + "\n")
        elif fmt == "csv":
            path = out / f"{table}.csv"
            with path.open("w", encoding="utf-8", newline="") as fh:
                writer = csv.DictWriter(fh, fieldnames=COLUMNS[table])
                writer.writeheader()
                writer.writerows(data)
        elif fmt == "parquet":
            import pyarrow as pa
            import pyarrow.parquet as pq

            path = out / f"{table}.parquet"
            pq.write_table(pa.Table.from_pylist(data, schema=arrow_schema(table)), path)
        else:
            raise ValueError(fmt)
        written[table] = path
    return written
