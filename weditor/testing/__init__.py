"""Tiny random pipelines of every supported family, built offline for the tests (no weights downloaded).

`pipelines.py` holds the first families and the shared tokenizers and text encoders, `families.py`
the newer ones, `ltx2.py` LTX-2's, `pixart.py` Allegro and Latte, `wan_derived.py` AnyFlow and Helios,
`framepack.py` Framepack, `consisid.py` ConsisID, `animatediff.py` the motion-adapter UNets, `cosmos.py`
Cosmos, `ltx_long.py` LTX-Video's windowed long-video pipeline, `easyanimate.py` EasyAnimate's;
`TINY_PIPELINES` names them all for `save_tiny_pipeline`.
"""

from __future__ import annotations

from pathlib import Path

from weditor.testing.animatediff import TINY_ANIMATEDIFF_PIPELINES
from weditor.testing.consisid import TINY_CONSISID_PIPELINES
from weditor.testing.cosmos import TINY_COSMOS_PIPELINES
from weditor.testing.easyanimate import TINY_EASYANIMATE_PIPELINES
from weditor.testing.families import TINY_FAMILY_PIPELINES
from weditor.testing.framepack import TINY_FRAMEPACK_PIPELINES
from weditor.testing.kandinsky import TINY_KANDINSKY_PIPELINES
from weditor.testing.ltx2 import TINY_LTX2_PIPELINES
from weditor.testing.ltx_long import TINY_LTX_LONG_PIPELINES
from weditor.testing.motif import TINY_MOTIF_PIPELINES
from weditor.testing.pipelines import *  # noqa: F403 - the builders, as `weditor.testing.build_...`
from weditor.testing.pipelines import TINY_PIPELINES
from weditor.testing.pixart import TINY_PIXART_PIPELINES
from weditor.testing.sana import TINY_SANA_PIPELINES
from weditor.testing.text import WORDS, _t5, _word_level  # noqa: F401 - used by tests
from weditor.testing.wan_derived import TINY_WAN_DERIVED_PIPELINES

TINY_PIPELINES.update(TINY_CONSISID_PIPELINES)
TINY_PIPELINES.update(TINY_ANIMATEDIFF_PIPELINES)
TINY_PIPELINES.update(TINY_COSMOS_PIPELINES)
TINY_PIPELINES.update(TINY_FAMILY_PIPELINES)
TINY_PIPELINES.update(TINY_FRAMEPACK_PIPELINES)
TINY_PIPELINES.update(TINY_EASYANIMATE_PIPELINES)
TINY_PIPELINES.update(TINY_LTX2_PIPELINES)
TINY_PIPELINES.update(TINY_LTX_LONG_PIPELINES)
TINY_PIPELINES.update(TINY_PIXART_PIPELINES)
TINY_PIPELINES.update(TINY_WAN_DERIVED_PIPELINES)
TINY_PIPELINES.update(TINY_KANDINSKY_PIPELINES)
TINY_PIPELINES.update(TINY_LTX2_PIPELINES)
TINY_PIPELINES.update(TINY_MOTIF_PIPELINES)
TINY_PIPELINES.update(TINY_PIXART_PIPELINES)
TINY_PIPELINES.update(TINY_SANA_PIPELINES)


def save_tiny_pipeline(name: str, path: str | Path, **kwargs) -> Path:
    builder, defaults = TINY_PIPELINES[name]
    path = Path(path)
    builder(**{**defaults, **kwargs}).save_pretrained(path, safe_serialization=True)
    return path
