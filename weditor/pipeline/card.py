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

import html
import json
import re
import tomllib
import unicodedata
from pathlib import Path

from weditor import __version__
from weditor.io import recipe as recipe_mod

CARD_NAME = "README.md"
BASE_MODEL_RELATION = "finetune"
TAGS = ("weditor", "safety", "concept-erasure")
GRID_EXTENSIONS = (".png", ".jpg", ".jpeg", ".webp", ".gif")
MAX_EDIT_ROWS = 40
LABEL_KEYS = ("site", "name", "metric", "concept", "prompt")

# Hub task ids per pipeline class; the fallbacks in `pipeline_tag` cover other video pipelines.
PIPELINE_TAGS = {
    "WanPipeline": "text-to-video",
    "WanImageToVideoPipeline": "image-to-video",
    "WanVideoToVideoPipeline": "video-to-video",
}

_REFUSAL = (
    "a low-rank refusal vector (after Facchiano et al., \"Video Unlearning via Low-Rank Refusal Vector\"). "
    "Per-token activation differences between prompts that differ only by the concept, under the same "
    "noise, give a concept direction Q per edited layer; "
)
METHOD_NOTES = {
    "projection": _REFUSAL + (
        "kept within a low-rank subspace that discounts the variance of neutral prompts, each edited linear layer "
        "is then projected so that it no longer reads along that direction, `W <- W (I - strength Q^T Q)`, or no "
        "longer writes along it into the residual stream, `W <- (I - strength Q^T Q) W` (the edited sites are "
        "listed below). Closed form: no gradient training."
    ),
    "readout": _REFUSAL + (
        "each edited linear layer then removes, along Q, a least-squares read-out `A x + a` of how much of the "
        "concept a token carries (fitted so that the unsafe prompts lose their difference and the safe and "
        "neutral prompts lose nothing): `W <- W (I - strength Q^T A)` on a layer that reads the residual stream, "
        "`W <- (I - strength Q^T A) W`, `b <- (I - strength Q^T A) b - strength Q^T a` on one that writes into it "
        "(the edited sites are listed below; A and a are in `weditor/readout.safetensors`). Closed form: no "
        "gradient training."
    ),
    "text": (
        "a least-squares read-out of the concept, removed from the prompt embeddings the denoiser reads. Prompts "
        "that differ only by the concept give a direction Q in the text-embedding space (their mean difference); "
        "a read-out `A x` of how much of the concept each token carries is fitted so that the unsafe prompts lose "
        "their difference and the safe and neutral prompts lose nothing, and folded into the linear layers that "
        "read the embeddings, `W <- W (I - strength Q^T A)` (the text encoder is unchanged; A is in "
        "`weditor/readout.safetensors`). Closed form: no gradient training."
    ),
    "uce": (
        "Unified Concept Editing's closed-form edit of the cross-attention keys and values (after Gandikota et al., "
        "\"Unified Concept Editing in Diffusion Models\"). Each unsafe prompt's tokens, as the cross-attention reads "
        "them, are aligned with its safe twin's by a diff of the token ids (equal to equal, substituted to "
        "substituted, deleted to the padding vector); every key and value projection `W` of every block is replaced "
        "by the least-squares `W M` that maps the unsafe tokens onto their twins while keeping the tokens of the safe "
        "and neutral prompts, `M = (X + p P + lam I)(E + p P + lam I)^-1` (the parameters are listed below; `I - M` "
        "is stored factored as `Q^T A` in `weditor/directions.safetensors` and `weditor/readout.safetensors`). "
        "Closed form: no gradient training."
    ),
}


REINS_NOTE = (
    " A REINS steering vector (the supervised-PCA direction separating unsafe from safe prompts in one block's "
    "pooled hidden states, scaled by `alpha`) is added to the bias of that block's ungated write, `b <- b + alpha d` "
    "(`weditor/reins.safetensors`)."
)


def method_note(recipe: dict) -> str | None:
    """The edit's description: the refusal edit's projection or read-out (recipes before 0.3 have no `edit`:
    projection), or the text read-out; then the REINS fold, where there is one."""
    methods = str(recipe.get("method", "")).split("+")
    if "text" in methods:
        note = METHOD_NOTES["text"]
    elif "uce" in methods:
        note = METHOD_NOTES["uce"]
    elif "refusal" in methods:
        note = METHOD_NOTES.get((recipe.get("params") or {}).get("edit", "projection"))
    else:
        note = None
    if "reins" in methods:
        note = note + REINS_NOTE if note else REINS_NOTE.strip()
    return note


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
    for marker, tag in (("ImageToVideo", "image-to-video"), ("VideoToVideo", "video-to-video"),
                        ("TextToVideo", "text-to-video")):
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
    if is_hub_id(base_id):
        try:
            from huggingface_hub import try_to_load_from_cache

            cached = try_to_load_from_cache(base_id, CARD_NAME, revision=(recipe.get("base_model") or {}).get("revision"))
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
        return {k: getattr(card.data, k, None) for k in ("license", "license_name", "license_link")
                if getattr(card.data, k, None)}
    return {}


