"""Publishing a patched folder to the Hugging Face Hub.

Only a folder that passes `weditor verify` is pushed: its files match the recipe's hashes, and every
edit recomputed and every other file and tensor compared with the base model give what the recipe
says (a checkpoint that no longer matches is not the checkpoint the card describes). Without the
base model at hand, only the hash checks can run, and the push needs `--allow-unverified-base`. Everything Hub-side is huggingface_hub's: auth (`token=None` lets it find HF_TOKEN or the
saved login), LFS or Xet uploads, retries.

The push is one `create_commit` with one `CommitOperationAdd` per file, rather than `upload_folder`:
with hf_xet installed, `upload_folder` may split a folder into several commits and writes resume
state under `OUT_DIR/.cache/`, while a single commit makes the Hub revision match the recipe as a
whole (or not at all) and leaves the local folder untouched. The files sent are exactly those the
recipe lists, plus `weditor.json`; strays (editor backups, `.DS_Store`) are never published.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from weditor.errors import WeditorError
from weditor.io import recipe as recipe_mod

STATUS_HINTS = {
    401: "invalid or missing token; set HF_TOKEN or run `hf auth login`",
    403: "the token cannot write to this namespace",
    404: "repository or revision not found",
    409: "conflict with the current state of the repository",
    412: "the branch moved during the push; push again",
    413: "payload too large",
    429: "rate limited; retry later",
}


def _verify(
    out_dir: str | Path, base: str | Path | None = None, allow_unverified_base: bool = False, allow_pickle: bool = False
) -> None:
    """What `weditor verify` checks (weditor/checks/verify.py), raising on the first failure: hashes, then the
    edits recomputed and every other file and tensor compared with the base."""
    from weditor.checks.diff import CheckFailed
    from weditor.checks.verify import require_verified, verify_patched

    try:
        require_verified(verify_patched(out_dir, base=base, allow_pickle=allow_pickle), allow_unverified_base)
    except CheckFailed as e:  # for push, a folder that fails verification is a refused input: exit 2
        raise WeditorError(f"not pushing: {e.message}") from None


def _status_of(exc: BaseException) -> tuple[int | None, str]:
    """HTTP status and server message of the first HTTP error in an exception's cause chain."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        response = getattr(exc, "response", None)
        status = getattr(response, "status_code", None)
        if isinstance(status, int):
            message = ""
            try:
                message = response.headers.get("X-Error-Message") or ""
            except Exception:
                pass
            return status, message
        exc = exc.__cause__ or exc.__context__
    return None, ""


def _transport_errors() -> tuple[type[BaseException], ...]:
    """Connection-level errors of whichever HTTP client this huggingface_hub version uses."""
    errors: list[type[BaseException]] = [ConnectionError, TimeoutError]
    for module, name in (("httpx2", "TransportError"), ("httpx", "TransportError"), ("requests", "RequestException")):
        try:
            errors.append(getattr(importlib.import_module(module), name))
        except (ImportError, AttributeError):
            pass
    return tuple(errors)


def _one_line(text: str, secret: str | None) -> str:
    text = " ".join(str(text).split())
    if secret and len(secret) >= 8:  # a real token; a short one would mangle ordinary words
        text = text.replace(secret, "<token>")
    return text[:200] + ("..." if len(text) > 200 else "")


def _push_error(e: Exception, where: str, endpoint: str, secret: str | None) -> WeditorError | None:
    """The one-line error for a failed push, or None for an unexpected (programming) error."""
    status, message = _status_of(e)
    if status is not None:
        hint = STATUS_HINTS.get(status, "server error; retry later" if status >= 500 else "")
        detail = "; ".join(x for x in (hint, _one_line(message, secret)) if x)
        return WeditorError(
            f"cannot push to {where}: HTTP {status} from {endpoint}" + (f" ({detail})" if detail else "")
        )
    if isinstance(e, _transport_errors()):
        return WeditorError(
            f"cannot push to {where}: cannot reach {endpoint} ({type(e).__name__}: {_one_line(e, secret)})"
        )
    if isinstance(e, (ValueError, OSError, RuntimeError)):  # client-side refusals, e.g. invalid card metadata
        return WeditorError(f"cannot push to {where}: {_one_line(e, secret)}")
    return None


def push_folder(
    out_dir: str | Path,
    repo_id: str,
    private: bool = False,
    token: str | None = None,
    endpoint: str | None = None,
    revision: str | None = None,
    base: str | Path | None = None,
    allow_unverified_base: bool = False,
    allow_pickle: bool = False,
) -> str:
    """Verify `out_dir`, create `repo_id` if needed and upload the folder in one commit; return its URL.

    Failures (verification, bad token, server errors, no network) are one-line `WeditorError`s naming
    the repository and HTTP status; the local folder is only ever read. The verification is
    `weditor verify`'s: without the base model, only with `allow_unverified_base`.
    """
    from huggingface_hub import CommitOperationAdd, HfApi
    from huggingface_hub.errors import HFValidationError
    from huggingface_hub.utils import get_token, validate_repo_id

    out_dir = Path(out_dir)
    try:
        validate_repo_id(repo_id)
    except HFValidationError:
        repo_id_ok = False
    else:
        repo_id_ok = repo_id.count("/") == 1
    if not repo_id_ok:
        raise WeditorError(f"repository id {repo_id!r} is not of the form USER/NAME")
    if not out_dir.is_dir():
        raise WeditorError(f"{out_dir}: not a folder")

    _verify(out_dir, base=base, allow_unverified_base=allow_unverified_base, allow_pickle=allow_pickle)
    recipe = recipe_mod.load_recipe(out_dir)
    if not isinstance(recipe.get("files"), dict) or not recipe["files"]:
        raise WeditorError(f"{out_dir / recipe_mod.RECIPE_NAME}: field 'files' is missing or empty; nothing to push")
    paths = sorted(recipe["files"]) + [recipe_mod.RECIPE_NAME]

    api = HfApi(endpoint=endpoint, token=token)
    secret = token or get_token()
    where = f"{repo_id}" + (f"@{revision}" if revision else "")
    concepts = ", ".join(p.get("concept", "?") for p in recipe.get("pairs") or []) or "no concepts"
    try:
        repo_url = api.create_repo(repo_id, private=private, exist_ok=True, repo_type="model")
        if private and not api.repo_info(repo_id, repo_type="model").private:
            # create_repo ignores `private` for an existing repo; a checkpoint meant to stay private
            # must not land in a public one.
            raise WeditorError(
                f"cannot push to {where}: the repository exists and is public, but a private push was asked for"
            )
        if revision is not None and revision != "main":
            api.create_branch(repo_id, branch=revision, exist_ok=True, repo_type="model")
        api.create_commit(
            repo_id,
            operations=[CommitOperationAdd(path_in_repo=p, path_or_fileobj=str(out_dir / p)) for p in paths],
            commit_message=f"weditor: safety patch ({concepts})",
            commit_description=f"Pushed by weditor from a verified folder: {len(paths)} files, hashes in weditor.json.",
            repo_type="model",
            revision=revision,
        )
    except WeditorError:
        raise
    except Exception as e:
        error = _push_error(e, where, api.endpoint, secret)
        if error is None:
            raise
        raise error from None
    url = str(repo_url).rstrip("/")
    return f"{url}/tree/{revision}" if revision and revision != "main" else url
