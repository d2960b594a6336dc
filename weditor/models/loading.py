"""Loading a model: the base folder and its adapter, the stock pipeline, offloading, the embedded shapes model.

Every command loads through here (patch, eval, attack, probe, inspect, verify), so none of them
imports the patch pipeline to read a model.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import torch

from weditor import defaults
from weditor.adapters import Adapter, adapter_for_model
from weditor.errors import WeditorError
from weditor.io.checkpoint import BaseModel, resolve_model, stored_dtypes

BUILTIN_MODEL = defaults.BUILTIN_MODEL
DTYPES = {name: getattr(torch, name) for name in defaults.DTYPE_NAMES}


def builtin_model_path() -> Path:
    from weditor.shapes import model_path

    return Path(model_path())


def load_base(model: str, revision: str | None, allow_pickle: bool = False) -> tuple[BaseModel, Adapter]:
    if model == BUILTIN_MODEL:
        base = resolve_model(str(builtin_model_path()))
        base = BaseModel(base.folder, BUILTIN_MODEL, None, base.pipeline_class)
    else:
        base = resolve_model(model, revision, allow_pickle)
    adapter = adapter_for_model(base.folder, base.pipeline_class, f"{base.folder}/model_index.json")
    adapter.check_requirements()  # a package the stock pipeline calls unguarded (ftfy): one line, not a NameError later
    return base, adapter


def load_pipeline(base: BaseModel, dtype: str | None, device: str, offload: bool = False, **components):
    import diffusers
    import transformers

    diffusers.utils.logging.disable_progress_bar()  # ours are the bars worth watching
    transformers.utils.logging.disable_progress_bar()
    cls = getattr(diffusers, base.pipeline_class)
    kwargs = {"use_safetensors": True, **stand_ins_for(cls), **components}
    if dtype is not None:
        kwargs["torch_dtype"] = DTYPES[dtype]
    else:  # as stored (diffusers' own default would be float32 for every component)
        kwargs["torch_dtype"] = {
            "default": torch.float32,
            **{c: DTYPES.get(d, getattr(torch, d)) for c, d in stored_dtypes(base.folder).items()},
        }
    try:
        with warnings.catch_warnings():  # newer diffusers call it `dtype`; older ones know only `torch_dtype`
            warnings.filterwarnings("ignore", message=".*torch_dtype.*deprecated", category=FutureWarning)
            pipe = cls.from_pretrained(base.folder, **kwargs)
    except Exception as e:  # noqa: BLE001 - any failure of the stock loader on these files means one thing
        first = (str(e).strip().splitlines() or [type(e).__name__])[0]
        raise WeditorError(f"{base.folder}: stock {base.pipeline_class} could not load it ({first})") from None
    pipe.set_progress_bar_config(disable=True)
    if offload:
        return offload_pipeline(pipe, device)
    return pipe.to(device)


def stand_ins_for(cls) -> dict:
    """Stand-ins for the components of `cls` that weditor never runs (Cosmos' guardrail: weditor/models/guardrail.py)."""
    from weditor.adapters import adapter_for_class

    names = adapter_for_class(cls.__name__).stand_ins
    if not names:
        return {}
    from weditor.models.guardrail import stand_ins

    return stand_ins(cls, names)


def offload_pipeline(pipe, device: str):
    """Block-level group offloading of every module: weights live on the CPU, and each block is moved
    to `device` just for its forward. Forward hooks on the linears inside still see the activations
    (on `device`); without CUDA streams, an in-place edit of a parameter survives the moves.
    With device "cpu" nothing moves, but the same hooks run."""
    from diffusers.hooks import apply_group_offloading
    from diffusers.hooks.group_offloading import _is_group_offload_enabled

    for module in pipe.components.values():
        if isinstance(module, torch.nn.Module) and not _is_group_offload_enabled(module):
            apply_group_offloading(
                module,
                onload_device=torch.device(device),
                offload_device=torch.device("cpu"),
                offload_type="block_level",
                num_blocks_per_group=1,
            )
    return pipe


def default_size(model: str, adapter: Adapter, pipe=None) -> tuple[int, int, int]:
    if model == BUILTIN_MODEL:
        from weditor import shapes

        return (shapes.HEIGHT, shapes.WIDTH, shapes.NUM_FRAMES)
    return adapter.size_for(pipe)
