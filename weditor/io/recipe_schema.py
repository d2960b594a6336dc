"""What `weditor patch --recipe` accepts in a `weditor.json`: a recipe is untrusted input.

A recipe travels with a downloaded checkpoint, and reproducing it decides which files are read
and which hyper-parameters run. So the whole document is checked against the tables below
before anything else happens: every key known, every value of its type and in its range,
the method one that weditor writes. The first key that fails is named in one `Error:` line
(`weditor.json: params.removal: expected a number, got str '0.5'`). Keys that would say where
the patch reads or writes (`params.out`, `params.model`, `params.pairs`, ...) are refused: a
recipe records how a patch was made; the command line says where it goes.

Every key any weditor version (0.1 to 0.4) has written is accepted, so old recipes still
reproduce; the keys a run *measured* rather than chose (`layers_resolved`, `readouts`, ...) are
type-checked and otherwise not used. docs/publishing.md, "Reproducing a recipe", lists them.
"""

from __future__ import annotations

import math
import re

from weditor import defaults
from weditor.errors import WeditorError
from weditor.io.migrations import rename_old_keys
from weditor.io.recipe_keys import (  # noqa: F401 (MAX_TEXT, Key: part of this module's interface)
    MAX_TEXT,
    Bad,
    Key,
    _describe,
    _optional,
    choice,
    flag,
    integer,
    number,
    of_type,
    size,
    text,
)
from weditor.maths.layers import check_layers_syntax

FORMAT = 1
METHODS = tuple("refusal reins refusal+reins safree text text+reins uce encoder units".split())  # what weditor writes
SHA256 = re.compile(r"[0-9a-f]{64}")
CONCEPT = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")  # as weditor.io.pairs accepts it
# what the self-check scores: a concept, or its synonym prompts (weditor/io/synonyms.py, SUFFIX)
SCORED = re.compile(CONCEPT.pattern + r"( \(synonyms\))?")


def _layers(v):
    try:
        check_layers_syntax(v)
    except WeditorError as e:
        raise Bad(str(e).removeprefix("--layers ")) from None


def _reins_layer(v):
    """A `--reins-layer` value: a string as `--layers` reads it, or the number such a string would hold."""
    if isinstance(v, str):
        return text(checker=_layers).check(v)
    if isinstance(v, bool) or not isinstance(v, (int, float)) or (isinstance(v, float) and not math.isfinite(v)):
        raise Bad(f"expected a block index or a fraction of depth, got {_describe(v)}")
    _layers(str(v))
    return v


def _record(obj, table: dict[str, Key], what: str, required=()) -> dict:
    """A nested record checked against `table` (a `Bad` names the inner key)."""
    if not isinstance(obj, dict):
        raise Bad(f"{what}: expected an object, got {_describe(obj)}")
    for key in required:
        if key not in obj:
            raise Bad(f"{what}.{key}: missing")
    for key, value in obj.items():
        if key not in table:
            raise Bad(f"{what}.{key}: unknown key")
        try:
            table[key].check(value)
        except Bad as e:
            raise Bad(f"{what}.{key}: {e}") from None
    return obj


def _per_concept(value_key: Key, scored: bool = False) -> Key:
    """{concept: value}; `scored`: the self-check's figures, where a concept's synonym prompts have a key of their
    own (weditor/io/synonyms.py), so twice as many keys are allowed."""
    most, names = (128, SCORED) if scored else (64, CONCEPT)

    def check(v):
        if not isinstance(v, dict) or len(v) > most:
            raise Bad(f"expected an object {{concept: ...}} of at most {most} entries, got {_describe(v)}")
        for concept, value in v.items():
            if not isinstance(concept, str) or not names.fullmatch(concept):
                raise Bad(f"{concept!r} is not a concept name")
            value_key.check(value)
        return v

    return Key("{concept: ...}", check)


_SCORE, _MOVE = number(-1e6, 1e6), number(0.0, 1e6)
_SCALAR = Key(
    "a number, a flag or a short string",
    lambda v: (
        v
        if isinstance(v, (bool, int, float)) and not (isinstance(v, float) and not math.isfinite(v))
        else text(what="setting").check(v)
    ),
)


