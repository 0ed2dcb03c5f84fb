"""Load and batch benchmarks that print figures and ratios (see README.md)."""
