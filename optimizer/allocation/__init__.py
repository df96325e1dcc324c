"""Allocation engine: the canonical LP/MILP of SPEC §4."""
