"""The model card (`README.md`) of a patched checkpoint.

A safety patch that ships without saying what it removed, how well, and what it cannot promise
invites misplaced trust, so every output folder gets a card built only from its `weditor.json`
(and, for the licence, the base model's own card). The metadata goes through huggingface_hub's
`ModelCardData` so the Hub's model tree, filters and licence badge read it as they read any card.

`base_model_relation` is `finetune`. The Hub accepts four values (adapter, merge, quantized,
finetune; huggingface_hub 2.4 passes the field through untouched and the Hub validates it):
the patched folder is a complete set of weights (not an adapter loaded on top of the base),
derived from a single parent (not a merge), at the base's precision (not a quantization), with
some tensors changed. "finetune" is the Hub's relation for changed weights, which is what a weight
edit is, even though no gradient step was taken; the card body says how the weights were changed.

The card is covered by the recipe's file hashes like every other file: `finalize_card` writes it
and then re-hashes the folder, so `weditor verify` and `weditor push` accept it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import tomllib

from weditor import __version__
from weditor.io import recipe as recipe_mod
from weditor.io.recipe import CARD_NAME
from weditor.pipeline.card_tables import _code, _flatten, _plain, _table, evidence_section, is_empty
from weditor.pipeline.card_tuning import tuning_section
from weditor.pipeline.card_usage import example_prompt, usage_block
from weditor.pipeline.summary import Summary

BASE_MODEL_RELATION = "finetune"
TAGS = ("weditor", "safety", "concept-erasure")
GRID_EXTENSIONS = (".png", ".jpg", ".jpeg", ".webp", ".gif")
MAX_EDIT_ROWS = 40

# Hub task ids per pipeline class; the fallbacks in `pipeline_tag` cover other video pipelines.
PIPELINE_TAGS = {
    "I2VGenXLPipeline": "image-to-video",  # its call takes `image=`, as the usage block passes it
    "PIAPipeline": "image-to-video",
    "WanPipeline": "text-to-video",
    "WanImageToVideoPipeline": "image-to-video",
    "WanVideoToVideoPipeline": "video-to-video",
}


def method_note(recipe: dict) -> str | None:
    """The edit's description: its method's card paragraph, then the REINS fold's, where there is one."""
    from weditor.methods.registry import card_note

    return card_note(recipe)


LIMITATIONS = """\
Weight edits lower how often the model produces the removed concepts; they do not make it impossible.

- **Measured on a handful of prompts.** The figures above come from the held-out prompts in the pair
  files, a few seeds each. They are evidence for those prompts, not a guarantee for every prompt.
- **Paraphrases and adversarial prompts can still reach the concept.** Synonyms, misspellings, other
  languages, long indirect descriptions, optimised prompts and (for image-to-video) input images that
  already show the concept can route around an edit made from a few example pairs.
- **Fine-tuning can undo it.** Anyone with the weights can train the concept back in, often with few
  steps; the edit is a default, not a lock.
- **It is not a content filter.** Nothing here inspects prompts or outputs at run time. Deployments that
  must not show a concept still need input and output moderation.
- **Side effects.** Nearby concepts can degrade along with the removed one; the neutral-prompt figures
  above, where present, are the only measurement of that, and they are small samples too.
"""


def pipeline_tag(pipeline_class: str | None) -> str | None:
    """The Hub task for a diffusers pipeline class; None when it cannot be told from the name."""
    if not pipeline_class:
        return None
    if pipeline_class in PIPELINE_TAGS:
        return PIPELINE_TAGS[pipeline_class]
    for marker, tag in (
        ("ImageToVideo", "image-to-video"),
        ("VideoToVideo", "video-to-video"),
        ("TextToVideo", "text-to-video"),
    ):
        if marker in pipeline_class:
            return tag
    return None


