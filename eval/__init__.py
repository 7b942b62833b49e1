"""Evaluation and benchmarks for mmrag."""
