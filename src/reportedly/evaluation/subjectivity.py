"""Subjectivity (CLEF-2023 CheckThat! Task 2, English): reader, macro-F1, ``reportedly eval subjectivity``.

Data: TSV with a header, columns ``sentence_id``, ``sentence``, ``label`` (SUBJ or OBJ)[,
``solved_conflict``]. SUBJ means the writer's own opinion, evaluation or speculation; reported
opinions of others are OBJ, which is reportedly's opinion/reporting distinction.

Each item is analysed as a one-paragraph article: parsed by the shared pipeline, attributions
extracted, then the voice tagger; the item is SUBJ when any of its sentences comes out as opinion.

Systems scored side by side: ``majority`` (the commonest training label for every item; OBJ),
``rules`` (the lexicon evidence alone, voice v1) and ``learned`` (lexicon or learned model, the
default analysis: the "fast" voice model). With ``voice_model="accurate"`` (``--voice accurate``)
the table adds ``accurate``: the fine-tuned all-MiniLM-L6-v2 (``voice/transformer.py``) averaged
with the fast model's probability for the item; only this system loads the transformer (and needs torch).
``transformer`` (the fine-tuned model alone) can be asked for by name. The test split is held back
for release evaluation and refused here.
"""

from __future__ import annotations

import csv
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reportedly.errors import ModelNotFoundError, ReportedlyError

if TYPE_CHECKING:
    from reportedly.voice.model import VoiceModel
    from reportedly.voice.transformer import AccurateVoiceModel

SPLITS = ("train", "dev")
LABELS = ("OBJ", "SUBJ")
ENV_VAR = "REPORTEDLY_SUBJECTIVITY"
SYSTEMS = ("majority", "rules", "learned")
VOICE_MODELS = ("fast", "accurate")


class SubjectivityDataError(ReportedlyError):
    pass


@dataclass(frozen=True)
class Item:
    id: str
    text: str
    label: str  # SUBJ or OBJ


def default_data_dir() -> Path | None:
    """``$REPORTEDLY_SUBJECTIVITY``, else ``../shared/data/subjectivity`` from here or from the repository."""
    env = os.environ.get(ENV_VAR)
    candidates = [Path(env)] if env else []
    candidates += [
        Path.cwd().parent / "shared/data/subjectivity",
        Path(__file__).resolve().parents[4] / "shared/data/subjectivity",
    ]
    return next((c for c in candidates if (c / "dev_en.tsv").is_file()), None)


def read_tsv(path: Path) -> list[Item]:
    items = []
    with path.open(encoding="utf-8", newline="") as fh:
        # QUOTE_NONE: sentences carry their own quotation marks, which are text, not CSV quoting
        for n, row in enumerate(csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE), start=2):
            label = (row.get("label") or "").strip()
            if label not in LABELS or not row.get("sentence"):
                raise SubjectivityDataError(f"{path}:{n}: expected a sentence and a label SUBJ or OBJ")
            items.append(Item(row.get("sentence_id") or str(n), row["sentence"], label))
    return items


def load_split(split: str, data_dir: Path | None = None) -> list[Item]:
    if split not in SPLITS:
        raise SubjectivityDataError(
            f"split {split!r} is not available: the test split is held back for release evaluation; use train or dev"
        )
    root = data_dir or default_data_dir()
    path = root / f"{split}_en.tsv" if root is not None else None
    if path is None or not path.is_file():
        raise SubjectivityDataError(
            f"CheckThat! {split}_en.tsv not found (looked in {root or '../shared/data/subjectivity'}); pass --data DIR"
        )
    return read_tsv(path)


def f1_scores(predicted: Sequence[str], gold: Sequence[str], labels: Sequence[str] = LABELS) -> dict[str, float]:
    """Per-label F1 and their unweighted mean (``macro``); a label never predicted nor gold scores 0."""
    if len(predicted) != len(gold):
        raise ValueError("f1_scores: sequences differ in length")
    out: dict[str, float] = {}
    for label in labels:
        tp = sum(1 for p, g in zip(predicted, gold, strict=True) if p == label and g == label)
        fp = sum(1 for p, g in zip(predicted, gold, strict=True) if p == label and g != label)
        fn = sum(1 for p, g in zip(predicted, gold, strict=True) if p != label and g == label)
        out[label] = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
    out["macro"] = sum(out[label] for label in labels) / len(labels)
    return out


def predict(items: Sequence[Item], *, learned: bool = True, model: VoiceModel | None = None) -> list[str]:
    """SUBJ or OBJ per item, as the analysis's voice step sees it (``learned=False``: lexicon only)."""
    from reportedly.attribution.extractor import extract
    from reportedly.pipeline.nlp import load_nlp
    from reportedly.voice.tagger import tag_voice

    nlp = load_nlp()
    out = []
    for item, doc in zip(items, nlp.pipe([i.text for i in items], batch_size=64), strict=True):
        paragraphs = [(0, len(item.text))]
        candidates = extract(doc, paragraphs)
        attributed = [r for c in candidates for r in c.content]
        cues = [c.cue for c in candidates]
        voices = tag_voice(doc, attributed, cues, paragraphs, learned=learned, model=model)
        out.append("SUBJ" if any(v.voice.value == "opinion" for v in voices) else "OBJ")
    return out