def is_hub_id(model_id: str | None) -> bool:
    """Only a `namespace/name` id can be a `base_model`: the Hub links it, a local folder name it can't."""
    if not model_id or Path(model_id).is_absolute() or model_id.startswith("."):
        return False
    return re.fullmatch(r"[A-Za-z0-9][\w.-]*/[\w.-]+", model_id) is not None and ".." not in model_id


def _load_card(path: Path):
    from huggingface_hub import ModelCard

    try:
        return ModelCard.load(path, ignore_metadata_errors=True)
    except Exception:  # a malformed base card must not stop the patch; the licence is then unknown
        return None


def base_licence(recipe: dict, out_dir: Path, base_dir: str | Path | None = None) -> dict:
    """`license`, `license_name`, `license_link` of the base model, from the first card found.

    Looked up, without network, in: the base folder given by the caller, the card already in the output
    folder (the base's, or an earlier weditor card that carried it over), and the local Hugging Face
    cache for the base id. An unknown licence is left out rather than guessed.
    """
    candidates: list[Path] = []
    if base_dir is not None:
        candidates.append(Path(base_dir) / CARD_NAME)
    base_id = (recipe.get("base_model") or {}).get("id")
    if base_id and Path(base_id).is_dir():
        candidates.append(Path(base_id) / CARD_NAME)
    candidates.append(out_dir / CARD_NAME)
    meta = recipe.get("card") if isinstance(recipe.get("card"), dict) else {}
    hub_id = meta["base_model"] if "base_model" in meta else base_id
    if is_hub_id(hub_id):
        try:
            from huggingface_hub import try_to_load_from_cache

            revision = (
                meta.get("base_revision")
                if meta.get("base_model")
                else (recipe.get("base_model") or {}).get("revision")
            )
            cached = try_to_load_from_cache(hub_id, CARD_NAME, revision=revision)
            if isinstance(cached, str):
                candidates.append(Path(cached))
        except Exception:
            pass
    for path in candidates:
        if not path.is_file():
            continue
        card = _load_card(path)
        if card is None or not getattr(card.data, "license", None):  # a weditor card's licence came from the base
            continue
        return {
            k: getattr(card.data, k, None)
            for k in ("license", "license_name", "license_link")
            if getattr(card.data, k, None)
        }
    return {}


# -- card ----------------------------------------------------------------------------------------


def _concepts(recipe: dict, out_dir: Path) -> list[tuple[str, str, str]]:
    """(concept, description, pair file) for each pair file in the recipe, descriptions read from the copies."""
    out = []
    names = (recipe.get("card") or {}).get("pair_files") or {}
    for pair in recipe.get("pairs") or []:
        description = ""
        path = out_dir / pair.get("path", "")
        if path.is_file():
            try:
                description = str(tomllib.loads(path.read_text(encoding="utf-8")).get("description", ""))
            except (tomllib.TOMLDecodeError, UnicodeDecodeError, RecursionError):  # a folder to push may hold anything
                pass
        out.append((pair.get("concept", "?"), description, names.get(pair.get("concept"), pair.get("path", ""))))
    return out


def _grid(out_dir: Path) -> str | None:
    folder = out_dir / "weditor"
    if not folder.is_dir():
        return None
    images = sorted(p for p in folder.iterdir() if p.suffix.lower() in GRID_EXTENSIONS and "grid" in p.stem)
    return images[0].relative_to(out_dir).as_posix() if images else None


