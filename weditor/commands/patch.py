"""`weditor patch`: the whole job in one command."""

from __future__ import annotations

import click

from weditor import defaults
from weditor.commands.patch_options import SEED, SectionedCommand, _rank, _size, encoder_options, units_options

# Options that are not PatchConfig fields of the same name: the recipe's own, the Hub's and the card's (read apart),
# and the three flags whose field is their negation. Every other option is passed to PatchConfig as it is, so a new
# option needs only its decorator and its field.
_NOT_FIELDS = ("recipe", "private", "base_model", "license_id", "no_summary", "copy_files", "no_tune")
# What a recipe may be given with: where and how the patch is written, not what it is.
_WITH_RECIPE = (
    "recipe",
    "out",
    "model",
    "device",
    "overwrite",
    "no_summary",
    "copy_files",
    "push_to_hub",
    "private",
    "offload",
    "allow_pickle",
    "base_model",
    "license_id",
)


@click.command(cls=SectionedCommand)
@click.argument("model", required=False, default=defaults.BUILTIN_MODEL)
@click.option(
    "--pairs",
    "pairs",
    multiple=True,
    type=click.Path(dir_okay=False),
    help="Pair file (TOML); repeat to erase several concepts in one patch.",
)
@click.option(
    "--out", required=True, type=click.Path(file_okay=False), help="Output folder (a new diffusers pipeline)."
)
@click.option(
    "--method",
    default=None,
    type=click.Choice(defaults.METHODS),
    help="text: the read-out edit on the prompt embeddings, folded into the linears that read them (--removal, "
    "--strength apply); refusal: the low-rank refusal edit of every block's video tokens (--site, "
    "--layers, --rank, --alpha ...); reins: the REINS bias fold alone; safree: SAFREE's keyword-subspace "
    "projection folded into the text-input linears; uce: the closed-form edit of every cross-attention key and "
    "value (--uce-* options; docs/method.md); encoder: the closed-form edit of the text encoder's last "
    "feed-forward output, for a concept only its context defines (a colour on one shape; --encoder-* options); "
    "units: a few hidden units of that feed-forward layer refitted, a non-linear edit for the same (--units-*) "
    '[default: searched (docs/method.md, "Self-tuning"); with --no-tune text, refusal for pairs '
    "with images].",
)
@click.option(
    "--layers",
    default=defaults.LAYERS,
    show_default=True,
    help="--method refusal: blocks to edit: indices (17,18), ranges (10-12), fractions of depth (0.5, 0.75-1.0).",
)
@click.option(
    "--site",
    default=None,
    help="--method refusal: which linear(s) in each block; default: the model family's (Wan, LTX: cross_attn_out; "
    "others: ffn_in). `weditor inspect MODEL` lists them.",
)
@click.option(
    "--edit",
    "edit",
    default=defaults.EDIT,
    show_default=True,
    type=click.Choice(defaults.EDITS),
    help="--method refusal: how much is removed along the directions: 'readout' a least-squares read-out of the concept "
    "(other concepts kept), 'projection' everything along them (the paper's; docs/method.md).",
)
@click.option(
    "--removal",
    default=defaults.REMOVAL,
    show_default=True,
    type=float,
    help="--method text and --edit readout: share of each concept's mean paired difference removed on its pairs; lower keeps "
    "other concepts better and erases less.",
)
@click.option(
    "--rank",
    "rank",
    default=None,
    callback=_rank,
    help=f"--method refusal (and safree): size k of the concept subspace; 'none' keeps the plain mean difference [default: none with "
    f"--edit readout, {defaults.RANK} with --edit projection].",
)
@click.option(
    "--alpha",
    default=defaults.ALPHA,
    show_default=True,
    type=float,
    help="--method refusal: weight of the neutral covariance in the contrastive PCA (0: plain PCA).",
)
@click.option(
    "--strength",
    "strength",
    default=None,
    type=float,
    help=f"Lambda, the share of the fitted removal applied [default: {defaults.READOUT_STRENGTH}; --edit "
    f"projection: {defaults.STRENGTH} (1 removes the direction exactly); --method safree: "
    f"{defaults.SAFREE_STRENGTH}].",
)
@click.option(
    "--neutral",
    "neutral",
    default=defaults.NEUTRAL,
    show_default=True,
    type=click.Choice(("prompt", "raw")),
    help="--method refusal: neutral covariance for the contrastive PCA: 'prompt' centres neutral prompts that share one noise "
    "on each other (how prompts move activations); 'raw' uses them as they are (docs/method.md).",
)
@click.option(
    "--directions",
    default=1,
    show_default=True,
    type=int,
    help="--method refusal: directions removed per concept and layer.",
)
@click.option(
    "--steps",
    default=defaults.STEPS,
    show_default=True,
    type=int,
    help="Denoising steps per collection run (the summary and the self-check run 3).",
)
@click.option("--size", default=None, callback=_size, help="Collection HEIGHTxWIDTHxFRAMES (default per model).")
@click.option("--seed", default=0, show_default=True, type=SEED)
@click.option("--device", default=None, help="cpu, cuda, cuda:1 ... (default: cuda if available).")
@click.option(
    "--dtype", default=None, type=click.Choice(defaults.DTYPE_NAMES), help="Compute dtype (default: as stored)."
)
@click.option("--revision", default=None, help="Hub revision of MODEL.")
@click.option("--overwrite", is_flag=True, help="Replace OUT if it exists.")
@click.option("--no-summary", is_flag=True, help="Skip the before/after measurement (faster).")
@click.option(
    "--batch",
    default=None,
    type=click.IntRange(1, 4096),
    help="Summary prompts per denoiser forward (default: 32, halved while the device runs out of memory).",
)
@click.option(
    "--copy",
    "copy_files",
    is_flag=True,
    help="Copy unchanged files instead of hard-linking them to the base (links need one file system).",
)
@click.option(
    "--offload",
    is_flag=True,
    help="For models larger than the GPU: keep the weights in CPU memory and move one block at a time "
    "to --device (diffusers group offloading; slower, same patch).",
)
@click.option(
    "--safree-pool",
    default=defaults.SAFREE_POOL,
    show_default=True,
    type=click.Choice(("mean", "tokens")),
    help="--method safree: one vector per keyword (mean of its tokens) or every token; --rank caps the subspace.",
)
@click.option(
    "--uce-tokens",
    "uce_tokens",
    default=defaults.UCE_TOKENS,
    show_default=True,
    type=click.Choice(("all", "changed")),
    help="--method uce: map every aligned token of each unsafe prompt onto its safe twin's ('all'), or only "
    "the substituted and deleted ones ('changed', UCE's concept word).",
)
@click.option(
    "--uce-substitute",
    "uce_substitute",
    default=defaults.UCE_SUBSTITUTE,
    show_default=True,
    type=click.Choice(("pair", "common")),
    help="--method uce: map each unsafe prompt onto its own safe twin ('pair'), or onto the twin made with the "
    "concept's most frequent substitute ('common': one target per concept instead of their average).",
)
@click.option(
    "--uce-preserve",
    "uce_preserve",
    default=defaults.UCE_PRESERVE,
    show_default=True,
    type=float,
    help="--method uce: weight of the kept tokens (safe members and neutral prompts) against the mapped ones.",
)
@click.option(
    "--uce-lambda",
    "uce_lambda",
    default=defaults.UCE_LAMBDA,
    show_default=True,
    type=float,
    help="--method uce: ridge towards the original weights, relative to the kept tokens' mean squared norm / width.",
)
@click.option(
    "--uce-rounds",
    "uce_rounds",
    default=defaults.UCE_ROUNDS,
    show_default=True,
    type=int,
    help="--method uce: RECE rounds: re-erase the embeddings the edited keys and values still read as the concept.",
)
@encoder_options
@units_options
@click.option(
    "--reins",
    is_flag=True,
    help="With --method text or refusal: also fold the REINS steering vector into the ungated residual write "
    "(docs/reins.md).",
)
@click.option(
    "--reins-layer",
    default=defaults.REINS_LAYER,
    show_default=True,
    help="The one block REINS steers at: an index or a fraction of depth.",
)
@click.option(
    "--reins-strength",
    default=defaults.REINS_STRENGTH,
    show_default=True,
    type=float,
    help="REINS alpha relative to the mean hidden-state norm at that block (weditor probe: gap/norm).",
)
@click.option(
    "--harden",
    default=0,
    show_default=True,
    type=int,
    help="--method text: rounds of hardening: attack the edit (weditor attack's token search on each pair), "
    "add the prompts found as unsafe samples, refit (docs/attack.md).",
)
@click.option(
    "--no-tune",
    "no_tune",
    is_flag=True,
    help="Keep the fixed settings (0.4's defaults, or the options given) instead of searching the method and "
    'its settings on a held-out split of the pairs (docs/method.md, "Self-tuning").',
)
@click.option(
    "--twins",
    default="pair",
    show_default=True,
    type=click.Choice(defaults.TWINS),
    help="The safe twins every method fits: the pairs' own, or each unsafe prompt with its changed word dropped "
    "('deleted'; the search tries it itself where its first choice leaves a concept below the warning line and "
    "that file's twins substitute many different words: docs/method.md).",
)
@click.option(
    "--recipe",
    type=click.Path(dir_okay=False),
    help="Reproduce the patch recorded in a weditor.json (its pair files must sit next to it).",
)
@click.option(
    "--push-to-hub",
    "push_to_hub",
    default=None,
    metavar="USER/NAME",
    help="After a verified patch, publish OUT to the Hub (one commit, with a model card).",
)
@click.option("--private", is_flag=True, help="With --push-to-hub: create the repository as private.")
@click.option(
    "--allow-pickle",
    "allow_pickle",
    is_flag=True,
    help="Accept a base whose weights exist only as pickles (.bin): read them with "
    "torch.load(weights_only=True) and write safetensors (docs/reliability.md).",
)
@click.option(
    "--base-model",
    "base_model",
    default=None,
    metavar="ORG/NAME",
    help="Hub id of the base, for the card's base_model (the Hub's model tree) when MODEL is a local folder; "
    "a Hugging Face cache snapshot's id and revision are found by themselves.",
)
@click.option(
    "--license",
    "license_id",
    default=None,
    metavar="ID",
    help="Licence id for the card (apache-2.0, mit, other, ...) [default: the base model card's].",
)
def patch(**opts):
    """Erase the concept(s) in PAIRS from MODEL and write a patched copy to OUT.

    MODEL is a local diffusers pipeline folder or a Hub id; by default the embedded shapes
    model. The result loads with the stock pipeline class, e.g.
    `WanPipeline.from_pretrained(OUT)`.
    """
    from weditor.io.hub_access import check_hub_model

    model, recipe, revision = opts["model"], opts["recipe"], opts["revision"]
    if recipe is None:
        check_hub_model(model, revision)  # an unreachable Hub: one line in seconds, before torch and diffusers load
    import torch

    from weditor.errors import WeditorError
    from weditor.io.card_meta import check_base_model, check_license
    from weditor.pipeline.config import PatchConfig
    from weditor.pipeline.run import run_patch
    from weditor.pipeline.tuning import TUNED_FIELDS

    ctx = click.get_current_context()
    given = {p.name for p in ctx.command.params if ctx.get_parameter_source(p.name).name == "COMMANDLINE"}
    card = {
        "base_model": opts["base_model"] and check_base_model(opts["base_model"]),
        "license": opts["license_id"] and check_license(opts["license_id"]),
    }
    card = {k: v for k, v in card.items() if v}
    device = opts["device"] or ("cuda" if torch.cuda.is_available() else "cpu")
    if recipe is not None:
        explicit = [p.name for p in ctx.command.params if p.name in given and p.name not in _WITH_RECIPE]
        if explicit:
            raise WeditorError(f"--recipe: the recipe fixes every parameter; drop --{explicit[0].replace('_', '-')}")
        from weditor.pipeline.reproduce import config_from_recipe

        cfg = config_from_recipe(
            recipe,
            opts["out"],
            model if "model" in given else None,
            device=device,
            overwrite=opts["overwrite"],
            summary=not opts["no_summary"],
            link=not opts["copy_files"],
            push_to_hub=opts["push_to_hub"],
            offload=opts["offload"],
            allow_pickle=opts["allow_pickle"],
        )
        cfg.card = {**(cfg.card or {}), **card} or None
        check_hub_model(cfg.model, cfg.revision)
    else:
        if not opts["pairs"]:
            raise WeditorError("--pairs: give at least one pair file (or --recipe weditor.json)")
        fields = {k: v for k, v in opts.items() if k not in _NOT_FIELDS}
        cfg = PatchConfig(
            **fields
            | {
                "pairs": list(opts["pairs"]),
                "rank": None if opts["rank"] == "none" else opts["rank"],
                "rank_explicit": opts["rank"] != "auto",
                "device": device,
                "summary": not opts["no_summary"],
                "link": not opts["copy_files"],
                "tune": not opts["no_tune"],
                "pinned": tuple(n for n in TUNED_FIELDS if n in given),
                "card": card or None,
            }
        )
    result = run_patch(cfg)
    print_summary(result)
    _push(result, opts["push_to_hub"], opts["private"], opts["allow_pickle"])


def _push(result, repo_id, private, allow_pickle=False):
    if repo_id is None:
        return
    from weditor.hub.push import push_folder

    # the same verification as `weditor push`; the base was just read, so it is there to compare with
    url = push_folder(result.out_dir, repo_id, private=private, allow_pickle=allow_pickle)
    click.echo(f"  pushed: {url}")


def print_summary(result):
    from weditor.pipeline.summary import Summary

    for line in Summary.of(result).terminal_lines():
        click.echo(line)
