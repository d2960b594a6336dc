"""`weditor eval`: before/after evidence for a patch (videos, scorers, latent audit, report).

Modules: `generate` (stock-pipeline videos, cached; frame grids), `scorers` (the pluggable
judge interface and the built-in shapes scorer), `audit` (the LVD early-step probe),
`representation` (projections on the removed directions, collateral damage), `report`
(report.html), `run` (the whole command as a library call). Import-light: torch and
diffusers are imported inside functions.
"""
