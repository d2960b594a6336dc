"""`weditor verify PATCHED`: the offline checks, and the edits recomputed from the base."""

from __future__ import annotations

import json

import click


@click.command()
@click.argument("patched", type=click.Path(file_okay=False))
@click.option("--base", default=None, type=click.Path(file_okay=False),
              help="Base model folder to recompute the edits from (default: the recipe's base_model, if found locally).")
@click.option("--no-base", is_flag=True, help="Only the hash checks; do not recompute the edits.")
@click.option("--allow-pickle", is_flag=True,
              help="Read pickle-only (.bin) weights of the base with torch.load(weights_only=True).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def verify(patched, base, no_base, allow_pickle, as_json):
    """Check PATCHED against its weditor.json: file hashes, edited tensors, and the edits themselves.

    Exits 0 when everything matches, 1 when a check fails (tampering or corruption), 2 when the
    check cannot run (no such folder, no recipe).
    """
    from dataclasses import asdict

    from weditor.audit import format_audit, verify_patched
    from weditor.diffing import CheckFailed

    report = verify_patched(patched, base=base, use_base=not no_base, allow_pickle=allow_pickle)
    if as_json:
        click.echo(json.dumps({**asdict(report), "ok": report.ok}, indent=2, sort_keys=True))
    else:
        for line in format_audit(report):
            click.echo(line)
    if not report.ok:
        more = f" (and {len(report.problems) - 1} more)" if len(report.problems) > 1 else ""
        raise CheckFailed(f"{patched}: {report.problems[0]}{more}")
