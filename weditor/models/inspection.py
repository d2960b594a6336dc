"""`weditor inspect`, as a library call: how weditor sees a model, without loading its weights.

Only configuration files and safetensors headers are read: each denoiser is built from its
config on the meta device (shapes, no memory), parameter counts and dtypes come from the
safetensors headers (for a Hub id, only the JSON files are fetched and counts come from the
meta model). Everything the adapter declares is resolved on that skeleton: block groups,
edit sites with their widths, the linears that read the text embeddings.
"""

from __future__ import annotations

import json
from pathlib import Path

from weditor.adapters import Adapter, adapter_for_model
from weditor.adapters.paths import block_list, expand_all, module_at
from weditor.adapters.table import pairs_accepted
from weditor.errors import WeditorError


def _folder(model: str, revision: str | None) -> tuple[Path, bool]:
    """(folder, weights present): a local folder as is; a Hub id: its JSON files only."""
    from weditor.models.loading import BUILTIN_MODEL, builtin_model_path

    if model == BUILTIN_MODEL:
        return builtin_model_path().resolve(), True
    path = Path(model).expanduser()
    if path.exists():
        if not (path / "model_index.json").is_file():
            raise WeditorError(f"{model}: not a diffusers pipeline folder (no model_index.json)")
        return path.resolve(), True
    if model.startswith((".", "/", "~")) or model.count("/") != 1:
        raise WeditorError(f"{model}: no such folder, and not a Hub id (user/name)")
    from huggingface_hub import snapshot_download

    try:
        return Path(snapshot_download(model, revision=revision, allow_patterns=["*.json"])), False
    except Exception as e:  # offline, missing, gated: one line for the user
        raise WeditorError(
            f"{model}: could not fetch its configuration ({type(e).__name__}: {str(e).splitlines()[0]})"
        ) from None


def _skeleton(folder: Path, component: str):
    """The denoiser built from its config on the meta device: module tree and shapes, no weights."""
    import diffusers
    import torch

    config = json.loads((folder / component / "config.json").read_text(encoding="utf-8"))
    cls = getattr(diffusers, config["_class_name"])
    with torch.device("meta"):
        return cls.from_config(config), config["_class_name"]


def _header_stats(folder: Path, component: str) -> tuple[int, dict[str, int]] | None:
    """(parameter count, {dtype: count}) from the safetensors headers of a component, or None."""
    files = sorted((folder / component).glob("*.safetensors"))
    if not files:
        return None
    total, by_dtype = 0, {}
    for f in files:
        with open(f, "rb") as fh:
            n = int.from_bytes(fh.read(8), "little")
            header = json.loads(fh.read(n))
        for name, info in header.items():
            if name == "__metadata__":
                continue
            count = 1
            for d in info["shape"]:
                count *= d
            total += count
            by_dtype[info["dtype"]] = by_dtype.get(info["dtype"], 0) + count
    return total, by_dtype


def methods(adapter: Adapter) -> dict:
    reads = [n for n, s in adapter.sites.items() if s.role == "reads"]
    ungated = [n for n, s in adapter.sites.items() if s.role == "writes" and not s.gated]
    return {
        "refusal_input_side": reads,
        "refusal_output_side": ungated or None,
        "reins_fold": f"exact ({adapter.ungated_write})"
        if adapter.ungated_write
        else "refused (every residual add is gated)",
        "safree": dict(adapter.text_inputs()) or None,
    }


