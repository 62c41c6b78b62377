"""Benchmarks: inventory load vs the official SDK, keystroke feedback, a 10,000-instance fleet, the emulator.

Each module runs one benchmark (``python -m benchmarks.<name> [--quick]``) and prints its figures;
``python -m benchmarks.run_all`` runs them side by side and rewrites ``benchmarks/README.md``.
Benchmarks measure; they never fail a build (targets missed are reported, not raised).
"""
