"""Benchmarks at 1,000,000 customers (see README.md); run with ``make bench``."""