# -- markdown helpers ----------------------------------------------------------------------------
# Every string the card shows that a user or a base model chose (prompts, descriptions, folder and
# model names, parameters) goes through `_plain`, `_code` or `_py_string`: the card is hashed, pushed
# and rendered by the Hub, so `<script>` must arrive as text, and invisible characters (NUL, a
# right-to-left override) as visible escapes. Ordinary strings come out unchanged.


def _plain(value) -> str:
    """A user string as Markdown text: `&`, `<`, `>` HTML-escaped; control, format (bidi, zero-width)
    and other non-characters shown as `\\uXXXX`."""
    text = html.escape(str(value), quote=False)
    return "".join(f"\\u{ord(c):04x}" if unicodedata.category(c)[0] == "C" else c for c in text)


def _code(value) -> str:
    """An inline code span for a name, when it can be one literally; otherwise the escaped text."""
    text = str(value)
    if text and text.isprintable() and "`" not in text and html.escape(text, quote=False) == text:
        return f"`{text}`"
    return _plain(text)


def _py_string(value: str) -> str:
    """A Python string literal for a code block: JSON's escapes (quotes, backslashes, non-printable
    characters) plus `<`, `>`, `&` as `\\u003c`..., which Python reads back as the same string."""
    text = json.dumps(value, ensure_ascii=not value.isprintable())
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _cell(value) -> str:
    if isinstance(value, float):
        text = f"{value:.4g}"
    elif isinstance(value, (dict, list, tuple)):
        text = json.dumps(value, sort_keys=True)
    else:
        text = str(value)
    if len(text) > 120:
        text = text[:117] + "..."
    return _plain(text.replace("\n", " ")).replace("|", "\\|")


def _table(header: tuple[str, ...], rows: list[tuple]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _flatten(obj, prefix: str = "") -> list[tuple[str, object]]:
    if isinstance(obj, dict) and obj:
        out = []
        for key in sorted(obj, key=str):
            out += _flatten(obj[key], f"{prefix}.{key}" if prefix else str(key))
        return out
    return [(prefix, obj)]


def _is_scalar(value) -> bool:
    return value is None or isinstance(value, (int, float, str, bool))


def _split_summary(summary) -> tuple[list[tuple], list[tuple], list[tuple[str, list]]]:
    """(measure, before, after) rows, (measure, value) rows and (title, records) tables.

    `weditor patch` owns the summary's layout, so the usual shapes are all recognised rather than
    one: `{"x": {"before": 1, "after": 0}}`, `{"before": {...}, "after": {...}}`,
    `{"x_before": 1, "x_after": 0}`, and lists of records (per-site figures) as their own table.
    """
    paired: list[tuple] = []
    single: list[tuple] = []
    tables: list[tuple[str, list]] = []

    def join(label: str, key) -> str:
        return f"{label} / {key}" if label else str(key)

    def walk(obj, label: str):
        if isinstance(obj, list) and obj and all(isinstance(x, dict) for x in obj):
            tables.append((label or "records", obj))
            return
        if not isinstance(obj, dict):
            single.append((label or "value", obj))
            return
        rest = dict(obj)
        before, after = obj.get("before"), obj.get("after")
        if "before" in obj and "after" in obj and _is_scalar(before) and _is_scalar(after):
            paired.append((label or "value", before, after))
            del rest["before"], rest["after"]
        elif isinstance(before, dict) and isinstance(after, dict):
            b, a = dict(_flatten(before)), dict(_flatten(after))
            for key in sorted(set(b) | set(a)):
                paired.append((join(label, key), b.get(key, "-"), a.get(key, "-")))
            del rest["before"], rest["after"]
        for key in sorted(rest, key=str):
            value = rest[key]
            m = re.fullmatch(r"(.+?)([_ -])(before|after)", str(key))
            if m:
                twin = m.group(1) + m.group(2) + ("after" if m.group(3) == "before" else "before")
                if twin in rest and _is_scalar(value) and _is_scalar(rest[twin]):
                    if m.group(3) == "before":  # emitted once, with its "after" twin
                        paired.append((join(label, m.group(1)), value, rest[twin]))
                    continue
            if _is_scalar(value):
                single.append((join(label, key), value))
            else:
                walk(value, join(label, key))

    walk(summary, "")
    return paired, single, tables


def _column_order(key: str):
    """Record keys come back sorted from JSON: put the label first and each "before" by its "after"."""
    if key in LABEL_KEYS:
        return (0, LABEL_KEYS.index(key), "", 0)
    m = re.fullmatch(r"(.+?)[_ -](before|after)", key)
    return (1, 0, m.group(1), 1 if m.group(2) == "before" else 2) if m else (1, 0, key, 0)


def summary_section(summary) -> str:
    if not summary:
        return "No measurements were recorded in `weditor.json`."
    paired, single, tables = _split_summary(summary)
    parts = []
    if paired:
        rows = []
        for name, before, after in paired:
            numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (before, after))
            rows.append((name, before, after, f"{after - before:+.4g}" if numeric else "-"))
        parts.append(_table(("Measure", "Before", "After", "Change"), rows))
    if single:
        parts.append(_table(("Measure", "Value"), single))
    for title, records in tables:
        columns = sorted(dict.fromkeys(k for r in records for k in r), key=_column_order)
        rows = [tuple(r.get(c, "") for c in columns) for r in records]
        parts.append(f"{_code(title)}:\n\n" + _table(tuple(columns), rows))
    return "\n\n".join(parts)


