"""`weditor diff BASE PATCHED`: what differs, and whether weditor.json explains it."""

from __future__ import annotations

import json

import click


@click.command()
@click.argument("base", type=click.Path(file_okay=False))
@click.argument("patched", type=click.Path(file_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option(
    "--allow-pickle", is_flag=True, help="Read pickle-only (.bin) weights of BASE with torch.load(weights_only=True)."
)
def diff(base, patched, as_json, allow_pickle):
    """List every tensor and file that differs between BASE and PATCHED.

    Each changed tensor is shown with its shape, dtype, the numerical rank and Frobenius norm
    of the change, and whether weditor.json explains it. Exits 0 when every difference is
    explained and every file matches the recipe's SHA-256; 1 when something is unexplained
    (tampering, corruption, a folder weditor did not write); 2 when the diff cannot run.
    """
    from weditor.checks.diff import CheckFailed, diff_folders, format_report

    report = diff_folders(base, patched, allow_pickle=allow_pickle)
    if as_json:
        click.echo(json.dumps(report.to_dict(), indent=2, sort_keys=True))
    else:
        for line in format_report(report):
            click.echo(line)
    if not report.ok:
        first = report.unexplained[0]
        more = f" (and {len(report.unexplained) - 1} more)" if len(report.unexplained) > 1 else ""
        raise CheckFailed(f"{patched}: {first}{more}")
