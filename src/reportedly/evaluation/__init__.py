"""Evaluation: gold-data readers (PolNeAR), brat standoff I/O, and the span scorer."""
