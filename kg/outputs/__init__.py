"""outputs stage."""
