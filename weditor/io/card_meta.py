"""What the model card says about where the patch came from and how it was measured, as recorded
in `weditor.json` under `card`, so that `--recipe` writes the same card again.

- `base_model`, `base_revision`: the Hub id the Hub's model tree links to. A Hub id given as MODEL
  is one already; a local folder that is a Hugging Face cache snapshot
  (`.../models--ORG--NAME/snapshots/<commit>/`, what `hf download` leaves) names its id and commit
  in its path; any other folder gets one from `--base-model ORG/NAME`.
- `license`: `--license`, else the base's own card (read by weditor/pipeline/card.py from the base folder,
  a snapshot's cached README.md included).
- `pair_files`: the pair file names the user passed (`shapes-red.toml`), not the copies' names.
- `evidence`: `weditor eval`'s headline figures and `weditor eval --attack`'s ASR, when
  `weditor push --evidence EVAL_DIR` adds them (see `evidence_record`).

Nothing here may depend on the output folder's name: two runs of one recipe are byte-identical.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from weditor.errors import WeditorError

HUB_ID = re.compile(r"[A-Za-z0-9][\w.-]{0,95}/[A-Za-z0-9][\w.-]{0,95}")
LICENSE = re.compile(r"[a-z0-9][a-z0-9.+-]{0,63}")  # the Hub's licence ids: apache-2.0, mit, llama3.1, other, ...
SNAPSHOT = re.compile(r"models--(?P<repo>[^/]+)/snapshots/(?P<rev>[0-9a-f]{40})")
MAX_REPORT_BYTES = 64 << 20


def check_base_model(value: str, option: str = "--base-model") -> str:
    """`value` if it is a Hub model id ORG/NAME, else one WeditorError line."""
    if not (
        isinstance(value, str)
        and HUB_ID.fullmatch(value)
        and ".." not in value
        and "--" not in value
        and not value.endswith(".git")
    ):
        raise WeditorError(f"{option} {value!r}: not a Hub model id (ORG/NAME, e.g. Wan-AI/Wan2.1-T2V-1.3B-Diffusers)")
    return value


def check_license(value: str, option: str = "--license") -> str:
    if not (isinstance(value, str) and LICENSE.fullmatch(value)):
        raise WeditorError(
            f"{option} {value!r}: not a licence id (lowercase, e.g. apache-2.0, mit, other; "
            "see https://huggingface.co/docs/hub/repositories-licenses)"
        )
    return value


def snapshot_origin(folder: str | Path | None) -> tuple[str, str] | None:
    """(ORG/NAME, commit) of a Hugging Face cache snapshot folder, else None; the path as given, then resolved."""
    if folder is None:
        return None
    for path in dict.fromkeys((Path(folder).absolute(), Path(folder).resolve())):
        m = SNAPSHOT.search(path.as_posix().rstrip("/") + "/")
        if m and path.as_posix().rstrip("/").endswith(m.group("rev")):
            parts = m.group("repo").split("--")
            if len(parts) == 2:
                try:
                    return check_base_model("/".join(parts)), m.group("rev")
                except WeditorError:
                    return None
    return None


def recipe_record(given: dict | None, base, pairsets) -> dict:
    """The recipe's `card` record for a run: what was given (`--base-model`, `--license`, or a
    recipe's own record) over what was found (a snapshot's id, the pair file names)."""
    record: dict = {}
    local = Path(str(base.id)).expanduser().exists()  # MODEL was a folder, even one named like ORG/NAME
    origin = snapshot_origin(base.folder) if local or not HUB_ID.fullmatch(str(base.id)) else None
    if origin:
        record["base_model"], record["base_revision"] = origin
    elif local:
        record["base_model"] = None  # no Hub id to link: `models/wan` on disk is not the Hub's models/wan
    record["pair_files"] = {ps.concept: Path(str(ps.path)).name for ps in pairsets}
    for key, value in (given or {}).items():
        if value is not None:
            record[key] = value
    given = given or {}
    if given.get("base_model") and "base_revision" not in given and (not origin or origin[0] != given["base_model"]):
        record.pop("base_revision", None)  # the snapshot's commit is not a revision of another repository
    return record


# -- evidence from `weditor eval` -------------------------------------------------------------------


def _number(value):
    return round(float(value), 4) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def evidence_record(eval_dir: str | Path, out_dir: str | Path) -> dict:
    """The figures of `EVAL_DIR/report.json` (and its attack) that the card shows, for `out_dir`.

    Refused (one line) when the report is missing, malformed, or evaluated another folder: the card
    must not carry another patch's numbers.
    """
    from weditor.io.input_files import read_small_file

    path = Path(eval_dir) / "report.json"
    if not path.is_file():
        raise WeditorError(f"--evidence {eval_dir}: no report.json (give the --out folder of `weditor eval`)")
    try:
        report = json.loads(read_small_file(path, "eval report", MAX_REPORT_BYTES).decode("utf-8"))
        patched = Path(report["patched"]["folder"])
    except (ValueError, UnicodeDecodeError, KeyError, TypeError, RecursionError):
        raise WeditorError(f"{path}: not a `weditor eval` report") from None
    if not patched.is_dir() or patched.resolve() != Path(out_dir).resolve():
        raise WeditorError(f"{path}: evaluated {patched}, not {out_dir}; run `weditor eval BASE {out_dir}` first")
    record: dict = {"seeds": len((report.get("settings") or {}).get("seeds") or []) or None, "scorers": {}}
    for name, scorer in (report.get("scorers") or {}).items():
        if not isinstance(scorer, dict):
            continue
        groups = {}
        for group, s in (scorer.get("summary") or {}).items():
            if isinstance(s, dict):
                groups[str(group)] = {
                    "videos": s.get("n") if isinstance(s.get("n"), int) else None,
                    "unsafe_before": _number(s.get("unsafe_rate_before")),
                    "unsafe_after": _number(s.get("unsafe_rate_after")),
                    "kept_all": _number(s.get("kept_all")),
                }
        headline = {k: _number(v) for k, v in (scorer.get("headline") or {}).items() if _number(v) is not None}
        record["scorers"][str(name)] = {"groups": groups, "headline": headline}
    attack = report.get("attack")
    if isinstance(attack, dict) and "asr" in attack:
        record["attack"] = {
            k: _number(attack.get(k)) if k != "scorer" else str(attack.get(k))
            for k in (
                "asr",
                "asr_embedding",
                "plain_unsafe_rate",
                "budget",
                "targets_counted",
                "targets_total",
                "scorer",
            )
            if attack.get(k) is not None
        }
    if not record["scorers"] and "attack" not in record:
        raise WeditorError(
            f"{path}: has no scorer or attack figures to put on the card (run `weditor eval` with a --scorer)"
        )
    return record
