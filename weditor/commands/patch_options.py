"""`weditor patch`'s option types and its help in sections (the common options first, then each method's)."""

from __future__ import annotations

import click

from weditor import defaults


def _rank(ctx, param, value):
    if value is None:
        return "auto"
    if str(value).lower() == "none":
        return "none"
    try:
        return int(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not an integer or 'none'") from None


def _size(ctx, param, value):
    if value is None:
        return None
    try:
        parts = [int(v) for v in value.lower().split("x")]
    except ValueError:
        parts = []
    if len(parts) != 3 or min(parts) < 1:
        raise click.BadParameter(f"{value!r}: expected HEIGHTxWIDTHxFRAMES, e.g. 256x256x17")
    for part, top, name in zip(parts, defaults.MAX_SIZE, ("height", "width", "frames")):
        if part > top:  # a typo, not a video: see defaults.MAX_SIZE
            raise click.BadParameter(
                f"{value!r}: {name} {part} is larger than {top} (at most {'x'.join(map(str, defaults.MAX_SIZE))})"
            )
    return tuple(parts)


# Seeds: 0 .. 2**63 - 1 (runs add per-prompt offsets to a 64-bit torch seed; see defaults.MAX_SEED).
SEED = click.IntRange(0, defaults.MAX_SEED)

# `--help` leads with what every patch uses; each method's own options follow under its name. Every
# option is declared once, in weditor/commands/patch.py, and validated once, in `PatchConfig.check`.
LEAD = ("pairs", "out", "removal", "device", "dtype", "offload", "recipe", "push_to_hub")
SECTIONS = {
    "Method and measurement": ("method", "no_tune", "twins", "strength", "steps", "size", "seed", "no_summary"),
    "--method refusal (the block-by-block edit)": ("layers", "site", "edit", "rank", "alpha", "neutral", "directions"),
    "--method text": ("harden",),
    "--method safree": ("safree_pool",),
    "--method uce": ("uce_tokens", "uce_substitute", "uce_preserve", "uce_lambda", "uce_rounds"),
    "--method encoder (the text encoder's last feed-forward output)": (
        "encoder_preserve",
        "encoder_lambda",
        "encoder_layers",
        "encoder_weights",
    ),
    "--method units (k hidden units of the text encoder's last feed-forward layer)": (
        "units",
        "units_preserve",
        "units_silence",
    ),
    "REINS (--reins on top of text or refusal, or --method reins)": ("reins", "reins_layer", "reins_strength"),
    "Model and output": ("revision", "overwrite", "copy_files", "private", "allow_pickle", "base_model", "license_id"),
}


class SectionedCommand(click.Command):
    """`weditor patch --help` in sections: the common options first, then one section per method."""

    def format_options(self, ctx, formatter):
        rows = {p.name: p.get_help_record(ctx) for p in self.get_params(ctx) if isinstance(p, click.Option)}
        placed = {n for names in SECTIONS.values() for n in names}
        lead = [n for n in LEAD if n in rows] + [n for n in rows if n not in placed and n not in LEAD]
        for title, names in (("Options", lead), *SECTIONS.items()):
            records = [rows[n] for n in names if rows.get(n)]
            if records:
                with formatter.section(title):
                    formatter.write_dl(records)


def encoder_options(f):
    """`--method encoder`'s options (the text encoder's FFN edit, weditor/methods/encoder.py), kept here so
    weditor/commands/patch.py stays one screen of declarations per method."""
    for option in reversed(_ENCODER_OPTIONS):
        f = option(f)
    return f


_ENCODER_OPTIONS = [
    click.option(
        "--encoder-preserve",
        "encoder_preserve",
        default=None,
        type=float,
        help="--method encoder: weight of the kept tokens (safe members and neutral prompts) against the mapped "
        f"ones; lower erases more and keeps the concept's parts elsewhere less. [default: {defaults.ENCODER_PRESERVE:g}; "
        f"{defaults.BLOCK_PRESERVE:g} with --encoder-weights block]",
    ),
    click.option(
        "--encoder-lambda",
        "encoder_lambda",
        default=None,
        type=float,
        help="--method encoder: ridge towards the original weight, relative to the kept hidden units' mean square. "
        f"[default: {defaults.ENCODER_LAMBDA:g}; {defaults.BLOCK_LAMBDA:g} with --encoder-weights block]",
    ),
    click.option(
        "--encoder-layers",
        "encoder_layers",
        default=defaults.ENCODER_LAYERS,
        show_default=True,
        type=click.IntRange(1, 64),
        help="--method encoder: how many of the text encoder's last feed-forward layers are edited (each fitted alone).",
    ),
    click.option(
        "--encoder-weights",
        "encoder_weights",
        default=defaults.ENCODER_WEIGHTS,
        show_default=True,
        type=click.Choice(defaults.ENCODER_WEIGHTS_CHOICES),
        help="--method encoder: wo = the closed form on the last feed-forward output; block = a fitted edit of the "
        f"last block's attention and feed-forward weights (defaults --encoder-preserve {defaults.BLOCK_PRESERVE:g}, "
        f"--encoder-lambda {defaults.BLOCK_LAMBDA:g}).",
    ),
]


def units_options(f):
    """`--method units`' options (repurposed units of the text encoder's last FFN, weditor/methods/units.py)."""
    for option in reversed(_UNITS_OPTIONS):
        f = option(f)
    return f


_UNITS_OPTIONS = [
    click.option(
        "--units",
        "units",
        default=defaults.UNITS,
        show_default=True,
        type=int,
        help="--method units: how many hidden units of the text encoder's last gated feed-forward layer are refitted "
        "(those whose removal moves the kept prompts least).",
    ),
    click.option(
        "--units-preserve",
        "units_preserve",
        default=defaults.UNITS_PRESERVE,
        show_default=True,
        type=float,
        help="--method units: weight of the kept tokens' outputs (safe members, neutral prompts); lower erases more.",
    ),
    click.option(
        "--units-silence",
        "units_silence",
        default=defaults.UNITS_SILENCE,
        show_default=True,
        type=float,
        help="--method units: weight of the refitted units' gate activation on the kept tokens (0: no penalty).",
    ),
]
