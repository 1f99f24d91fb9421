"""Benchmarks: what a cycle costs as the mailbox grows (python -m bench)."""