def inspect_model(model: str, revision: str | None = None) -> dict:
    folder, local = _folder(model, revision)
    index = json.loads((folder / "model_index.json").read_text(encoding="utf-8"))
    pipeline_class = index.get("_class_name")
    adapter = adapter_for_model(folder, pipeline_class, f"{folder}/model_index.json")
    report = {
        "model": model,
        "family": adapter.family,
        "pipeline_class": pipeline_class,
        "task": "image-to-video" if adapter.image_to_video else "text-to-video",
        "pairs": pairs_accepted(adapter),
        "denoisers": {},
        "methods": methods(adapter),
    }
    for component in adapter.denoisers:
        entry = index.get(component)
        if not entry or entry[0] is None or not (folder / component / "config.json").is_file():
            continue
        skeleton, cls = _skeleton(folder, component)
        groups = {}
        for group, specs in adapter.block_groups().items():
            paths = block_list(skeleton, specs)
            groups[group] = {"blocks": len(paths), "first": paths[0] if paths else None}
        sites = {}
        for name, site in adapter.sites.items():
            group = adapter.site_group(name)
            widths = set()
            for block in block_list(skeleton, adapter.block_groups()[group]):
                lin = module_at(skeleton, f"{block}.{site.paths[0]}")
                widths.add(lin.in_features if site.role == "reads" else lin.out_features)
            sites[name] = {
                "linears": list(site.paths),
                "role": site.role,
                "gated": site.gated,
                "group": group,
                "width": sorted(widths),
                "doc": site.doc,
            }
        text = {key: expand_all(skeleton, pats) for key, pats in adapter.text_inputs().items()}
        stats = _header_stats(folder, component) if local else None
        if stats is None:
            total, dtypes = sum(p.numel() for p in skeleton.parameters()), {}
        else:
            total, dtypes = stats
        default = sites[adapter.default_site]
        report["denoisers"][component] = {
            "class": cls,
            "block_groups": groups,
            "hidden_size": max(default["width"]) if default["width"] else None,
            "sites": sites,
            "default_site": adapter.default_site,
            "text_input_linears": text,
            "parameters": total,
            "dtype": max(dtypes, key=dtypes.get) if dtypes else "unknown (no weights read)",
            "dtypes": dtypes,
        }
    if not report["denoisers"]:
        raise WeditorError(f"{folder}: none of the denoiser components {', '.join(adapter.denoisers)} is present")
    return report


def format_report(r: dict) -> str:
    lines = [
        f"{r['model']}",
        f"  family         {r['family']} ({r['task']})",
        f"  pipeline       {r['pipeline_class']}",
        f"  pair files     {r['pairs']}",
    ]
    for comp, d in r["denoisers"].items():
        groups = ", ".join(
            f"{g}: {v['blocks']} blocks" if len(d["block_groups"]) > 1 else f"{v['blocks']} blocks"
            for g, v in d["block_groups"].items()
        )
        lines += [
            f"  denoiser       {comp} ({d['class']}): {groups}",
            f"    hidden size  {d['hidden_size']}",
            f"    parameters   {d['parameters']:,} ({d['dtype']})",
            "    edit sites   (role; gated: timestep-scaled residual add; *: --method refusal's default)",
        ]
        for name, s in d["sites"].items():
            mark = "*" if name == d["default_site"] else " "
            gate = ("gated" if s["gated"] else "ungated") if s["role"] == "writes" else "-"
            width = "/".join(str(w) for w in s["width"])
            group = f" [{s['group']}]" if len(d["block_groups"]) > 1 else ""
            lines.append(
                f"     {mark}{name:<18}{s['role']:<7}{gate:<9}width {width:<10}{', '.join(s['linears'])}{group}"
            )
        for key, paths in d["text_input_linears"].items():
            shown = ", ".join(paths[:3]) + (f", ... ({len(paths)} linears)" if len(paths) > 3 else "")
            lines.append(f"    reads {key}: {shown}")
    m = r["methods"]
    lines += [
        "  methods",
        f"    refusal, input side    {', '.join(m['refusal_input_side'])}",
        f"    refusal, output side   {', '.join(m['refusal_output_side']) if m['refusal_output_side'] else 'refused (every write is gated)'}",
        f"    REINS fold             {m['reins_fold']}",
        f"    SAFREE projection      {'folded into the linears that read ' + ' and '.join(m['safree']) if m['safree'] else 'not available'}",
        f"    text read-out          {'folded into the same linears (the default for pairs without images)' if m['safree'] else 'not available'}",
    ]
    return "\n".join(lines)