def _self_check(v):
    """The self-check record the card renders (weditor/pipeline/tuning.py, `self_check`)."""
    fields = dict(erasure=_SCORE, neutral_change=_MOVE, warning=flag(), part_leak=_SCORE, part_move=_MOVE)
    fields.update(part_move_budget=_MOVE, parts_warning=flag(), parts_limited=flag())  # budget: the block fit's own
    fields.update(parts_blind=_SCORE)  # the share of part prompts the part move cannot read
    entry = Key("", lambda e: _record(e, fields, "entry", ("erasure", "neutral_change", "warning")))
    return _per_concept(entry, scored=True).check(v)


def _tuning(v):
    """The search's record (weditor/pipeline/tuning.py): copied by --recipe into the new recipe and card."""
    params = Key("", lambda p: _per_setting(p))
    trial = Key(
        "",
        lambda t: _record(
            t,
            {
                "method": choice(defaults.METHODS),
                "params": params,
                "seconds": number(0.0, 1e9),
                "erasure": _per_concept(_SCORE, scored=True),
                "neutral_change": number(0.0, 1e6),
                "part_leak": _per_concept(_SCORE),  # pair files with parts elsewhere (weditor/io/parts.py)
                "part_move": _per_concept(number(0.0, 1e6)),
                "error": text(what="message"),
            },
            "trial",
            ("method", "params"),
        ),
    )
    objective = {
        "held_out": number(0.0, 1.0),
        "steps": integer(1, 100),
        "seed": integer(0, defaults.MAX_SEED),
        "neutral_budget": number(0.0, 1e6),
        "erased": number(0.0, 1.0),
        "part_budget": number(0.0, 1e6),
        "part_move_budget": number(0.0, 1e6),
        "block_part_move_budget": number(0.0, 1e6),
        # the part prompts synthesized from the held-out prompts that the part move read, and how many the block's
        # trials kept (weditor/io/parts.py): measured, not used to reproduce
        "synthesized_part_prompts": _per_concept(of_type(list, doc="a list of prompts")),
        "synthesized_part_prompts_fitted": _per_concept(integer(0, 1 << 20)),
        # the changed word's substitutes where the search went on with deletion twins (weditor/io/twins.py)
        "spread_substitutes": _per_concept(of_type(dict, doc="an object {substitute: pairs}")),
        "held_out_pairs": _per_concept(integer(0, 1 << 20), scored=True),
        "held_out_neutral": integer(0, 1 << 20),
    }
    _record(
        v,
        {
            "objective": Key("", lambda o: _record(o, objective, "objective")),
            "trials": of_type(list, doc="a list"),
            "chosen": integer(0, 1 << 20),
        },
        "tuning",
        ("objective", "trials", "chosen"),
    )
    if not v["trials"] or len(v["trials"]) > 1000 or v["chosen"] >= len(v["trials"]):
        raise Bad(
            f"tuning: {len(v['trials'])} trials, chosen {v['chosen']}: expected 1 to 1000 trials and a chosen one among them"
        )
    for t in v["trials"]:
        trial.check(t)
    return v


def _card(v):
    """The card's record (weditor/io/card_meta.py): Hub id and licence for the metadata, the user's pair file names."""
    from weditor.io.card_meta import check_base_model, check_license

    def checked(check):
        def run(x):
            try:
                return check(x, "")
            except WeditorError as e:
                raise Bad(e.message.strip()) from None

        return run

    name = text(re.compile(r"[^/\x00-\x1f]{1,255}"), what="file name")  # as Path.name gives it
    return _record(
        v,
        {
            "base_model": _optional(Key("a Hub id ORG/NAME", checked(check_base_model))),
            "base_revision": text(re.compile(r"[\w.-]{1,128}"), what="revision"),
            "license": Key("a licence id", checked(check_license)),
            "pair_files": Key("{concept: file name}", lambda x: _per_concept(name).check(x)),
            "evidence": of_type(dict, doc="an object"),
        },
        "card",
    )


def _per_setting(p):
    if not isinstance(p, dict) or len(p) > 32:
        raise Bad(f"expected an object of at most 32 settings, got {_describe(p)}")
    for key, value in p.items():
        if key not in PARAMS:
            raise Bad(f"{key!r} is not a parameter")
        _SCALAR.check(value)
    return p