def fast_probabilities(items: Sequence[Item], model: VoiceModel | None = None) -> list[float]:
    """The fast voice model's probability of SUBJ for each item taken as one unit (as it was trained)."""
    from reportedly.attribution.extractor import extract
    from reportedly.pipeline.nlp import load_nlp
    from reportedly.voice.model import load_voice_model
    from reportedly.voice.tagger import item_features

    model = model or load_voice_model()
    out = []
    for item, doc in zip(items, load_nlp().pipe([i.text for i in items], batch_size=64), strict=True):
        candidates = extract(doc, [(0, len(item.text))])
        features = item_features(doc, [r for c in candidates for r in c.content], [c.cue for c in candidates])
        out.append(model.probability(features))
    return out


def load_accurate(model: AccurateVoiceModel | None = None) -> AccurateVoiceModel:
    """``model``, else the shipped fine-tuned model (imports torch: only on demand)."""
    if model is not None:
        return model
    try:
        from reportedly.voice.transformer import load_accurate_model
    except ImportError as e:  # torch, safetensors or tokenizers missing
        raise ModelNotFoundError(f"the accurate voice model needs torch and the stories extra ({e})") from e
    return load_accurate_model()


def predict_accurate(items: Sequence[Item], model: AccurateVoiceModel | None = None, *, combined: bool = True) -> list[str]:
    """SUBJ or OBJ per item by the fine-tuned transformer, averaged with the fast model unless ``combined=False``."""
    accurate = load_accurate(model)
    probs = accurate.probabilities([i.text for i in items])
    if combined and accurate.fast_weight > 0:
        probs = [accurate.combine(p, q) for p, q in zip(probs, fast_probabilities(items), strict=True)]
    return ["SUBJ" if p >= accurate.threshold else "OBJ" for p in probs]


def majority_label(train: Sequence[Item]) -> str:
    subj = sum(1 for i in train if i.label == "SUBJ")
    return "SUBJ" if subj * 2 > len(train) else "OBJ"


def evaluate(
    split: str = "dev",
    data_dir: Path | None = None,
    systems: Sequence[str] | None = None,
    *,
    model: VoiceModel | None = None,
    voice_model: str = "fast",
    accurate: AccurateVoiceModel | None = None,
) -> dict[str, Any]:
    """Macro-F1 per system. ``systems`` defaults to :data:`SYSTEMS`, plus ``accurate`` when ``voice_model="accurate"``;
    ``model`` and ``accurate`` replace the shipped fast and accurate models (training scores a model before writing it)."""
    if voice_model not in VOICE_MODELS:
        raise SubjectivityDataError(f"unknown voice model {voice_model!r}: use fast or accurate")
    if systems is None:
        systems = (*SYSTEMS, "accurate") if voice_model == "accurate" else SYSTEMS
    items = load_split(split, data_dir)
    gold = [i.label for i in items]
    results = []
    for system in systems:
        t0 = time.perf_counter()
        if system == "majority":
            # The majority of the training split, as a system would know it before seeing dev.
            pred = [majority_label(load_split("train", data_dir))] * len(items)
        elif system == "rules":
            pred = predict(items, learned=False)
        elif system == "learned":
            pred = predict(items, learned=True, model=model)
        elif system in ("accurate", "transformer"):
            pred = predict_accurate(items, accurate, combined=system == "accurate")
        else:
            raise SubjectivityDataError(f"unknown system {system!r}")
        f1 = f1_scores(pred, gold)
        results.append(
            {
                "system": system,
                "macro_f1": f1["macro"],
                "f1_subj": f1["SUBJ"],
                "f1_obj": f1["OBJ"],
                "predicted_subj": pred.count("SUBJ"),
                "seconds": round(time.perf_counter() - t0, 3),
            }
        )
    return {
        "corpus": "CheckThat! 2023 Task 2 (English)",
        "split": split,
        "items": len(items),
        "gold_subj": gold.count("SUBJ"),
        "results": results,
    }


def table(result: dict[str, Any]) -> Any:
    from rich.table import Table

    t = Table(title=f"CheckThat! subjectivity (English) {result['split']}: SUBJ vs OBJ", title_justify="left")
    t.add_column("system")
    t.add_column("macro-F1", justify="right")
    t.add_column("F1 SUBJ", justify="right")
    t.add_column("F1 OBJ", justify="right")
    t.add_column("predicted SUBJ", justify="right")
    for r in result["results"]:
        t.add_row(r["system"], f"{r['macro_f1']:.3f}", f"{r['f1_subj']:.3f}", f"{r['f1_obj']:.3f}", str(r["predicted_subj"]))
    t.caption = f"{result['items']} items, {result['gold_subj']} gold SUBJ; majority = commonest training label"
    return t
