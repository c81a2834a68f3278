"""Strideline's benchmark harness (not a test suite: nothing here asserts on timings).

Run ``bash bench/run.sh`` (or ``.venv/bin/python -m bench --help``); figures go to stdout and to
``bench/out/`` as JSON. bench/RESULTS.md records the figures measured on the project's 2-core machine.
"""
