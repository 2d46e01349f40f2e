"""Benchmarks of the platform at city scale: `python -m bench --help`. Not tests: figures are
measured and written to bench/RESULTS.md beside their baselines and targets."""