def _edits_section(recipe: dict) -> str:
    edits = recipe.get("edits") or []
    note = method_note(recipe)
    lines = [f"- **Method:** {_code(recipe.get('method', 'unknown'))}" + (f": {note}" if note else "")]
    if edits:
        components = sorted({e.get("component", "?") for e in edits})
        blocks = sorted({int(m.group(1)) for e in edits if (m := re.search(r"blocks\.(\d+)\.", e.get("tensor", "")))})
        ranks = sorted({e["rank"] for e in edits if isinstance(e.get("rank"), int)})
        lines.append(f"- **Edited tensors:** {len(edits)} in {', '.join(_code(c) for c in components)}")
        if blocks:
            lines.append(f"- **Blocks:** {', '.join(map(str, blocks))}")
        if ranks:
            lines.append(f"- **Rank per edit:** {', '.join(map(str, ranks))}")
    else:
        lines.append("- **Edited tensors:** none recorded")
    out = "\n".join(lines)
    # records (lists of objects, e.g. the read-outs) are the summary's tables, and empty values say nothing
    params = [
        (k, v)
        for k, v in _flatten(recipe.get("params") or {})
        if k and not is_empty(v) and not (isinstance(v, list) and any(isinstance(x, dict) for x in v))
    ]
    if params:
        out += "\n\nThe parameters of the run (all of them, unrounded, in `weditor.json`):\n\n" + _table(
            ("Parameter", "Value"), params
        )
    if edits:
        rows = [
            (e.get("component", ""), e.get("tensor", ""), e.get("kind", ""), e.get("rank", ""))
            for e in edits[:MAX_EDIT_ROWS]
        ]
        table = _table(("Component", "Tensor", "Kind", "Rank"), rows)
        if len(edits) > MAX_EDIT_ROWS:
            table += f"\n\n... and {len(edits) - MAX_EDIT_ROWS} more, listed in `weditor.json`."
        out += f"\n\n<details><summary>Edited tensors</summary>\n\n{table}\n\n</details>"
    return out


def _title(base_id: str | None, hub_id: str | None, names: list[str], repo_id: str | None) -> str:
    """The repository's name once pushed, else the base's name and what was erased: never the output
    folder's name, so two runs of one recipe into two folders write the same card."""
    if repo_id:
        return repo_id.split("/")[-1]
    base = (hub_id or str(base_id or "model")).rstrip("/").split("/")[-1].split(":")[-1]
    return f"{base} without {', '.join(names)}" if names else f"{base}, patched"


