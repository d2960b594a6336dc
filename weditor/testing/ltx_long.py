"""Tiny `LTXI2VLongMultiPromptPipeline`s: the tiny LTX-Video parts under the windowed long-video pipeline.

The default scheduler is the plain flow-matching Euler one (deterministic: the step-for-step tests
compare with the stock pipeline); `ancestral=True` gives the pipeline's recommended
`LTXEulerAncestralRFScheduler`, whose steps add noise.
"""

from __future__ import annotations


def build_tiny_ltx_long_pipeline(seed: int = 0, ancestral: bool = False):
    from diffusers import FlowMatchEulerDiscreteScheduler, LTXEulerAncestralRFScheduler, LTXI2VLongMultiPromptPipeline

    from weditor.testing.pipelines import build_tiny_ltx_pipeline

    parts = build_tiny_ltx_pipeline(seed=seed).components
    parts["scheduler"] = LTXEulerAncestralRFScheduler() if ancestral else FlowMatchEulerDiscreteScheduler()
    return LTXI2VLongMultiPromptPipeline(**parts)


TINY_LTX_LONG_PIPELINES = {"ltx-long": (build_tiny_ltx_long_pipeline, {})}
