"""MuJun (亩均): per-mu benefit grading and quota allocation for development zones."""

__version__ = "0.1.0"
