"""Stages of `weditor patch` that are not specific to one method (the summary's measurements, the reload check)."""
