"""`weditor verify PATCHED`: the offline checks, and the edits recomputed from the base."""

from __future__ import annotations

import json

import click


@click.command()
@click.argument("patched", type=click.Path(file_okay=False))
@click.option(
    "--base",
    default=None,
    type=click.Path(file_okay=False),
    help="Base model folder to compare with (default: the recipe's base_model, if found locally).",
)
@click.option(
    "--no-base",
    is_flag=True,
    help="Do not use the base even if found: hash checks only (needs --allow-unverified-base to pass).",
)
@click.option(
    "--allow-unverified-base",
    is_flag=True,
    help="Accept a check without the base model: the edits are not recomputed and the other files and "
    "tensors are checked only against the recipe's hashes, which anyone who changes a file can rewrite.",
)
@click.option(
    "--allow-pickle",
    is_flag=True,
    help="Read pickle-only (.bin) weights of the base with torch.load(weights_only=True).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def verify(patched, base, no_base, allow_unverified_base, allow_pickle, as_json):
    """Check PATCHED against its weditor.json and its base model: file hashes, links, every tensor
    finite, the edits recomputed, every other file and tensor equal to the base's, the model card.

    Exits 0 when everything matches; 1 when a check fails (tampering or corruption); 2 when the
    check cannot run (no such folder, no or malformed recipe) or the base model is not available
    locally and --allow-unverified-base was not given (the report lists what was not checked).
    """
    from dataclasses import asdict

    from weditor.checks.verify import format_audit, require_verified, verify_patched

    report = verify_patched(patched, base=base, use_base=not no_base, allow_pickle=allow_pickle)
    if as_json:
        ok = report.ok and (report.complete or allow_unverified_base)
        click.echo(json.dumps({**asdict(report), "ok": ok, "complete": report.complete}, indent=2, sort_keys=True))
    else:
        for line in format_audit(report, allow_unverified_base):
            click.echo(line)
    require_verified(report, allow_unverified_base)
