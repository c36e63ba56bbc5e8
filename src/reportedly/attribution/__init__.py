"""Attribution: who said, believed or reported what (Source, Cue, Content), and through whom."""

from reportedly.attribution.extractor import Candidate, extract

__all__ = ["Candidate", "extract"]
