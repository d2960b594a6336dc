"""Adapters, one per model family, looked up by the pipeline class a checkpoint declares."""

from __future__ import annotations

from weditor.adapters import wan_family
from weditor.adapters.allegro import ALLEGRO
from weditor.adapters.animatediff import ADAPTERS as ANIMATEDIFF_ADAPTERS
from weditor.adapters.animatediff_control import ADAPTERS as ANIMATEDIFF_CONTROL_ADAPTERS
from weditor.adapters.anyflow import ANYFLOW, ANYFLOW_FAR
from weditor.adapters.base import Adapter, Site
from weditor.adapters.catalogue import REFUSED
from weditor.adapters.cogvideox import COGVIDEOX, COGVIDEOX_FUN_CONTROL, COGVIDEOX_I2V, COGVIDEOX_V2V
from weditor.adapters.consisid import CONSISID
from weditor.adapters.cosmos import COSMOS, COSMOS_V2W
from weditor.adapters.cosmos2 import COSMOS2_V2W
from weditor.adapters.cosmos2_5 import COSMOS2_5
from weditor.adapters.easyanimate import EASYANIMATE, EASYANIMATE_CONTROL, EASYANIMATE_INPAINT
from weditor.adapters.framepack import FRAMEPACK
from weditor.adapters.helios import HELIOS, HELIOS_PYRAMID
from weditor.adapters.hunyuan import HUNYUAN, HUNYUAN_SKYREELS_I2V
from weditor.adapters.hunyuan15 import HUNYUAN15, HUNYUAN15_I2V
from weditor.adapters.hunyuan_i2v import HUNYUAN_I2V
from weditor.adapters.i2vgenxl import I2VGENXL
from weditor.adapters.kandinsky5 import KANDINSKY5, KANDINSKY5_I2V
from weditor.adapters.kandinsky6 import KANDINSKY6
from weditor.adapters.latte import LATTE
from weditor.adapters.ltx import LTX, LTX_I2V
from weditor.adapters.ltx2 import LTX2, LTX2_CONDITION, LTX2_I2V
from weditor.adapters.ltx2_context import LTX2_HDR, LTX2_IN_CONTEXT
from weditor.adapters.ltx2_dfr import LTX2_DFR
from weditor.adapters.ltx_condition import LTX_CONDITION
from weditor.adapters.ltx_long import LTX_LONG
from weditor.adapters.mochi import MOCHI
from weditor.adapters.motif_video import MOTIF_VIDEO, MOTIF_VIDEO_I2V
from weditor.adapters.sana_video import SANA_VIDEO, SANA_VIDEO_I2V
from weditor.adapters.sana_wm import SANA_WM
from weditor.adapters.unet3d import UNET3D, UNET3D_V2V
from weditor.adapters.wan import WAN, WAN_I2V
from weditor.adapters.wan_animate import WAN_ANIMATE
from weditor.errors import WeditorError

ADAPTERS: tuple[Adapter, ...] = (
    WAN,
    WAN_I2V,
    *wan_family.ADAPTERS,
    WAN_ANIMATE,
    ANYFLOW,
    ANYFLOW_FAR,
    HELIOS,
    HELIOS_PYRAMID,
    COGVIDEOX,
    COGVIDEOX_I2V,
    COGVIDEOX_V2V,
    COGVIDEOX_FUN_CONTROL,
    CONSISID,
    COSMOS,
    COSMOS_V2W,
    COSMOS2_V2W,
    COSMOS2_5,
    LTX,
    LTX_I2V,
    LTX_CONDITION,
    LTX_LONG,
    LTX2,
    LTX2_I2V,
    LTX2_CONDITION,
    LTX2_DFR,
    LTX2_HDR,
    LTX2_IN_CONTEXT,
    HUNYUAN,
    HUNYUAN_I2V,
    HUNYUAN_SKYREELS_I2V,
    HUNYUAN15,
    HUNYUAN15_I2V,
    FRAMEPACK,
    MOCHI,
    UNET3D,
    UNET3D_V2V,
    *ANIMATEDIFF_ADAPTERS,
    *ANIMATEDIFF_CONTROL_ADAPTERS,
    I2VGENXL,
    ALLEGRO,
    LATTE,
    EASYANIMATE,
    EASYANIMATE_CONTROL,
    EASYANIMATE_INPAINT,
    SANA_VIDEO,
    SANA_VIDEO_I2V,
    SANA_WM,
    KANDINSKY5,
    KANDINSKY5_I2V,
    KANDINSKY6,
    MOTIF_VIDEO,
    MOTIF_VIDEO_I2V,
)


def supported_pipelines() -> list[str]:
    return sorted(p for a in ADAPTERS for p in a.pipelines)


def adapter_for_class(class_name: str, where: str = "model_index.json") -> Adapter:
    for adapter in ADAPTERS:
        if class_name in adapter.pipelines:
            return adapter
    if class_name in REFUSED:
        raise WeditorError(f"{where}: pipeline class {class_name!r} is not supported: {REFUSED[class_name]}")
    raise WeditorError(
        f"{where}: pipeline class {class_name!r} is not supported (supported: {', '.join(supported_pipelines())})"
    )


def adapter_for_model(folder, class_name: str, where: str = "model_index.json") -> Adapter:
    """`adapter_for_class`, then its `variant` for the checkpoint in `folder` (read off its first denoiser's
    config.json): the table that is exact for this checkpoint's blocks."""
    import json
    from pathlib import Path

    from weditor.io.input_files import read_small_file

    adapter = adapter_for_class(class_name, where)
    if adapter.variant is None:
        return adapter
    path = Path(folder) / adapter.denoisers[0] / "config.json"
    if not path.exists() and not path.is_symlink():  # `inspect` of a Hub id fetches model_index.json alone
        return adapter
    try:
        config = json.loads(read_small_file(path, "denoiser config", 1 << 20))
    except ValueError as e:
        raise WeditorError(f"{path}: not a JSON config ({e})") from None
    if not isinstance(config, dict):
        raise WeditorError(f"{path}: not a JSON object")
    return adapter.variant(adapter, config)


def unlisted_video_pipelines(classes=None) -> list[str]:
    """Video pipeline classes of the installed diffusers with neither an adapter nor a refusal row."""
    from weditor.adapters.catalogue import video_pipeline_classes

    known = set(supported_pipelines()) | set(REFUSED)
    return [c for c in (video_pipeline_classes() if classes is None else classes) if c not in known]


__all__ = [
    "ADAPTERS",
    "REFUSED",
    "Adapter",
    "Site",
    "adapter_for_class",
    "adapter_for_model",
    "supported_pipelines",
    "unlisted_video_pipelines",
]
