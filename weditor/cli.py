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
    "push": "weditor.commands.push:push",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx):
        return sorted(COMMANDS)

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
