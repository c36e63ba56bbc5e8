"""The linguistic pipeline (spaCy, loaded once) and the analyser that runs every component on it."""
