"""Adapters, one per model family, looked up by the pipeline class a checkpoint declares."""

from __future__ import annotations

from weditor.adapters.base import Adapter, Site
from weditor.adapters.cogvideox import COGVIDEOX, COGVIDEOX_I2V
from weditor.adapters.hunyuan import HUNYUAN
from weditor.adapters.ltx import LTX, LTX_I2V
from weditor.adapters.unet3d import UNET3D
from weditor.adapters.wan import WAN, WAN_I2V
from weditor.errors import WeditorError

ADAPTERS: tuple[Adapter, ...] = (WAN, WAN_I2V, COGVIDEOX, COGVIDEOX_I2V, LTX, LTX_I2V, HUNYUAN, UNET3D)


def supported_pipelines() -> list[str]:
    return sorted(p for a in ADAPTERS for p in a.pipelines)


def adapter_for_class(class_name: str, where: str = "model_index.json") -> Adapter:
    for adapter in ADAPTERS:
        if class_name in adapter.pipelines:
            return adapter
    raise WeditorError(
        f"{where}: pipeline class {class_name!r} is not supported (supported: {', '.join(supported_pipelines())})"
    )


__all__ = ["ADAPTERS", "Adapter", "Site", "adapter_for_class", "supported_pipelines"]
