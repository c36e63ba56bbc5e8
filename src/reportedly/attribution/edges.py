"""Where an attribution's spans begin and end: PolNeAR's conventions, applied to every extractor.

The rules and the learned taggers find the same attributions but draw their edges differently;
these conventions are what the annotators did, counted on PolNeAR train (about 22,000
attributions), and hold whichever extractor found the spans:

- **A reported clause leaves the sentence's full stop out**: of plain (unquoted) contents that
  end a sentence, 9,420 stop before the full stop and 46 keep it. A quotation keeps its own
  (``“… racism.”``), as does an abbreviation ("U.S.").
- **A quotation keeps its marks**, including the typewriter pairs ``''…''`` and ````…''``: a
  content that sits exactly inside a pair of quotation marks takes the pair.
- **A preposition between the cue and its content belongs to the cue** ("called for [an
  inquiry]", "asked about [the emails]"): of the gold cues before their content,
  the content, 3,010 end in one of these prepositions; of the one-word gaps left between a cue
  and its content, nearly all are nouns ("told reporters"), "to" 3 times and "by" 6.
"""

from __future__ import annotations

_ABBREVIATIONS = {"jr", "sr", "inc", "co", "corp", "ltd", "st", "mr", "mrs", "dr", "ms", "no", "vs", "gov", "sen", "rep"}
_QUOTE_PAIRS = (("''", "''"), ("``", "''"), ('"', '"'), ("“", "”"), ("‘", "’"))
_OPENERS = "\"“‘'`"
_CUE_PREPOSITIONS = {"to", "about", "of", "for", "on", "with", "as", "by", "at", "against", "into", "over", "from", "upon"}


def _strip(text: str, s: int, e: int) -> tuple[int, int]:
    while s < e and text[s].isspace():
        s += 1
    while e > s and text[e - 1].isspace():
        e -= 1
    return s, e


def _drops_full_stop(text: str, s: int, e: int) -> bool:
    if e - s < 2 or text[e - 1] != "." or not text[e - 2].isalnum() or text[s] in _OPENERS:
        return False
    before = text[s : e - 1].split()
    word = before[-1] if before else ""
    return "." not in word and word.lower() not in _ABBREVIATIONS


def _quote_pair(text: str, s: int, e: int) -> tuple[int, int] | None:
    """The span widened to the quotation marks right around it, if there is a pair."""
    j = s
    while j > 0 and text[j - 1] in " \t":
        j -= 1
    for opener, closer in _QUOTE_PAIRS:
        if text[j - len(opener) : j] != opener or text.startswith(opener, s):
            continue
        k = e + 1 if e < len(text) and text[e] in ",.?!" else e
        if text.startswith(closer, k):
            return j - len(opener), k + len(closer)
        return None
    return None


def polish_content(text: str, content: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out = []
    for s0, e0 in content:
        s, e = _strip(text, s0, e0)
        if s >= e:
            continue
        if _drops_full_stop(text, s, e):
            e -= 1
        widened = _quote_pair(text, s, e)
        if widened is not None:
            s, e = widened
        out.append((s, e))
    return out or content


def polish_cue(text: str, cue: tuple[int, int], content: list[tuple[int, int]]) -> tuple[int, int]:
    """Take in a preposition standing alone between the cue and the content that follows it."""
    after = [s for s, _ in content if s >= cue[1]]
    if not after:
        return cue
    gap = text[cue[1] : min(after)]
    word = gap.strip()
    if word.lower() in _CUE_PREPOSITIONS and gap[:1].isspace() and gap[-1:].isspace():
        return cue[0], cue[1] + gap.index(word) + len(word)
    return cue