def build_card(out_dir: str | Path, base_dir: str | Path | None = None, repo_id: str | None = None):
    """The card for a patched folder, from its recipe; `repo_id` only changes the title and the usage snippet."""
    from huggingface_hub import ModelCard, ModelCardData

    out_dir = Path(out_dir)
    recipe = recipe_mod.load_recipe(out_dir)
    base = recipe.get("base_model") or {}
    meta = recipe.get("card") if isinstance(recipe.get("card"), dict) else {}
    base_id = base.get("id")
    hub_id = meta["base_model"] if "base_model" in meta else (base_id if is_hub_id(base_id) else None)
    revision = meta.get("base_revision") if meta.get("base_model") else base.get("revision")
    pipeline_class = base.get("pipeline_class") or _model_index_class(out_dir) or "DiffusionPipeline"
    if not (isinstance(pipeline_class, str) and pipeline_class.isidentifier() and pipeline_class.isascii()):
        pipeline_class = "DiffusionPipeline"  # it is pasted into a Python snippet
    tag = pipeline_tag(pipeline_class)
    concepts = _concepts(recipe, out_dir)
    names = [c for c, _, _ in concepts]
    licence = {"license": meta["license"]} if meta.get("license") else base_licence(recipe, out_dir, base_dir)

    data = ModelCardData(
        base_model=hub_id,
        library_name="diffusers",
        pipeline_tag=tag,
        tags=list(TAGS) + [n for n in names if n not in TAGS],
        **licence,
        **({"base_model_relation": BASE_MODEL_RELATION} if hub_id else {}),
    )

    base_link = f"[{hub_id}](https://huggingface.co/{hub_id})" if hub_id else _code(base_id)
    revision = f" at revision {_code(revision)}" if revision else ""
    erased = ", ".join(f"**{_plain(n)}**" for n in names) or "the configured concepts"
    grid = _grid(out_dir)
    prompt = example_prompt([out_dir / str(p.get("path", "")) for p in recipe.get("pairs") or []])

    sections = [
        f"# {_plain(_title(base_id, hub_id, names, repo_id))}",
        f"{base_link}{revision} with {erased} erased by closed-form weight edits, made with "
        f"weditor {_plain(recipe.get('weditor_version', __version__))}. It is a plain diffusers checkpoint: "
        f"stock diffusers loads it with `{pipeline_class}`; weditor is not needed to run it.",
        "## Usage\n\n" + usage_block(pipeline_class, tag, repo_id, prompt, base_id),
        "## What was removed\n\n"
        + (
            _table(("Concept", "Description", "Pair file"), concepts)
            if concepts
            else "No pair files are recorded in `weditor.json`."
        ),
        "## How\n\n" + _edits_section(recipe),
        "## Measured effect\n\nFigures measured by `weditor patch` on held-out prompts, before and after "
        "the edit (from `weditor.json`):\n\n" + Summary(recipe, recipe.get("summary") or {}).card_markdown(),
    ]
    evidence = evidence_section(meta.get("evidence"))
    if evidence:
        sections.append(evidence)

    tuned = tuning_section(recipe)
    if tuned:
        sections.append(tuned)
    if grid:
        sections.append(f"Frames from the same prompts and seeds, before and after:\n\n![Frame grid]({grid})")
    verification = recipe.get("verification")
    if isinstance(verification, dict) and verification:
        sections.append(
            "## Verification\n\nBefore the folder was written out, it was reloaded with stock "
            f"`{pipeline_class}` and compared with the edit held in memory (every tensor equal to the base "
            "or to the intended edit, denoiser outputs on fixed inputs):\n\n"
            + _table(
                ("Check", "Value"), [(k.replace("_", " "), v) for k, v in _flatten(verification) if not is_empty(v)]
            )
        )
    sections += [
        "## Limitations\n\n" + LIMITATIONS.strip(),
        "## Reproduce\n\n"
        "`weditor.json` records the base model, its revision, the SHA-256 of the pair files (copied under "
        "`weditor/pairs/`) and every parameter of the run. With the pair files in place:\n\n"
        "```bash\nweditor patch --recipe weditor.json --out OUT\n```\n\n"
        "It also lists the SHA-256 of every file in this folder, this card included, so a download can be "
        "checked with `weditor verify OUT_DIR`.",
    ]
    if not data.license:
        sections.append("## Licence\n\nThe base model's licence applies; see its model card.")
    body = "\n\n".join(sections) + "\n"
    return ModelCard(f"---\n{data.to_yaml()}\n---\n\n{body}")


def _model_index_class(out_dir: Path) -> str | None:
    try:
        value = json.loads((out_dir / "model_index.json").read_text(encoding="utf-8")).get("_class_name")
    except (OSError, ValueError):
        return None
    return value if isinstance(value, str) else None


def write_card(out_dir: str | Path, base_dir: str | Path | None = None, repo_id: str | None = None) -> Path:
    """Write `README.md`; the recipe's hashes are then stale, so callers want `finalize_card`."""
    card = build_card(out_dir, base_dir=base_dir, repo_id=repo_id)
    # replace, never write in place: README.md may be a hard link to the base model's card
    return recipe_mod.replace_file(Path(out_dir) / CARD_NAME, str(card).encode("utf-8"))


def finalize_card(out_dir: str | Path, base_dir: str | Path | None = None, repo_id: str | None = None) -> Path:
    """Write the card, then re-hash the folder into `weditor.json` so the card is covered too.

    Re-hashing trusts whatever is in the folder now, so call it only on a folder just written by
    `weditor patch` or just verified.
    """
    path = write_card(out_dir, base_dir=base_dir, repo_id=repo_id)
    recipe = recipe_mod.load_recipe(out_dir)
    recipe["files"] = recipe_mod.hash_files(out_dir, reuse=True)  # only what changed is read again
    recipe_mod.write_recipe(out_dir, recipe)
    return path