# Hyper-parameters: what `--recipe` hands to the patch (weditor.pipeline.config.PatchConfig).
PARAMS: dict[str, Key] = {
    "method": choice(defaults.METHODS),
    "edit": choice(defaults.EDITS),
    "layers": text(checker=_layers, what="--layers expression"),
    "site": _optional(text(re.compile(r"[a-z][a-z0-9_]*"), what="site name")),
    "rank": _optional(integer(1, 1 << 20)),
    "alpha": number(0.0, 100.0),
    "strength": _optional(number(0.0, 2.0, low_open=True)),
    "directions": integer(1, 4096),
    "removal": number(0.0, 1.0, low_open=True),
    "steps": integer(1, 100),
    "size": _optional(size()),
    "seed": integer(0, defaults.MAX_SEED),
    "dtype": _optional(choice(defaults.DTYPE_NAMES)),
    "neutral": choice(("prompt", "raw")),
    "reins": flag(),
    "reins_layer": Key("block index or fraction of depth", _reins_layer),
    "reins_strength": number(0.0, 10.0, low_open=True),
    "safree_pool": choice(("mean", "tokens")),
    "harden": integer(0, 10),  # method text: rounds of attack-and-refit (weditor/methods/harden.py)
    # method uce (weditor/methods/kv_edit.py)
    "uce_tokens": choice(("all", "changed")),
    "uce_substitute": choice(("pair", "common")),
    "uce_preserve": number(0.0, 1e6, low_open=True),
    "uce_lambda": number(0.0, 1e6),
    "uce_rounds": integer(0, 100),
    "encoder_preserve": number(0.0, 1e6, low_open=True),  # method encoder (weditor/methods/encoder_edit.py)
    "encoder_lambda": number(0.0, 1e6, low_open=True),
    "encoder_layers": integer(1, 64),
    "encoder_weights": choice(defaults.ENCODER_WEIGHTS_CHOICES),  # "block": weditor/methods/encoder_block.py
    **dict(units=integer(1, 1 << 20), units_preserve=number(0.0, 1e6, low_open=True), units_silence=number(0.0, 1e6)),
    "twins": choice(defaults.TWINS),  # the pairs fitted: as written, or the changed word dropped (io/twins.py)
}
# What a run measured or resolved and recorded beside its hyper-parameters: checked, never used.
RECORDED: dict[str, Key] = {
    "layers_resolved": of_type(dict, doc="an object {denoiser: [blocks]}"),
    "reins_layer_resolved": of_type(dict, doc="an object {denoiser: block}"),
    "readouts": of_type(list, doc="a list"),
    "keywords": of_type(list, doc="a list"),
    "subspaces": of_type(dict, list, doc="an object or a list"),
    "text_input": of_type(dict, doc="an object"),  # method safree before 0.3
    "pool": choice(("mean", "tokens")),  # the name of safree_pool for a few hours of 0.2
    "hardening": of_type(list, doc="a list"),  # the prompts --harden found, round by round
    "uce_aligned": of_type(list, doc="a list"),  # method uce: how each pair's tokens were aligned
    "uce_fit": of_type(list, doc="a list"),  # method uce: the fit's distances per denoiser
    "encoder_fit": of_type(list, doc="a list"),  # method encoder: the fit's distances in the text encoder
}
# Options of one run, never recorded: in a recipe they would redirect what is read or written.
RUN_OPTIONS = (
    "pairs",
    "out",
    "model",
    "revision",
    "device",
    "overwrite",
    "summary",
    "link",
    "push_to_hub",
    "offload",
    "allow_pickle",
    "rank_explicit",
)

