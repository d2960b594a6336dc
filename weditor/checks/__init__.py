"""Checks of a written folder: `weditor verify` (recipe and base), `weditor diff`, the comparison with the base."""
