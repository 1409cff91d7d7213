"""Benchmarks of crisp_plugin against the official Crisp clients, side by side in one run.

Run ``bash bench/run.sh`` (or ``python -m bench`` once the peers are installed). See
``bench/RESULTS.md`` for the latest figures and ``bench/run.py`` for the options.
"""
