"""The `weditor` command line.

Sub-commands live in `weditor/commands/` and are imported only when invoked, so that
`weditor --help` stays instant: torch and diffusers take seconds to import.
"""

from __future__ import annotations

import importlib

import click

from weditor import __version__

# name -> "module:attribute"; each module imports its heavy dependencies lazily.
COMMANDS = {
    "patch": "weditor.commands.patch:patch",
    "inspect": "weditor.commands.inspect:inspect",
    "probe": "weditor.commands.probe:probe",
    "push": "weditor.commands.push:push",
    "eval": "weditor.commands.eval:eval_",
    "diff": "weditor.commands.diff:diff",
    "verify": "weditor.commands.verify:verify",
    "attack": "weditor.commands.attack:attack",
}


# One-line help shown by `weditor --help` without importing the command modules.
SHORT_HELP = {
    "patch": "Erase concepts from a model and write a verified, patched copy.",
    "push": "Publish a patched folder to the Hugging Face Hub.",
    "probe": "Linear-probe separability of a concept per block (the REINS curve).",
    "diff": "List every tensor that differs between a base and a patched folder.",
    "verify": "Re-check a patched folder against its recipe, offline.",
    "inspect": "Show how weditor sees a model: blocks, edit sites, applicable methods.",
    "eval": "Before/after evidence: videos side by side, latent audit, report.",
    "attack": "Red-team a patched model: searched prompts that bring the concept back.",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx):
        return sorted(COMMANDS)

    def format_commands(self, ctx, formatter):
        rows = [
            (name, SHORT_HELP.get(name) or self.get_command(ctx, name).get_short_help_str())
            for name in self.list_commands(ctx)
        ]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def get_command(self, ctx, name):
        if name not in COMMANDS:
            return None
        module, attr = COMMANDS[name].split(":")
        return getattr(importlib.import_module(module), attr)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="weditor")
def main():
    """Closed-form safety edits for open-weight video diffusion models.

    Patched checkpoints are plain diffusers folders: load them with
    `WanPipeline.from_pretrained(OUT_DIR)`, no weditor needed.
    """
