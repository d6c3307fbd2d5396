"""Reproducible benchmarks of perfledger, each figure next to its limit measured in the same run.

Run `python -m bench [--quick] [--only NAME]`; see docs/performance.md.
"""
