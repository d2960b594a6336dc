"""`weditor inspect`: how weditor sees a model, from its configs and safetensors headers."""

from __future__ import annotations

import click

from weditor import defaults


@click.command()
@click.argument("model", required=False, default=defaults.BUILTIN_MODEL)
@click.option("--revision", default=None, help="Hub revision of MODEL.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option(
    "--pipelines",
    "list_pipelines",
    is_flag=True,
    help="List every video pipeline class weditor knows instead: what works on it, or why it is refused.",
)
def inspect(model, revision, as_json, list_pipelines):
    """Show how weditor sees MODEL: family, denoisers, blocks, edit sites, applicable methods.

    MODEL is a local diffusers pipeline folder, a Hub id (only its JSON files are fetched), or
    weditor:shapes, the embedded model (the default).
    No weights are loaded: denoisers are built on the meta device from their configs.
    """
    import json

    from weditor.models.inspection import format_report, inspect_model

    if list_pipelines:
        from weditor.adapters.table import format_table, pipeline_table

        rows = pipeline_table()
        click.echo(json.dumps(rows, indent=2) if as_json else format_table(rows))
        return

    report = inspect_model(model, revision)
    click.echo(json.dumps(report, indent=2) if as_json else format_report(report))
