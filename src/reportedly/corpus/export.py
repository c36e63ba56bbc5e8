"""Export a corpus store as flat tables: articles, attributions, claims (JSON Lines, CSV, Parquet).

The table layouts here are the contract the Spark runner writes too, so the results of either
load into the same tools.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from reportedly.corpus.rows import ARTICLE_COLUMNS, ATTRIBUTION_COLUMNS, CLAIM_COLUMNS
from reportedly.corpus.store import Store

TABLES: dict[str, str] = {
    "articles": f"SELECT {', '.join(ARTICLE_COLUMNS)} FROM articles ORDER BY id",
    "attributions": f"SELECT {', '.join(ATTRIBUTION_COLUMNS)} FROM attributions ORDER BY article_id, id",
    "claims": f"SELECT {', '.join(CLAIM_COLUMNS)} FROM claims ORDER BY article_id, rowid",
}


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
            columns = [d[0] for d in store.db.execute(TABLES[table] + " LIMIT 0").description]
            with path.open("w", encoding="utf-8", newline="") as fh:
                writer = csv.DictWriter(fh, fieldnames=columns)
                writer.writeheader()
                writer.writerows(data)
        elif fmt == "parquet":
            import pyarrow as pa
            import pyarrow.parquet as pq

            path = out / f"{table}.parquet"
            columns = [d[0] for d in store.db.execute(TABLES[table] + " LIMIT 0").description]
            pq.write_table(pa.Table.from_pylist(data) if data else pa.table({c: [] for c in columns}), path)
        else:
            raise ValueError(fmt)
        written[table] = path
    return written
