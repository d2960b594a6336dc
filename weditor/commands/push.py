"""`weditor push OUT_DIR USER/NAME`: publish a verified patched folder to the Hugging Face Hub.

`weditor patch --push-to-hub` calls the same `weditor.hub.push.push_folder`, so both paths refuse a
folder that no longer matches its recipe and fail with the same one-line errors.
"""

from __future__ import annotations

from pathlib import Path

import click


@click.command("push")
@click.argument("out_dir", type=click.Path(file_okay=False, path_type=Path))
@click.argument("repo_id", metavar="USER/NAME")
@click.option("--private", is_flag=True, help="Create the repository as private; refuse an existing public one.")
@click.option(
    "--endpoint", metavar="URL", default=None, help="Hub URL; defaults to HF_ENDPOINT or https://huggingface.co."
)
@click.option("--revision", metavar="BRANCH", default=None, help="Branch to push to (created if missing).")
@click.option(
    "--base",
    default=None,
    type=click.Path(file_okay=False),
    help="Base model folder to verify against (default: the recipe's base_model, if found locally).",
)
@click.option(
    "--allow-unverified-base",
    is_flag=True,
    help="Push even though the base model is not available to verify against (hash checks only).",
)
@click.option("--allow-pickle", is_flag=True, help="Read pickle-only (.bin) weights of the base to verify against it.")
@click.option(
    "--base-model",
    "base_model",
    default=None,
    metavar="ORG/NAME",
    help="Hub id of the base for the card's base_model, when the recipe's base is a local folder.",
)
@click.option(
    "--license", "license_id", default=None, metavar="ID", help="Licence id for the card (apache-2.0, mit, other, ...)."
)
@click.option(
    "--evidence",
    default=None,
    type=click.Path(file_okay=False, exists=True),
    metavar="EVAL_DIR",
    help="The --out folder of `weditor eval OUT_DIR` (with --attack for the ASR): its erasure, preservation "
    "and attack success rates go on the card.",
)
def push(
    out_dir: Path,
    repo_id: str,
    private: bool,
    endpoint: str | None,
    revision: str | None,
    base: str | None,
    allow_unverified_base: bool,
    allow_pickle: bool,
    base_model: str | None,
    license_id: str | None,
    evidence: str | None,
):
    """Verify OUT_DIR as `weditor verify` does and upload it to USER/NAME in one commit.

    The token comes from HF_TOKEN or `hf auth login`; it is never printed or stored by weditor.
    A folder without a model card gets one first (README.md, then added to weditor.json); with
    --base-model, --license or --evidence the card is rebuilt with them (and they are recorded in
    weditor.json's `card`), after the folder passed verification.
    """
    from weditor.hub import push as publish
    from weditor.io import card_meta
    from weditor.io import recipe as recipe_mod
    from weditor.pipeline import card

    checks = {"base": base, "allow_unverified_base": allow_unverified_base, "allow_pickle": allow_pickle}
    given = {
        "base_model": base_model and card_meta.check_base_model(base_model),
        "license": license_id and card_meta.check_license(license_id),
    }
    given = {k: v for k, v in given.items() if v}
    if evidence is not None:
        given["evidence"] = card_meta.evidence_record(evidence, out_dir)
    if given or (not (out_dir / card.CARD_NAME).is_file() and not (out_dir / card.CARD_NAME).is_symlink()):
        publish._verify(out_dir, **checks)  # the card re-hashes the folder: check it before blessing it
        if given:
            recipe = recipe_mod.load_recipe(out_dir)
            record = {**(recipe.get("card") if isinstance(recipe.get("card"), dict) else {}), **given}
            if "base_model" in given:
                record.pop("base_revision", None)  # a snapshot's commit belongs to the id found, not to this one
            recipe["card"] = record
            recipe_mod.write_recipe(out_dir, recipe)  # weditor.json is outside its own hash list
        card.finalize_card(out_dir, repo_id=repo_id)
        click.echo(f"wrote {out_dir / card.CARD_NAME}", err=True)
    url = publish.push_folder(out_dir, repo_id, private=private, endpoint=endpoint, revision=revision, **checks)
    click.echo(url)
