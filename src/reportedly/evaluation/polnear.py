"""The PolNeAR corpus (Newell, Margolin & Ruths, 2018): train and dev splits only.

Layout: ``<split>/text/<name>.txt`` and ``<split>/attributions/<name>_<annotator>.ann``, plus
``metadata.tsv`` (publisher per article). A few articles have several annotators' files; each
file is scored as its own gold document against the same predictions (so the figures are the
micro-average over annotation files, which is the mean over annotators weighted by their size).

The test split is held back for release evaluation and is refused here on purpose.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path

from reportedly.errors import ReportedlyError
from reportedly.evaluation.brat import SpanSet, read_ann

SPLITS = ("train", "dev")
ENV_VAR = "REPORTEDLY_POLNEAR"


class DataError(ReportedlyError):
    pass


@dataclass
class GoldDoc:
    name: str
    annotator: str
    publisher: str
    text: str
    attributions: list[SpanSet]


def default_data_dir() -> Path | None:
    """``$REPORTEDLY_POLNEAR``, else ``../shared/data/polnear`` from here or from the repository."""
    env = os.environ.get(ENV_VAR)
    candidates = [Path(env)] if env else []
    candidates += [Path.cwd().parent / "shared/data/polnear", Path(__file__).resolve().parents[4] / "shared/data/polnear"]
    return next((c for c in candidates if (c / "dev").is_dir()), None)


def load_split(split: str, data_dir: Path | None = None, limit: int | None = None) -> list[GoldDoc]:
    if split not in SPLITS:
        raise DataError(
            f"split {split!r} is not available: PolNeAR's test split is held back for release evaluation; use train or dev"
        )
    root = data_dir or default_data_dir()
    if root is None or not (root / split).is_dir():
        raise DataError(f"PolNeAR {split} split not found (looked in {root or '../shared/data/polnear'}); pass --data DIR")
    publishers: dict[str, str] = {}
    meta = root / "metadata.tsv"
    if meta.exists():
        with meta.open(encoding="utf-8") as fh:
            for row in csv.DictReader(fh, delimiter="\t"):
                publishers[row["filename"]] = row["publisher"]
    texts = sorted((root / split / "text").glob("*.txt"))
    if limit is not None:
        texts = texts[:limit]
    docs = []
    for path in texts:
        name = path.stem
        text = path.read_text(encoding="utf-8")
        for ann in sorted((root / split / "attributions").glob(f"{name}_*.ann")):
            annotator = ann.stem[len(name) + 1 :]
            if "_" in annotator:  # another article whose name starts with this one's
                continue
            docs.append(
                GoldDoc(
                    name, annotator, publishers.get(name, name.split("_")[0]), text, read_ann(ann.read_text(encoding="utf-8"))
                )
            )
    return docs
