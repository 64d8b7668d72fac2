"""Benchmarks of statflow against its targets (issue 7): ingest throughput against a
bare-Python baseline, freshness, report latency, worker memory, and a profile.

Run ``python -m bench [ingest freshness reports profile] [--events N] [--quick]``;
each benchmark prints a table and writes ``bench/results/<name>.json``. See
``bench/README.md`` for the method behind every figure.
"""
