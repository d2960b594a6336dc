"""`weditor probe`: the REINS curve, linear separability of a concept at every block."""

from __future__ import annotations

import click

from weditor import defaults
from weditor.commands.patch_options import SEED, _size


@click.command()
@click.argument("model", required=False, default=defaults.BUILTIN_MODEL)
@click.option("--pairs", required=True, type=click.Path(dir_okay=False), help="Pair file (TOML) of the concept.")
@click.option(
    "--out",
    default=None,
    type=click.Path(file_okay=False),
    help="Folder for probe.json and probe.png (default: ./probe-CONCEPT).",
)
@click.option("--layers", default="0.0-1.0", show_default=True, help="Blocks to probe (same syntax as patch --layers).")
@click.option("--folds", default=5, show_default=True, type=int, help="Cross-validation folds (grouped by pair).")
@click.option(
    "--no-extra", is_flag=True, help="Probe the pairs only, without the eval (unsafe) and neutral (safe) prompts."
)
@click.option(
    "--steps", default=defaults.STEPS, show_default=True, type=int, help="Denoising steps per collection run."
)
@click.option("--size", default=None, callback=_size, help="Collection HEIGHTxWIDTHxFRAMES (default per model).")
@click.option("--seed", default=0, show_default=True, type=SEED)
@click.option("--device", default=None, help="cpu, cuda, cuda:1 ... (default: cuda if available).")
@click.option(
    "--dtype", default=None, type=click.Choice(defaults.DTYPE_NAMES), help="Compute dtype (default: as stored)."
)
@click.option("--revision", default=None, help="Hub revision of MODEL.")
def probe(model, pairs, out, layers, folds, no_extra, steps, size, seed, device, dtype, revision):
    """Linear-probe accuracy of the concept in PAIRS at every block of MODEL (the REINS curve).

    Prints a table (cross-validated probe accuracy, projection gap along the REINS direction
    in units of the mean token norm, gap over spread) and writes probe.json and probe.png.
    Use it to choose `weditor patch --reins-layer`; `*` marks the default.
    """
    import torch

    from weditor.methods.reins_probe import ProbeConfig, format_table, run_probe

    cfg = ProbeConfig(
        pairs=pairs,
        out=out,
        model=model,
        revision=revision,
        layers=layers,
        folds=folds,
        steps=steps,
        size=size,
        seed=seed,
        device=device or ("cuda" if torch.cuda.is_available() else "cpu"),
        dtype=dtype,
        extra=not no_extra,
    )
    report = run_probe(cfg)
    pts = report["points"]
    click.echo(
        f"weditor {report['weditor_version']}: probe of {report['pairs']['concept']!r} on {report['base_model']['id']} "
        f"({pts['pairs']} pairs, {pts['eval']} eval, {pts['neutral']} neutral prompts; "
        f"{cfg.steps} steps; grouped {cfg.folds}-fold CV)"
    )
    for line in format_table(report):
        click.echo(line)
    click.echo(
        "  acc: logistic probe, held-out accuracy; gap/norm: safe - unsafe along the REINS direction over the mean "
        "token norm (the --reins-strength that closes it); *: default --reins-layer"
    )
    click.echo(
        f"  wrote {report['json']}, {report['svg']} (the plot)" + (f" and {report['png']}" if report["png"] else "")
    )
