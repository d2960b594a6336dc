"""Tiny random pipelines of every supported family, built offline for the tests (no weights downloaded).

`pipelines.py` holds the first families and the shared tokenizers and text encoders, `families.py`
the newer ones, `ltx2.py` LTX-2's; `TINY_PIPELINES` names them all for `save_tiny_pipeline`.
"""

from __future__ import annotations

from pathlib import Path

from weditor.testing.families import TINY_FAMILY_PIPELINES
from weditor.testing.kandinsky import TINY_KANDINSKY_PIPELINES
from weditor.testing.ltx2 import TINY_LTX2_PIPELINES
from weditor.testing.motif import TINY_MOTIF_PIPELINES
from weditor.testing.pipelines import *  # noqa: F403 - the builders, as `weditor.testing.build_...`
from weditor.testing.pipelines import TINY_PIPELINES
from weditor.testing.pixart import TINY_PIXART_PIPELINES
from weditor.testing.sana import TINY_SANA_PIPELINES
from weditor.testing.text import WORDS, _t5, _word_level  # noqa: F401 - used by tests

TINY_PIPELINES.update(TINY_FAMILY_PIPELINES)
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