# -- card ----------------------------------------------------------------------------------------


def _concepts(recipe: dict, out_dir: Path) -> list[tuple[str, str, str]]:
    """(concept, description, pair file) for each pair file in the recipe, descriptions read from the copies."""
    out = []
    for pair in recipe.get("pairs") or []:
        description = ""
        path = out_dir / pair.get("path", "")
        if path.is_file():
            try:
                description = str(tomllib.loads(path.read_text(encoding="utf-8")).get("description", ""))
            except (tomllib.TOMLDecodeError, UnicodeDecodeError, RecursionError):  # a folder to push may hold anything
                pass
        out.append((pair.get("concept", "?"), description, pair.get("path", "")))
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
    params = _flatten(recipe.get("params") or {})
    if params and params != [("", {})]:
        out += "\n\nAll parameters of the run (strengths, layers, ranks, seeds):\n\n" + _table(("Parameter", "Value"), params)
    if edits:
        rows = [(e.get("component", ""), e.get("tensor", ""), e.get("kind", ""), e.get("rank", ""))
                for e in edits[:MAX_EDIT_ROWS]]
        table = _table(("Component", "Tensor", "Kind", "Rank"), rows)
        if len(edits) > MAX_EDIT_ROWS:
            table += f"\n\n... and {len(edits) - MAX_EDIT_ROWS} more, listed in `weditor.json`."
        out += f"\n\n<details><summary>Edited tensors</summary>\n\n{table}\n\n</details>"
    return out


def _usage(pipeline_class: str, tag: str | None, target: str) -> str:
    target = _py_string(target)[1:-1]  # inside the snippet's double quotes
    if tag == "image-to-video":
        lines = [f"from diffusers import {pipeline_class}", "from diffusers.utils import load_image",
                 f'pipe = {pipeline_class}.from_pretrained("{target}")',
                 'frames = pipe(image=load_image("first_frame.png"), prompt="a dog running on a beach").frames[0]']
    else:
        lines = [f"from diffusers import {pipeline_class}", f'pipe = {pipeline_class}.from_pretrained("{target}")',
                 'frames = pipe("a dog running on a beach").frames[0]']
    return "```python\n" + "\n".join(lines) + "\n```"


def build_card(out_dir: str | Path, base_dir: str | Path | None = None, repo_id: str | None = None):
    """The card for a patched folder, from its recipe; `repo_id` only changes the usage snippet."""
    from huggingface_hub import ModelCard, ModelCardData

    out_dir = Path(out_dir)
    recipe = recipe_mod.load_recipe(out_dir)
    base = recipe.get("base_model") or {}
    base_id = base.get("id")
    pipeline_class = base.get("pipeline_class") or _model_index_class(out_dir) or "DiffusionPipeline"
    if not (isinstance(pipeline_class, str) and pipeline_class.isidentifier() and pipeline_class.isascii()):
        pipeline_class = "DiffusionPipeline"  # it is pasted into a Python snippet
    tag = pipeline_tag(pipeline_class)
    concepts = _concepts(recipe, out_dir)
    names = [c for c, _, _ in concepts]
    hub_base = is_hub_id(base_id)

    data = ModelCardData(
        base_model=base_id if hub_base else None,
        library_name="diffusers",
        pipeline_tag=tag,
        tags=list(TAGS) + [n for n in names if n not in TAGS],
        **base_licence(recipe, out_dir, base_dir),
        **({"base_model_relation": BASE_MODEL_RELATION} if hub_base else {}),
    )

    base_link = f"[{base_id}](https://huggingface.co/{base_id})" if hub_base else _code(base_id)
    revision = f" at revision {_code(base['revision'])}" if base.get("revision") else ""
    erased = ", ".join(f"**{_plain(n)}**" for n in names) or "the configured concepts"
    target = repo_id or out_dir.name
    grid = _grid(out_dir)

    sections = [
        f"# {_plain(target.split('/')[-1])}",
        f"{base_link}{revision} with {erased} erased by closed-form weight edits, made with "
        f"weditor {_plain(recipe.get('weditor_version', __version__))}. It is a plain diffusers checkpoint: "
        f"stock diffusers loads it with `{pipeline_class}`; weditor is not needed to run it.",
        "## Usage\n\n" + _usage(pipeline_class, tag, target),
        "## What was removed\n\n" + (_table(("Concept", "Description", "Pair file"), concepts) if concepts
                                     else "No pair files are recorded in `weditor.json`."),
        "## How\n\n" + _edits_section(recipe),
        "## Measured effect\n\nFigures measured by `weditor patch` on held-out prompts, before and after "
        "the edit (from `weditor.json`):\n\n" + summary_section(recipe.get("summary")),
    ]
    from weditor.pipeline.tuning import card_section

    tuned = card_section(recipe)
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
            + _table(("Check", "Value"), _flatten(verification))
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
