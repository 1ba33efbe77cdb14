"""Benchmarks for dualrole: cohort analysis at MOOC scale against DuckDB and plain pandas,
collect, the card's submit latency, a class burst through ``dualrole serve``, and start-up.

Run ``make bench`` (or ``python -m benchmarks.run --help``). Every figure is written, with the
machine's core count and the date, to ``benchmarks/results.md``; nothing here is a test assertion
on time. All data are made by the seeded simulator and labelled synthetic.
"""
