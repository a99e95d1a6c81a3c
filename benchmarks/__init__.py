"""Benchmarks of the complaint pipeline against simple peers (accuracy, speed, tuning).

Nothing here is imported by ``pipeline/``. Real data is read from ``../shared/data/real``
(see ``benchmarks/README.md``) and never copied: scripts print and store numbers only.
"""
