"""Measuring the suggestions: aggregates and intervals, verification of saved edits, monitoring
with automatic pause, and the retention job. Each job is a Flask CLI command (suggest/cli.py)."""
