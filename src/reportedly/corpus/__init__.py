"""Corpus mode: many articles in an embedded store (SQLite), entities across articles, queries."""
