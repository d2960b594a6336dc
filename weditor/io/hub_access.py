"""Can a Hub id be read at all? Answered in a second, before torch and diffusers are imported.

Without this, `weditor patch ORG/NAME` on a machine with no route to the Hub spends ~35 s in
huggingface_hub's retries and ends in `LocalEntryNotFoundError: ... ConnectError: [Errno -2]`.
Here: a model already in the local Hugging Face cache is used as it is (offline, no retries);
otherwise one TCP connection to the Hub's host decides, and its failure is one plain sentence
that says a local folder works.
"""

from __future__ import annotations

import socket
from pathlib import Path
from urllib.parse import urlsplit

from weditor.errors import WeditorError

CONNECT_TIMEOUT_S = 5.0
PROBE_FILE = "model_index.json"  # every diffusers pipeline has one


def _unreachable(model: str, why: str) -> WeditorError:
    return WeditorError(
        f"{model}: could not be downloaded ({why}). Download it where the Hub can be reached "
        f"(`hf download {model} --local-dir FOLDER`) and give that folder instead of the id, or set "
        "HF_ENDPOINT to a reachable mirror"
    )


def is_local(model: str) -> bool:
    return model.startswith(("weditor:", ".", "/", "~")) or Path(model).expanduser().exists() or model.count("/") != 1


def check_hub_model(model: str, revision: str | None = None) -> None:
    """Raise one WeditorError when `model` is a Hub id that can be neither found in the cache nor downloaded.

    A cached model switches huggingface_hub to offline mode when the Hub is unreachable, so the
    download step reads the cache without retrying the network.
    """
    if is_local(model):
        return
    from huggingface_hub import constants, try_to_load_from_cache

    try:
        cached = isinstance(try_to_load_from_cache(model, PROBE_FILE, revision=revision), str)
    except Exception:  # noqa: BLE001 - an id huggingface_hub rejects is the resolver's error to report
        return
    if constants.HF_HUB_OFFLINE:
        if not cached:
            raise _unreachable(model, "offline mode (HF_HUB_OFFLINE is set) and not in the local Hugging Face cache")
        return
    url = urlsplit(constants.ENDPOINT)
    host, port = url.hostname, url.port or (443 if url.scheme == "https" else 80)
    try:
        with socket.create_connection((host, port), timeout=CONNECT_TIMEOUT_S):
            return
    except OSError as e:
        if cached:
            constants.HF_HUB_OFFLINE = True  # read the cache; no retries against a Hub that is not there
            return
        reason = e.strerror or type(e).__name__
        if isinstance(e, socket.gaierror):
            reason = "name not found"
        elif isinstance(e, TimeoutError):
            reason = f"no answer in {CONNECT_TIMEOUT_S:g} s"
        raise _unreachable(model, f"no connection to {host}:{port}: {reason}") from None
