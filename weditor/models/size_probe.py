"""One denoiser call at a `--size` the user chose, before any work, so that a size the model cannot run is one line.

Each family's default size is tested; a size typed on the command line is not. Too small a size
(fewer latent pixels than the transformer's patch), or one that a family's latent packing or
pyramid cannot divide, otherwise surfaces as a reshape or convolution traceback deep inside
diffusers, and for the default method only at verification, after the edit was fitted. The probe
costs one forward of one prompt at one step, and runs only when `--size` was given.
"""

from __future__ import annotations

from contextlib import contextmanager

import torch

from weditor.errors import WeditorError
from weditor.models.runtime import present_denoisers


@contextmanager
def size_checked(size: tuple[int, int, int], pipeline_class: str, default: tuple[int, int, int]):
    """Turn what a model raises at a size it cannot run into one WeditorError naming `--size`."""
    try:
        yield
    except WeditorError:
        raise
    except (RuntimeError, ValueError, IndexError, ZeroDivisionError, AssertionError) as e:
        first = (str(e).strip().splitlines() or [type(e).__name__])[0][:200]
        raise WeditorError(
            f"--size {'x'.join(map(str, size))}: {pipeline_class} cannot run at this size ({type(e).__name__}: "
            f"{first}); this model's default is {'x'.join(map(str, default))}"
        ) from None


def probe_size(pipe, adapter, settings, pipeline_class: str, default: tuple[int, int, int]) -> None:
    """Raise one WeditorError unless the first denoiser runs at `settings.size`.

    The timestep is the verification's early one (`check_timesteps`: EDM families count in log-sigma).
    Draws from its own generator, so the run's seeded noise is the same with and without the probe.
    """
    with size_checked(settings.size, pipeline_class, default), torch.inference_mode():
        cond = adapter.encode(pipe, ["a test prompt"], settings.device)
        x = adapter.latents(pipe, settings.size, torch.Generator("cpu").manual_seed(0), settings.device)
        for component in present_denoisers(pipe, adapter)[:1]:
            out = adapter.forward(
                getattr(pipe, component),
                x,
                torch.tensor(float((adapter.check_timesteps or (900.0,))[0])).to(settings.device),
                cond,
            )
            if out.numel() == 0:
                raise ValueError("the denoiser returned an empty prediction")


def probe_call(pipe, kwargs: dict, size: tuple[int, int, int], default: tuple[int, int, int]) -> None:
    """Raise one WeditorError unless the stock pipeline's `__call__` runs one step at `size`.

    eval and attack generate with the stock pipeline, whose own input checks (sizes divisible by
    its VAE and patch) come before any denoiser call; one step to latents checks both.
    """
    call = {**kwargs, "num_inference_steps": 1, "output_type": "latent"}
    with size_checked(size, type(pipe).__name__, default), torch.inference_mode():
        pipe(prompt=["a test prompt"], generator=[torch.Generator("cpu").manual_seed(0)], **call)