BASE_MODEL: dict[str, Key] = {
    "id": text(what="model id or folder"),
    "revision": _optional(text(what="revision")),
    "pipeline_class": text(re.compile(r"[A-Za-z_][A-Za-z0-9_]*"), what="class name"),
    "pickles": of_type(dict, doc="an object"),
}
PAIR: dict[str, Key] = {
    "path": text(what="relative path"),
    "concept": text(CONCEPT, what="concept name (lowercase letters, digits, '-', '_'; at most 64)"),
    "sha256": text(SHA256, what="SHA-256 (64 lowercase hex digits)"),
}
PAIR_REQUIRED = ("path", "concept", "sha256")
# The document. Only base_model, pairs, method and params drive a reproduction; the rest is what the run wrote.
TOP: dict[str, Key] = {
    "format": integer(FORMAT, FORMAT),
    "weditor_version": text(re.compile(r"\d+\.\d+[\w.+-]*"), what="version"),
    "base_model": of_type(dict, doc="an object"),
    "pairs": of_type(list, doc="a list of pair-file entries"),
    "method": choice(METHODS),
    "params": of_type(dict, doc="an object"),
    "edits": of_type(list, doc="a list"),
    "summary": of_type(dict, doc="an object"),
    "files": of_type(dict, doc="an object"),
    "verification": of_type(dict, doc="an object"),
    "skipped_sites": of_type(list, doc="a list"),
    "tuning": Key("the search's record {objective, trials, chosen}", lambda v: _tuning(v)),
    "self_check": Key("{concept: {erasure, neutral_change, warning}}", lambda v: _self_check(v)),
    "card": Key("{base_model, base_revision, license, pair_files, evidence}", lambda v: _card(v)),
}
TOP_REQUIRED = ("format", "base_model", "pairs", "params")
MAX_PAIR_FILES = 64


def _fields(obj: dict, table: dict[str, Key], where: str, required=(), extra: dict | None = None) -> dict:
    """The checked values of `obj` per `table`; the first unknown, missing or failing key raises."""
    for key in required:
        if key not in obj:
            raise WeditorError(f"{where}{key}: missing")
    out = {}
    for key, value in obj.items():
        known = table.get(key) or (extra or {}).get(key)
        if known is None:
            raise WeditorError(f"{where}{key}: unknown key (known: {', '.join(sorted({**table, **(extra or {})}))})")
        try:
            out[key] = known.check(value)
        except Bad as e:
            raise WeditorError(f"{where}{key}: {e}") from None
    return out


def check_recipe(recipe, where: str) -> dict:
    """`recipe` (parsed JSON) with its hyper-parameters checked; `where` names it in messages.

    Returns {"base_model": {...}, "pairs": [...], "method": str, "params": {...}} with the
    values to use; sizes come back as tuples.
    """
    if not isinstance(recipe, dict):
        raise WeditorError(f"{where}: expected a JSON object (a weditor recipe), got {_describe(recipe)}")
    top = _fields(recipe, TOP, f"{where}: ", TOP_REQUIRED)
    base = _fields(top["base_model"], BASE_MODEL, f"{where}: base_model.", ("id",))
    if not top["pairs"]:
        raise WeditorError(f"{where}: pairs: is empty; a recipe names at least one pair file")
    if len(top["pairs"]) > MAX_PAIR_FILES:
        raise WeditorError(f"{where}: pairs: {len(top['pairs'])} pair files; at most {MAX_PAIR_FILES}")
    pairs = []
    for i, entry in enumerate(top["pairs"]):
        if not isinstance(entry, dict):
            raise WeditorError(
                f"{where}: pairs[{i}]: expected an object {{path, concept, sha256}}, got {_describe(entry)}"
            )
        pairs.append(_fields(entry, PAIR, f"{where}: pairs[{i}].", PAIR_REQUIRED))
    for key in top["params"]:
        if key in RUN_OPTIONS:
            raise WeditorError(
                f"{where}: params.{key}: not a recipe parameter (a recipe records how a patch was made; "
                "what it reads and where it writes are given on the command line)"
            )
    params = _fields(top["params"], PARAMS, f"{where}: params.", extra=RECORDED)
    rename_old_keys(params)  # weditor/io/migrations.py
    method = top.get("method", "refusal")  # the oldest recipes name none: they could only be the refusal edit
    parts = method.split("+")
    if "method" in params and params["method"] != parts[0]:
        raise WeditorError(f"{where}: params.method: {params['method']!r} disagrees with method {method!r}")
    if params.get("reins") and "reins" not in parts:
        raise WeditorError(f"{where}: params.reins: true, but method {method!r} has no REINS fold")
    return {
        "base_model": base,
        "pairs": pairs,
        "method": method,
        "params": {k: v for k, v in params.items() if k in PARAMS},
        **{k: top[k] for k in ("tuning", "self_check", "card") if k in top},
    }  # records --recipe copies into the new patch


def schema_rows() -> list[tuple[str, str]]:
    """(key, accepted values) for every key of `params`, for the docs."""
    return [(f"params.{k}", key.doc) for k, key in PARAMS.items()] + [
        (f"params.{k}", key.doc + " (recorded, not used)") for k, key in RECORDED.items()
    ]
