"""ConsisID (weditor/adapters/consisid.py): face-free checkpoints run as CogVideoX I2V (tests/test_adapters.py,
family "consisid"); face-trained ones (`is_train_face`) and a missing OpenCV are refused in one line.

diffusers exports `ConsisIDPipeline` only with OpenCV installed (`opencv-python-headless`, in the `test`
extra): without it the tests that build a ConsisID pipeline are skipped, with that reason, here and in
tests/test_adapters.py.
"""

from __future__ import annotations

import importlib.util
import json
import sys

import pytest

from tests.conftest import TINY_PAIRS, run_cli
from tests.test_adapters import tiny  # noqa: F401 (fixture)
from weditor.adapters import adapter_for_class
from weditor.errors import WeditorError

needs_cv2 = pytest.mark.skipif(
    importlib.util.find_spec("cv2") is None,
    reason="OpenCV is not installed (pip install opencv-python-headless): diffusers exports no ConsisIDPipeline "
    "without it, so neither this test nor tests/test_adapters.py's consisid rows can build one",
)


@needs_cv2
def test_face_trained_checkpoint_is_refused_in_one_line(tmp_path):
    from weditor.testing.consisid import build_tiny_consisid_pipeline

    base = tmp_path / "face"
    build_tiny_consisid_pipeline(face=True).save_pretrained(base, safe_serialization=True)
    for args in (["patch", base, "--pairs", TINY_PAIRS, "--out", tmp_path / "o"], ["inspect", base]):
        result = run_cli(args)
        errors = [line for line in result.output.splitlines() if line.startswith("Error")]
        assert result.exit_code == 2 and len(errors) == 1, result.output
        assert "face-identity embeddings" in errors[0] and "is_train_face" in errors[0]
        assert "Traceback" not in result.output
    assert not (tmp_path / "o").exists()


@needs_cv2
def test_inspect_resolves_a_face_free_checkpoint(tiny):
    result = run_cli(["inspect", tiny("consisid"), "--json"])
    assert result.exit_code == 0, result.output
    (report,) = json.loads(result.output)["denoisers"].values()
    assert report["block_groups"]["blocks"]["blocks"] == 3
    assert report["text_input_linears"] == {"encoder_hidden_states": ["patch_embed.text_proj"]}


def test_a_missing_opencv_is_one_error_naming_the_package(monkeypatch):
    monkeypatch.setitem(sys.modules, "cv2", None)  # `import cv2` now raises ImportError
    with pytest.raises(WeditorError, match="opencv-python-headless") as e:
        adapter_for_class("ConsisIDPipeline").check_requirements()
    assert "exports ConsisIDPipeline only with OpenCV" in str(e.value)
