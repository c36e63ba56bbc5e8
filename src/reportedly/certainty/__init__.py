"""Certainty: hedge and negation cues, their scope, and each claim's certainty class."""
