"""A stand-in for the Cosmos guardrail, so weditor can load a Cosmos pipeline to edit its denoiser.

Every Cosmos pipeline (1, 2, 2.5, 3) has a `safety_checker` component that its `__init__` builds
itself when it is None (`CosmosSafetyChecker()` from the `cosmos_guardrail` package): without that
package, loading raises ImportError (and `from_pretrained` of a folder whose model_index.json has
`"safety_checker": [null, null]`, as a saved pipeline has); with it, loading builds the guardrail and
its own safety models. A pipeline whose checker is set to None afterwards
refuses to generate (ValueError, citing the NVIDIA Open Model License).

weditor only encodes prompts and runs the transformer, never the pipeline's `__call__`, so it passes
this stand-in instead (`Adapter.stand_ins`): loading needs neither the package nor its models, and the
patched folder is unchanged in that respect (its model_index.json is the base's). Should anything
call the pipeline on it, the stand-in refuses in one line rather than let a video out unchecked.
"""

from __future__ import annotations

import sys

from weditor.errors import WeditorError


def _refuse(*args, **kwargs):
    raise WeditorError(
        "this Cosmos pipeline was loaded by weditor with a stand-in for its guardrail (safety_checker): "
        "weditor does not generate with Cosmos; load the patched folder with diffusers and cosmos_guardrail"
    )


def stand_in(pipeline_cls):
    """An object the pipeline accepts as its `safety_checker`: of the class its module names
    `CosmosSafetyChecker` where that is diffusers' placeholder (no cosmos_guardrail installed, so no
    type warning), a plain object otherwise; checking text or video raises WeditorError."""
    base = getattr(sys.modules.get(pipeline_cls.__module__), "CosmosSafetyChecker", object)
    if base is not object and (base.__module__ != pipeline_cls.__module__ or len(base.__mro__) != 2):
        base = object  # the real guardrail (an nn.Module): not subclassed without its __init__

    def to(self, *args, **kwargs):
        return self

    cls = type(
        "GuardrailStandIn",
        (base,),
        {
            "__init__": lambda self: None,
            "check_text_safety": _refuse,
            "check_video_safety": _refuse,
            "to": to,
            "__doc__": "weditor's stand-in for the Cosmos guardrail (weditor/models/guardrail.py)",
        },
    )
    return cls()


def stand_ins(pipeline_cls, names) -> dict:
    """{component: stand-in} for `from_pretrained`."""
    return {name: stand_in(pipeline_cls) for name in names}
