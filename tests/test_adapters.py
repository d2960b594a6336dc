"""`weditor patch` on a tiny random pipeline of every supported family, checked against stock diffusers.

For each family: the patched folder reloads with the stock pipeline class; every edited tensor
equals the edit recomputed from the base weights and weditor/directions.safetensors; every other
tensor is byte-identical; the reloaded denoiser equals the base denoiser with the projection
applied at run time by hooks; and the adapter's runtime glue (encode / latents / forward) gives
the very predictions the stock pipeline's own loop gives, step for step.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
from pathlib import Path

import pytest
import torch
from safetensors import safe_open

from tests.conftest import TINY_PAIRS, readouts_of, run_cli
from weditor.adapters import adapter_for_class, adapter_for_model
from weditor.io.recipe import DIRECTIONS_FILE
from weditor.maths.edits import remove_input, remove_output
from weditor.models.runtime import Settings, SiteKey, encode, site_modules, trajectory

DATA = Path(__file__).parent / "data"

# family -> (tiny pipeline, collection size or None for the adapter's default, layers, patch options)
FAMILIES = {
    "wan-i2v": ("wan-i2v", "32x32x5", "1-2", []),
    "wan22-i2v": ("wan22-i2v", "32x32x5", "-1", ["--no-summary"]),
    "wan22-ti2v": ("wan22-ti2v", "32x32x5", "-1", ["--no-summary"]),
    "cogvideox": ("cogvideox", "32x32x9", "1-2", ["--no-summary"]),
    "cogvideox-i2v": ("cogvideox-i2v", None, "1-2", ["--no-summary"]),  # learned positions: size from config
    "ltx": ("ltx", "32x32x9", "1-2", ["--no-summary"]),
    "ltx-i2v": ("ltx-i2v", "32x32x9", "1-2", ["--no-summary"]),
    "hunyuanvideo": ("hunyuanvideo", "32x32x5", "0-1", ["--no-summary"]),
    "hunyuanvideo-single": ("hunyuanvideo", "32x32x5", "-1", ["--no-summary", "--site", "single_in"]),
    "zeroscope": ("zeroscope", "16x16x4", "0-3", ["--no-summary"]),
    # the prompt's tokens as each block's cross-attention reads them (Wan 2.1 I2V: the text part only)
    "wan-i2v-kv": ("wan-i2v", "32x32x5", "1-2", ["--site", "cross_attn_kv_in"]),
    "ltx-kv": ("ltx", "32x32x9", "1-2", ["--no-summary", "--site", "cross_attn_kv_in"]),
    "zeroscope-kv": ("zeroscope", "16x16x4", "0-3", ["--no-summary", "--site", "cross_attn_kv_in"]),
    # Wan's blocks under other pipelines (weditor/adapters/wan_family.py), and ZeroScope's video-to-video
    "skyreels": ("skyreels", "32x32x5", "1-2", ["--no-summary"]),
    "skyreels-i2v": ("skyreels-i2v", "32x32x5", "1-2", ["--no-summary"]),
    "skyreels-df": ("skyreels-df", "32x32x5", "1-2", ["--no-summary"]),
    "skyreels-df-i2v": ("skyreels-df-i2v", "32x32x5", "-1", ["--no-summary"]),
    "skyreels-df-v2v": ("skyreels-df-v2v", "32x32x5", "-1", ["--no-summary"]),
    "wan-vace": ("wan-vace", "32x32x5", "1-2", ["--no-summary"]),
    "wan-v2v": ("wan-v2v", "32x32x5", "-1", ["--no-summary"]),
    "lucy-edit": ("lucy-edit", "32x32x5", "1-2", ["--no-summary"]),
    "wan-animate": ("wan-animate", "32x32x5", "1-3", ["--no-summary"]),  # character image; blank pose and face
    "wan-animate-text": ("wan-animate", "32x32x5", "1-3", ["--no-summary"]),  # no image: a mid-grey character
    "chronoedit": ("chronoedit", "32x32x5", "1-2", ["--no-summary"]),
    "zeroscope-v2v": ("zeroscope-v2v", "16x16x4", "0-3", ["--no-summary"]),
    "cogvideox-v2v": ("cogvideox-v2v", "32x32x9", "1-2", ["--no-summary"]),
    "cogvideox-fun-control": ("cogvideox-fun-control", "32x32x9", "1-2", ["--no-summary"]),  # mid-grey control
    "hunyuan-skyreels-i2v": ("hunyuan-skyreels-i2v", "32x32x5", "0-1", ["--no-summary"]),
    "mochi": ("mochi", "32x32x7", "1-2", ["--no-summary"]),
    "hunyuan-i2v": ("hunyuan-i2v", "32x32x5", "0-1", ["--no-summary"]),
    "ltx-condition": ("ltx-condition", "32x32x9", "1-2", ["--no-summary"]),
    "ltx-condition-text": ("ltx-condition", "32x32x9", "1-2", ["--no-summary"]),  # no image: text-only mode
    "ltx-long": ("ltx-long", "32x32x9", "1-2", ["--no-summary"]),  # one temporal window, one prompt
    # 1000 prompt + 729 image + 256 glyph tokens, a 2048-wide ByT5 projection: seconds per step on 2 cores,
    # so no refusal patch (a collection run) here: its fold is checked in test_safree / test_text_readout
    "hunyuan15": ("hunyuan15", "32x32x5", "0-1", ["--no-summary"]),
    "hunyuan15-i2v": ("hunyuan15-i2v", "32x32x5", "0-1", ["--no-summary"]),
    # LTX-2: the joint audio-video transformer (weditor/adapters/ltx2.py); the audio stream's own prompt read-out
    "ltx2": ("ltx2", "32x32x9", "1-2", ["--no-summary"]),
    "ltx2-i2v": ("ltx2-i2v", "32x32x9", "1-2", ["--no-summary"]),
    "ltx2-kv": ("ltx2", "32x32x9", "1-2", ["--no-summary", "--site", "cross_attn_kv_in"]),
    "ltx2-audio-kv": ("ltx2", "32x32x9", "0-2", ["--no-summary", "--site", "audio_cross_attn_kv_in"]),
    "ltx2-condition": ("ltx2-condition", "32x32x9", "1-2", ["--no-summary"]),
    "ltx2-condition-text": ("ltx2-condition", "32x32x9", "1-2", ["--no-summary"]),  # no image: text-only mode
    "ltx2-dfr": ("ltx2-dfr", "32x32x9", "1-2", ["--no-summary"]),  # canvas + one keyframe slot, distilled sigmas
    "ltx2-hdr": ("ltx2-hdr", "32x32x9", "1-2", ["--no-summary"]),  # no reference video (its own test: a video)
    "ltx2-in-context": ("ltx2-in-context", "32x32x9", "1-2", ["--no-summary"]),
    # PixArt-style blocks (weditor/adapters/pixart.py): Allegro (Euler-ancestral, a scaled denoiser input). The
    # read-out edit barely moves this tiny model (relative change 3e-4 at collection, 2e-6 at the hook test's
    # inputs): the plain projection here, the read-out edit on the kv site
    "allegro": ("allegro", "32x32x9", "1-2", ["--no-summary", "--edit", "projection"]),
    "allegro-kv": ("allegro", "32x32x9", "1-2", ["--no-summary", "--site", "cross_attn_kv_in"]),
    # Latte: spatial blocks (the prompt, ungated cross-attention) and temporal ones (group "temporal"); 4 frames fixed
    "latte": ("latte", "32x32x4", "0-1", ["--no-summary"]),
    "latte-temporal": ("latte", "32x32x4", "0-1", ["--no-summary", "--site", "temporal_ffn_in"]),
    "latte-kv": ("latte", "32x32x4", "0-1", ["--no-summary", "--site", "cross_attn_kv_in"]),
    # Wan's blocks under their own transformer classes (weditor/adapters/anyflow.py, helios.py): flow maps, the
    # first chunk of chunked sampling (FAR, Helios), the first stage of the pyramid
    "anyflow": ("anyflow", "32x32x5", "1-2", ["--no-summary"]),  # each member's image as the conditioning frame
    "anyflow-text": ("anyflow", "32x32x5", "1-2", ["--no-summary"]),  # no image: text-to-video mode
    "anyflow-kv": ("anyflow", "32x32x5", "1-2", ["--no-summary", "--site", "cross_attn_kv_in"]),
    "anyflow-far": ("anyflow-far", "32x32x9", "1-2", ["--no-summary"]),
    "helios": ("helios", "32x32x9", "1-2", ["--no-summary"]),
    "helios-kv": ("helios", "32x32x9", "1-2", ["--no-summary", "--site", "cross_attn_kv_in"]),
    "helios-pyramid": ("helios-pyramid", "64x64x9", "1-2", ["--no-summary"]),
    # HunyuanVideo's blocks reading SigLIP tokens and packed history (weditor/adapters/framepack.py): one section
    "framepack": ("framepack", "32x32x9", "0-1", ["--no-summary"]),
    "framepack-single": ("framepack", "32x32x9", "-1", ["--no-summary", "--site", "single_in"]),
    # motion-adapter UNets (weditor/adapters/animatediff.py): UNet3D's spatial blocks; PIA's first frame an image
    "animatediff": ("animatediff", "16x16x4", "0-3", ["--no-summary"]),
    "animatediff-kv": ("animatediff", "16x16x4", "0-3", ["--no-summary", "--site", "cross_attn_kv_in"]),
    "animatediff-v2v": ("animatediff-v2v", "16x16x4", "0-3", ["--no-summary"]),
    "animatediff-pag": ("animatediff-pag", "16x16x4", "0-3", ["--no-summary"]),  # PAG off, as CFG
    "animatediff-controlnet": ("animatediff-controlnet", "16x16x4", "0-3", ["--no-summary"]),  # mid-grey control
    "animatediff-v2v-controlnet": ("animatediff-v2v-controlnet", "16x16x4", "0-3", ["--no-summary"]),
    "animatediff-sparsectrl": ("animatediff-sparsectrl", "16x16x4", "0-3", ["--no-summary"]),  # image at frame 0
    "animatediff-sparsectrl-text": ("animatediff-sparsectrl", "16x16x4", "0-3", ["--no-summary"]),  # mid-grey
    "pia": ("pia", "16x16x4", "0-3", ["--no-summary"]),
    "pia-text": ("pia", "16x16x4", "0-3", ["--no-summary"]),  # no image: a mid-grey first frame
    "animatediff-sdxl": ("animatediff-sdxl", "16x16x4", "0-3", ["--no-summary"]),  # pooled text + size ids
    "i2vgenxl": ("i2vgenxl", "16x16x4", "0-3", ["--no-summary"]),  # UNet3D blocks; text + image tokens in attn2
    "i2vgenxl-text": ("i2vgenxl", "16x16x4", "0-3", ["--no-summary"]),  # no image: mid-grey
    # Cosmos 1 (weditor/adapters/cosmos.py): EDM, every write gated; video-to-world conditioned on the pair's image
    "cosmos": ("cosmos", "32x32x9", "1-2", ["--no-summary"]),
    "cosmos-kv": ("cosmos", "32x32x9", "1-2", ["--no-summary", "--site", "cross_attn_kv_in"]),
    "cosmos-v2w": ("cosmos-v2w", "32x32x9", "1-2", ["--no-summary"]),
    "cosmos2-v2w": ("cosmos2-v2w", "32x32x9", "1-2", ["--no-summary"]),  # flow-matching Euler, Wan VAE
    "cosmos25": ("cosmos25", "32x32x9", "1-2", ["--no-summary"]),  # Image2World: Qwen2.5-VL, UniPC
    "cosmos25-text": ("cosmos25", "32x32x9", "1-2", ["--no-summary"]),  # no image: Text2World
    # EasyAnimate (weditor/adapters/easyanimate.py): MMDiT blocks, Qwen2-VL text; control without a video: zeros
    "easyanimate": ("easyanimate", "32x32x5", "0-1", ["--no-summary", "--edit", "projection"]),
    "easyanimate-control": ("easyanimate-control", "32x32x5", "0-1", ["--no-summary", "--edit", "projection"]),
    "easyanimate-inpaint": ("easyanimate-inpaint", "32x32x5", "0-1", ["--no-summary", "--edit", "projection"]),
    # Sana-Video: linear attention (gated), ungated cross-attention, a convolutional FFN (no site)
    "sana-video": ("sana-video", "32x32x9", "1-2", ["--no-summary"]),
    "sana-video-kv": ("sana-video", "32x32x9", "1-2", ["--no-summary", "--site", "cross_attn_kv_in"]),
    "sana-video-i2v": ("sana-video-i2v", "32x32x9", "1-2", ["--no-summary"]),
    "sana-video-i2v-text": ("sana-video-i2v", "32x32x9", "1-2", ["--no-summary"]),  # no image: a mid-grey frame
    # SANA-WM: a first-frame image (grey without) and the collection's fixed still camera
    "sana-wm": ("sana-wm", "32x32x5", "0-1", ["--no-summary"]),
    "sana-wm-kv": ("sana-wm", "32x32x5", "0-1", ["--no-summary", "--site", "cross_attn_kv_in"]),
    "sana-wm-text": ("sana-wm", "32x32x5", "0-1", ["--no-summary"]),
    # Kandinsky 5: every write gated; Qwen tokens (padded batches, masked keys) and CLIP pooled text
    "kandinsky5": ("kandinsky5", "32x32x9", "1-2", ["--no-summary"]),
    "kandinsky5-kv": ("kandinsky5", "32x32x9", "1-2", ["--no-summary", "--site", "cross_attn_kv_in"]),
    "kandinsky5-i2v": ("kandinsky5-i2v", "32x32x9", "1-2", ["--no-summary"]),
    "kandinsky6": ("kandinsky6", "32x32x9", "1-2", ["--no-summary"]),  # images: the tail-frame I2V mode
    "kandinsky6-text": ("kandinsky6", "32x32x9", "1-2", ["--no-summary"]),  # no image: its T2V mode
    # Motif-Video: HunyuanVideo's dual/single-stream table (T5Gemma 2 text); with the optional text
    # cross-attention (read off the config) its ungated write takes output-side edits and REINS
    "motif-video": ("motif-video", "32x32x9", "0-1", ["--no-summary"]),
    "motif-video-single": ("motif-video", "32x32x9", "-1", ["--no-summary", "--site", "single_in"]),
    "motif-video-xattn": ("motif-video-xattn", "32x32x9", "0-1", ["--no-summary", "--site", "cross_attn_out"]),
    "motif-video-xattn-kv": ("motif-video-xattn", "32x32x9", "0-1", ["--no-summary", "--site", "cross_attn_kv_in"]),
    "motif-video-i2v": ("motif-video-i2v", "32x32x9", "0-1", ["--no-summary"]),
}
if importlib.util.find_spec("cv2"):  # diffusers exports ConsisIDPipeline only with OpenCV (tests/test_consisid.py
    # reports a skip without it). CogVideoX's blocks, face-free checkpoints (weditor/adapters/consisid.py)
    FAMILIES["consisid"] = ("consisid", None, "1-2", ["--no-summary"])  # learned positions: size from config
SLOW = {"hunyuan15", "hunyuan15-i2v"}
# chunked or staged sampling: the adapter reproduces the stock loop's first chunk (stage), its first `steps` calls
FIRST_CALLS = {"anyflow-far", "helios-pyramid"}
PIPELINE_CLASS = {
    "wan-i2v": "WanImageToVideoPipeline",
    "wan22-i2v": "WanImageToVideoPipeline",
    "wan22-ti2v": "WanImageToVideoPipeline",
    "cogvideox": "CogVideoXPipeline",
    "cogvideox-i2v": "CogVideoXImageToVideoPipeline",
    "ltx": "LTXPipeline",
    "ltx-i2v": "LTXImageToVideoPipeline",
    "hunyuanvideo": "HunyuanVideoPipeline",
    "zeroscope": "TextToVideoSDPipeline",
    "skyreels": "SkyReelsV2Pipeline",
    "skyreels-i2v": "SkyReelsV2ImageToVideoPipeline",
    "skyreels-df": "SkyReelsV2DiffusionForcingPipeline",
    "skyreels-df-i2v": "SkyReelsV2DiffusionForcingImageToVideoPipeline",
    "skyreels-df-v2v": "SkyReelsV2DiffusionForcingVideoToVideoPipeline",
    "wan-vace": "WanVACEPipeline",
    "lucy-edit": "LucyEditPipeline",
    "wan-animate": "WanAnimatePipeline",
    "chronoedit": "ChronoEditPipeline",
    "wan-v2v": "WanVideoToVideoPipeline",
    "zeroscope-v2v": "VideoToVideoSDPipeline",
    "cogvideox-v2v": "CogVideoXVideoToVideoPipeline",
    "cogvideox-fun-control": "CogVideoXFunControlPipeline",
    "hunyuan-skyreels-i2v": "HunyuanSkyreelsImageToVideoPipeline",
    "mochi": "MochiPipeline",
    "hunyuan-i2v": "HunyuanVideoImageToVideoPipeline",
    "ltx-condition": "LTXConditionPipeline",
    "ltx-long": "LTXI2VLongMultiPromptPipeline",
    "hunyuan15": "HunyuanVideo15Pipeline",
    "hunyuan15-i2v": "HunyuanVideo15ImageToVideoPipeline",
    "ltx2": "LTX2Pipeline",
    "ltx2-i2v": "LTX2ImageToVideoPipeline",
    "ltx2-condition": "LTX2ConditionPipeline",
    "ltx2-dfr": "LTX2DFRPipeline",
    "ltx2-hdr": "LTX2HDRPipeline",
    "ltx2-in-context": "LTX2InContextPipeline",
    "allegro": "AllegroPipeline",
    "latte": "LattePipeline",
    "anyflow": "AnyFlowPipeline",
    "anyflow-far": "AnyFlowFARPipeline",
    "helios": "HeliosPipeline",
    "helios-pyramid": "HeliosPyramidPipeline",
    "framepack": "HunyuanVideoFramepackPipeline",
    "consisid": "ConsisIDPipeline",
    "animatediff": "AnimateDiffPipeline",
    "animatediff-v2v": "AnimateDiffVideoToVideoPipeline",
    "animatediff-pag": "AnimateDiffPAGPipeline",
    "animatediff-controlnet": "AnimateDiffControlNetPipeline",
    "animatediff-v2v-controlnet": "AnimateDiffVideoToVideoControlNetPipeline",
    "animatediff-sparsectrl": "AnimateDiffSparseControlNetPipeline",
    "pia": "PIAPipeline",
    "animatediff-sdxl": "AnimateDiffSDXLPipeline",
    "i2vgenxl": "I2VGenXLPipeline",
    "cosmos": "CosmosTextToWorldPipeline",
    "cosmos-v2w": "CosmosVideoToWorldPipeline",
    "cosmos2-v2w": "Cosmos2VideoToWorldPipeline",
    "cosmos25": "Cosmos2_5_PredictBasePipeline",
    "easyanimate": "EasyAnimatePipeline",
    "easyanimate-control": "EasyAnimateControlPipeline",
    "easyanimate-inpaint": "EasyAnimateInpaintPipeline",
    "sana-video": "SanaVideoPipeline",
    "sana-video-i2v": "SanaImageToVideoPipeline",
    "sana-wm": "SanaWMPipeline",
    "kandinsky5": "Kandinsky5T2VPipeline",
    "kandinsky5-i2v": "Kandinsky5I2VPipeline",
    "kandinsky6": "Kandinsky6TI2VAPipeline",
    "motif-video": "MotifVideoPipeline",
    "motif-video-xattn": "MotifVideoPipeline",
    "motif-video-i2v": "MotifVideoImage2VideoPipeline",
}


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def tiny(tmp_path_factory):
    """tiny(name) -> folder of a saved tiny pipeline, built once per session."""
    from weditor.testing import save_tiny_pipeline

    cache = {}

    def get(name: str) -> Path:
        if name not in cache:
            cache[name] = save_tiny_pipeline(name, tmp_path_factory.mktemp("tiny") / name)
        return cache[name]

    return get


@pytest.fixture(scope="session")
def i2v_pairs(tmp_path_factory) -> Path:
    """The tiny "red" pairs with an image for each member: a red (unsafe) or blue (safe) block."""
    from PIL import Image, ImageDraw

    folder = tmp_path_factory.mktemp("pairs-i2v")
    lines, k = [], 0
    for line in TINY_PAIRS.read_text().splitlines():
        lines.append(line)
        if line.startswith("safe = "):
            for kind, colour in (("unsafe", (220, 30, 30)), ("safe", (30, 30, 220))):
                im = Image.new("RGB", (48, 40), (200, 200, 200))
                ImageDraw.Draw(im).rectangle([4 + 4 * k, 6, 24 + 4 * k, 30], fill=colour)
                im.save(folder / f"{kind}{k}.png")
            lines.append(f'unsafe_image = "unsafe{k}.png"\nsafe_image = "safe{k}.png"')
            k += 1
    path = folder / "red-i2v.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def _pairs_for(family, i2v_pairs):
    i2v = adapter_for_class(PIPELINE_CLASS[FAMILIES[family][0]]).image_to_video and not family.endswith("-text")
    return i2v_pairs if i2v else TINY_PAIRS


@pytest.fixture(scope="session")
def patched(tiny, i2v_pairs, tmp_path_factory):
    """patched(family) -> (base folder, patched folder), patched once per session."""
    cache = {}

    def get(family: str):
        if family not in cache:
            name, size, layers, extra = FAMILIES[family]
            base = tiny(name)
            out = tmp_path_factory.mktemp("patched") / family
            args = [
                "patch",
                "--method",
                "refusal",
                base,
                "--pairs",
                _pairs_for(family, i2v_pairs),
                "--out",
                out,
                "--layers",
                layers,
                *extra,
            ]
            if size:
                args += ["--size", size]
            result = run_cli(args)
            assert result.exit_code == 0, result.output
            cache[family] = (base, out)
        return cache[family]

    return get


# --------------------------------------------------------------------------- helpers


def load(folder: Path):
    import diffusers

    from weditor.testing.cosmos import PassingSafetyChecker

    cls = json.loads((folder / "model_index.json").read_text())["_class_name"]
    kwargs = {"safety_checker": PassingSafetyChecker()} if cls.startswith("Cosmos") else {}  # as diffusers' tests
    pipe = getattr(diffusers, cls).from_pretrained(folder, **kwargs)
    pipe.set_progress_bar_config(disable=True)
    return pipe, adapter_for_model(folder, cls)  # the checkpoint's variant (LTX-2.3, Motif's cross-attention)


def all_tensors(folder: Path) -> dict:
    out = {}
    for path in sorted(folder.rglob("*.safetensors")):
        if "weditor" in path.relative_to(folder).parts:
            continue
        with safe_open(path, "pt") as f:
            for name in f.keys():
                out[(path.relative_to(folder).parent.as_posix(), name)] = f.get_tensor(name)
    return out


def directions(folder: Path) -> dict:
    from safetensors.torch import load_file

    return load_file(folder / DIRECTIONS_FILE)


def parse_key(key: str) -> SiteKey:
    component, _, block, site = key.split(".")
    return SiteKey(component, int(block), site)


def strength_of(folder: Path) -> float:
    return json.loads((folder / "weditor.json").read_text())["params"]["strength"]


def edited_linears(pipe, adapter, dirs) -> dict:
    """{(component, linear path): (Q, role)} for every linear the directions edit."""
    out = {}
    for key, Q in dirs.items():
        sk = parse_key(key)
        for path, _ in site_modules(pipe, adapter, sk):
            out[(sk.component, path)] = (Q, adapter.sites[sk.site].role)
    return out


def expected_tensors(base: dict, pipe, adapter, dirs, strength: float, reads: dict | None = None) -> dict:
    """{(component, tensor name): edited tensor}, recomputed from the base with the pure edit functions."""
    out = {}
    reads = reads or {}
    keys = {}
    for key, Q in dirs.items():
        for path, _ in site_modules(pipe, adapter, parse_key(key)):
            keys[(parse_key(key).component, path)] = key
    for (component, path), (Q, role) in edited_linears(pipe, adapter, dirs).items():
        weight = base[(component, f"{path}.weight")]
        A, a = reads.get(keys[(component, path)], (None, None))
        if role == "reads":
            out[(component, f"{path}.weight")] = remove_input(weight, Q, A, strength)
        else:
            bias = base.get((component, f"{path}.bias"))
            w, b = remove_output(weight, bias, Q, A, a, strength)
            out[(component, f"{path}.weight")] = w
            if bias is not None:
                out[(component, f"{path}.bias")] = b
    return out


def hook_projection(pipe, adapter, dirs, strength: float = 1.0, reads: dict | None = None):
    """Apply the edit at run time, on the unedited base: input side with pre-hooks, output side with hooks.

    With `reads` (a read-out edit) the hooks remove `Q^T (A x + a)`, otherwise `Q^T Q x`."""
    reads = reads or {}
    for key, Q in dirs.items():
        Qf, sk = Q.float(), parse_key(key)
        A, a = reads.get(key, (Q, torch.zeros(Q.shape[0], dtype=Q.dtype)))
        Af, af = A.float(), a.float()
        for _, module in site_modules(pipe, adapter, sk):
            if adapter.sites[sk.site].role == "reads":
                module.register_forward_pre_hook(
                    lambda m, args, Q=Qf, A=Af: (args[0] - strength * (args[0] @ A.T) @ Q, *args[1:])
                )
            else:
                module.register_forward_hook(lambda m, args, y, Q=Qf, A=Af, a=af: y - strength * (y @ A.T + a) @ Q)


def same_bits(a, b) -> bool:
    return (
        a.dtype == b.dtype
        and a.shape == b.shape
        and torch.equal(a.contiguous().reshape(-1).view(torch.uint8), b.contiguous().reshape(-1).view(torch.uint8))
    )


def inputs(pipe, adapter, family, i2v_pairs, prompt="a red car on a street"):
    size = FAMILIES[family][1]
    size = tuple(int(v) for v in size.split("x")) if size else adapter.size_for(pipe)
    images = [i2v_pairs.parent / "unsafe0.png"] if adapter.image_to_video and not family.endswith("-text") else None
    cond = encode(pipe, adapter, [prompt], "cpu", images)
    x = adapter.latents(pipe, size, torch.Generator().manual_seed(3), "cpu")
    return cond, x, size


# --------------------------------------------------------------------------- tests


@pytest.mark.parametrize("family", [f for f in FAMILIES if f not in SLOW])
def test_edited_tensors_equal_the_edit_recomputed_from_the_base(family, patched):
    base_dir, out_dir = patched(family)
    recipe = json.loads((out_dir / "weditor.json").read_text())
    assert recipe["base_model"]["pipeline_class"] == PIPELINE_CLASS[FAMILIES[family][0]]
    assert recipe["verification"]["forward_max_rel_diff"] <= 1e-6
    base, out = all_tensors(base_dir), all_tensors(out_dir)
    assert base.keys() == out.keys()
    pipe, adapter = load(base_dir)
    dirs = directions(out_dir)
    want = expected_tensors(base, pipe, adapter, dirs, strength_of(out_dir), readouts_of(out_dir))
    assert want and {c for c, _ in want} == {c for c in adapter.denoisers if getattr(pipe, c, None) is not None}
    for (component, name), tensor in out.items():
        if (component, name) in want:
            expected = want[(component, name)]
            assert torch.equal(tensor, expected), name
            assert not torch.equal(tensor, base[(component, name)]), name
        else:
            assert same_bits(tensor, base[(component, name)]), (component, name)
    assert len(recipe["edits"]) == len(want)
    assert recipe["params"]["site"] == (
        FAMILIES[family][3][FAMILIES[family][3].index("--site") + 1]
        if "--site" in FAMILIES[family][3]
        else adapter.default_site
    )


def assert_edited_as(got, want, orig, label):
    """The patched output equals the run-time edit's (relative 1e-5) and differs from the original's."""
    assert (got - want).abs().max() <= 1e-5 * want.abs().max(), label
    assert (got - orig).abs().max() > 1e-5 * orig.abs().max(), f"{label}: the edit does nothing"


# Tiny pipelines whose stock attention rounds float32 queries, keys and values to bfloat16 before SDPA (SANA-WM's
# softmax blocks): a float32 rounding difference between an edited weight and a run-time hook can flip one
# bfloat16 step (relative differences up to 3e-5 seen), so exactness is checked with that rounding left out.
BF16_ATTENTION = {"sana-wm"}


@contextlib.contextmanager
def bf16_rounding_left_out(active: bool = True):
    """`Tensor.bfloat16()` as the identity (the stock models' own rounding before attention), while `active`."""
    if not active:
        yield
        return
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(torch.Tensor, "bfloat16", lambda self, *args, **kwargs: self)
        yield


@pytest.mark.parametrize("family", [f for f in FAMILIES if f not in SLOW])
def test_reloaded_denoiser_matches_a_runtime_hook(family, patched, i2v_pairs):
    base_dir, out_dir = patched(family)
    reloaded, adapter = load(out_dir)
    hooked, _ = load(base_dir)
    base, _ = load(base_dir)
    hook_projection(hooked, adapter, directions(out_dir), strength_of(out_dir), readouts_of(out_dir))
    cond, x, _ = inputs(base, adapter, family, i2v_pairs)
    for component in adapter.denoisers:
        if getattr(base, component, None) is None:
            continue
        for t in map(torch.tensor, adapter.check_timesteps or (900.0, 250.0)):  # Cosmos' EDM: log(sigma) / 4
            with bf16_rounding_left_out(FAMILIES[family][0] in BF16_ATTENTION):
                got = adapter.forward(getattr(reloaded, component), x, t, cond)
                want = adapter.forward(getattr(hooked, component), x, t, cond)
                orig = adapter.forward(getattr(base, component), x, t, cond)
            assert_edited_as(got, want, orig, family)
            if FAMILIES[family][0] in BF16_ATTENTION:  # with the stock rounding: to its bfloat16 step
                got, want = (adapter.forward(getattr(m, component), x, t, cond) for m in (reloaded, hooked))
                assert (got - want).abs().max() <= 1e-3 * want.abs().max(), family


def _pipeline_call(pipe, adapter, family, size, i2v_pairs, steps):
    import inspect

    from PIL import Image

    kwargs = dict(
        prompt="a red car on a street",
        height=size[0],
        width=size[1],
        num_frames=size[2],
        num_inference_steps=steps,
        generator=torch.Generator().manual_seed(0),
        guidance_scale=1.0,
        output_type="latent",
        pag_scale=0.0,  # perturbed-attention guidance off, as CFG
    )
    if type(pipe).__name__ != "TextToVideoSDPipeline":
        kwargs["max_sequence_length"] = 16
    if type(pipe).__name__.startswith("Cosmos2_5"):  # its chat template's system turn and the prompt
        from weditor.adapters.common import text_length

        kwargs["max_sequence_length"] = text_length(pipe, 512)
    kwargs["video_length"] = size[2]  # LattePipeline's name for num_frames
    kwargs["frames"] = size[2]  # Sana-Video's
    kwargs["use_resolution_binning"] = False  # Sana-Video: the requested size, not its nearest 480p bin
    kwargs["sample_audio"] = False  # Kandinsky 6: its video-only mode, as weditor runs it
    if type(pipe).__name__ in ("HunyuanVideoPipeline", "HunyuanVideoFramepackPipeline"):
        kwargs["guidance_scale"] = 6.0  # embedded guidance, not CFG: the adapter uses the pipeline's default
    if adapter.image_to_video and not family.endswith("-text"):
        kwargs["image"] = Image.open(i2v_pairs.parent / "unsafe0.png").convert("RGB")
    kwargs["image_cond_noise_scale"] = 0.0  # LTXConditionPipeline: no fresh noise on the conditioning tokens
    if type(pipe).__name__.startswith("LTX2"):  # one pass per step (no CFG, STG, modality guidance), no image re-encode
        kwargs.update(
            stg_scale=0.0,
            modality_scale=1.0,
            guidance_rescale=0.0,
            audio_guidance_scale=1.0,
            audio_stg_scale=0.0,
            audio_modality_scale=1.0,
            audio_guidance_rescale=0.0,
            image_crf=0,
        )
    if type(pipe).__name__ == "CogVideoXFunControlPipeline":  # the adapter's control without a pair video: mid-grey
        from weditor.adapters.common import GREY

        kwargs["control_video"] = [Image.new("RGB", (size[1], size[0]), GREY)] * size[2]
    if type(pipe).__name__ == "CosmosVideoToWorldPipeline":  # conditioning frames without their augment noise
        kwargs["augment_sigma"] = 0.0
    if type(pipe).__name__ == "WanAnimatePipeline":  # one segment of the collection's frames, blank pose and face
        s = pipe.transformer.config.motion_encoder_size
        kwargs["pose_video"] = [Image.new("RGB", (size[1], size[0]))] * size[2]
        kwargs.update(face_video=[Image.new("RGB", (s, s))] * size[2], segment_frame_length=size[2])
        kwargs.setdefault("image", Image.new("RGB", (64, 64), (128, 128, 128)))  # as weditor's image-less member
    kwargs["num_latent_frames_per_chunk"] = (size[2] - 1) // 4 + 1  # Helios: one chunk of the collection's frames
    kwargs["latent_window_size"] = (size[2] - 1) // 4 + 1  # Framepack: one section of the collection's frames
    if type(pipe).__name__ == "HeliosPyramidPipeline":  # `steps` in every stage
        kwargs["pyramid_num_inference_steps_list"] = [steps] * pipe.scheduler.config.stages
    if "ControlNet" in type(pipe).__name__:  # AnimateDiff's control nets: the adapters' control without a pair video
        from weditor.adapters.common import GREY

        grey = Image.new("RGB", (size[1], size[0]), GREY)
        sparse = type(pipe).__name__ == "AnimateDiffSparseControlNetPipeline"  # one frame at index 0: the image
        kwargs["conditioning_frames"] = [kwargs.get("image", grey)] if sparse else [grey] * size[2]
    if type(pipe).__name__ in ("PIAPipeline", "I2VGenXLPipeline"):  # the image-less member's mid-grey first frame
        kwargs.setdefault("image", Image.new("RGB", (64, 64), (128, 128, 128)))
    if type(pipe).__name__ == "EasyAnimateControlPipeline":  # diffusers 0.42.1 passes its own encode_prompt an
        from tests.test_adapters_easyanimate import tolerate_text_encoder_index  # argument it does not take

        tolerate_text_encoder_index(pipe)
    if type(pipe).__name__ == "LTXI2VLongMultiPromptPipeline":  # its loop skips the last timestep
        kwargs["num_inference_steps"] = steps + 1
    if type(pipe).__name__ == "LTX2DFRPipeline":  # its distilled sigmas, as many as the adapter's steps
        from weditor.adapters.ltx2_dfr import distilled_sigmas

        kwargs["sigmas"] = distilled_sigmas(steps)
    if type(pipe).__name__ == "SanaWMPipeline":  # weditor's fixed camera for its first frame (mid-grey without)
        from weditor.adapters.sana_wm import camera

        kwargs.setdefault("image", Image.new("RGB", (64, 64), (128, 128, 128)))
        kwargs["c2w"], kwargs["intrinsics"] = camera(kwargs["image"], size[2])
    if type(pipe).__name__ in (
        "Kandinsky5I2VPipeline",
        "Kandinsky6TI2VAPipeline",
        "MotifVideoImage2VideoPipeline",
    ):  # weditor: the mean
        _mean_image_latents(pipe)
    accepted = inspect.signature(pipe.__call__).parameters
    if adapter.image_to_video and "image" in accepted and accepted["image"].default is inspect.Parameter.empty:
        kwargs.setdefault("image", Image.new("RGB", (64, 64), (128, 128, 128)))  # as weditor's image-less member
    if type(pipe).__name__ == "LTX2ConditionPipeline" and "image" in kwargs:  # a frame-0 condition at strength 1
        from diffusers.pipelines.ltx2.pipeline_ltx2_condition import LTX2VideoCondition

        kwargs["conditions"] = [LTX2VideoCondition(frames=kwargs.pop("image"), index=0, strength=1.0, crf=0)]
    if type(pipe).__name__ == "SkyReelsV2DiffusionForcingVideoToVideoPipeline":  # the image as a one-frame video
        kwargs.update(video=[kwargs.pop("image")], overlap_history=1, base_num_frames=size[2], addnoise_condition=0)
    elif type(pipe).__name__ == "AnyFlowPipeline" and "image" in kwargs:  # the image as a one-frame video
        kwargs["video"] = [kwargs.pop("image")]
    elif type(pipe).__name__ == "LucyEditPipeline":  # the source video: the image held for every frame
        kwargs["video"] = [kwargs.pop("image")] * size[2]
    elif (
        "VideoToVideo" in type(pipe).__name__
    ):  # any input video; strength 1 runs the whole schedule, as collection does
        kwargs["video"] = [Image.new("RGB", (size[1], size[0]), (90, 120, 200)) for _ in range(size[2])]
        kwargs["strength"] = 1.0
    if type(pipe).__name__ == "I2VGenXLPipeline":  # its default clip_skip names text_model, gone in transformers 5
        from weditor.adapters.i2vgenxl import text_model_alias

        with text_model_alias(pipe):
            return pipe(**{k: v for k, v in kwargs.items() if k in accepted})
    pipe(**{k: v for k, v in kwargs.items() if k in accepted})


def _mean_image_latents(pipe):
    """The pipeline's VAE encode with `latent_dist.sample(generator)` giving the mean (its `mode()`)."""
    encode_ = pipe.vae.encode

    def mean_only(*args, **kwargs):
        out = encode_(*args, **kwargs)
        out.latent_dist.sample = lambda generator=None: out.latent_dist.mode()
        return out

    pipe.vae.encode = mean_only


def _ltx_grid(pipe, size):
    r_t, r_s = pipe.vae_temporal_compression_ratio, pipe.vae_spatial_compression_ratio
    return (size[2] - 1) // r_t + 1, size[0] // r_s, size[1] // r_s


def _with_torchvision(monkeypatch):
    """Cosmos 2.5's pipeline module sees torchvision, or weditor.testing.cosmos.fake_torchvision without it."""
    import importlib.util

    from diffusers.pipelines.cosmos import pipeline_cosmos2_5_predict as module

    if importlib.util.find_spec("torchvision") is None:
        from weditor.testing.cosmos import fake_torchvision

        monkeypatch.setattr(module, "torchvision", fake_torchvision(), raising=False)


def _to_adapter_layout(pipe, x, size):
    """The pipeline's denoiser input at one step -> the adapter's latent (conditioning dropped)."""
    name = type(pipe).__name__
    if name in ("WanImageToVideoPipeline", "SkyReelsV2ImageToVideoPipeline", "LucyEditPipeline", "ChronoEditPipeline"):
        return x[:, : pipe.vae.config.z_dim]
    if name == "HunyuanSkyreelsImageToVideoPipeline":
        return x[:, : x.shape[1] // 2]
    if name == "HunyuanVideoImageToVideoPipeline":  # latent_concat: [latent, image latent, mask]
        return x[:, : (x.shape[1] - 1) // 2]
    if name.startswith("HunyuanVideo15"):  # [latent, condition, mask]
        return x[:, : pipe.num_channels_latents]
    if name in ("CogVideoXImageToVideoPipeline", "ConsisIDPipeline"):
        return x[:, :, : x.shape[2] // 2]
    if name == "WanAnimatePipeline":  # [latent, reference mask + latents] on the channel axis
        return x[:, : pipe.vae.config.z_dim]
    if name.startswith("Kandinsky"):  # channels last, [latent, zeros, mask]; Kandinsky 6 I2V: a tail image frame
        return x[:, : (size[2] - 1) // pipe.vae_scale_factor_temporal + 1, ..., : pipe.transformer.config.in_visual_dim]
    if name.startswith("MotifVideo"):  # [latent, condition, mask] on the channel axis
        return x[:, : pipe.vae.config.z_dim]
    if name == "CogVideoXFunControlPipeline":  # [latent, control latent] on the channel axis
        return x[:, :, : x.shape[2] // 2]
    if name == "I2VGenXLPipeline":  # [latent, image latents] are joined inside the UNet: the input is the latent
        return x
    if name == "PIAPipeline":  # [latent, mask, masked image latent] on the channel axis
        return x[:, : pipe.unet.config.out_channels]
    if name.startswith("LTX2"):
        return x  # joined in the hook
    if name.startswith("LTX"):
        from diffusers import LTXPipeline

        r_t, r_s = pipe.vae_temporal_compression_ratio, pipe.vae_spatial_compression_ratio
        return LTXPipeline._unpack_latents(x, (size[2] - 1) // r_t + 1, size[0] // r_s, size[1] // r_s, 1, 1)
    return x


def _unscaled(pipe, forced):
    """Undo the stock loop's `scale_model_input` (an Euler scheduler divides by sqrt(sigma^2 + 1)), with the
    sigmas the pipeline's own scheduler used, so the adapter's scaling of its latents is what is checked."""
    if type(pipe.scheduler).__name__ == "EDMEulerScheduler":  # Cosmos: c_in = 1 / sqrt(sigma^2 + sigma_data^2)
        sigmas, data = pipe.scheduler.sigmas, pipe.scheduler.config.sigma_data
        return [(a, b, x * (sigmas[i] ** 2 + data**2) ** 0.5, d) for i, (a, b, x, d) in enumerate(forced)]
    if type(pipe).__name__ == "Cosmos2VideoToWorldPipeline":  # c_in = 1 - sigma / (sigma + 1)
        return [(a, b, x * (pipe.scheduler.sigmas[i] + 1), d) for i, (a, b, x, d) in enumerate(forced)]
    if not type(pipe.scheduler).__name__.startswith("Euler"):
        return forced
    sigmas = pipe.scheduler.sigmas
    return [(a, b, x * (sigmas[i] ** 2 + 1) ** 0.5, d) for i, (a, b, x, d) in enumerate(forced)]


@pytest.mark.parametrize("family", [f for f in FAMILIES if not f.endswith(("-single", "-kv"))])
def test_adapter_runs_the_denoiser_as_the_stock_pipeline_does(family, tiny, i2v_pairs, monkeypatch):
    """Same denoiser inputs (noise, timesteps, text, image conditioning) -> the same predictions."""
    monkeypatch.setattr("weditor.adapters.cosmos.AUGMENT_SIGMA", 0.0)  # as the stock call's augment_sigma=0
    if family.startswith("cosmos25"):  # its Image2World path calls torchvision (not installed here)
        _with_torchvision(monkeypatch)
    pipe, adapter = load(tiny(FAMILIES[family][0]))
    _, _, size = inputs(pipe, adapter, family, i2v_pairs)
    steps, seen = 2, []
    model = getattr(pipe, adapter.denoisers[0])

    def hook(module, args, kwargs, output):
        # LTX-2: the video and the audio stream, joined as the adapter carries them (Kandinsky 6 passes None)
        if kwargs.get("audio_hidden_states") is not None:
            from weditor.adapters.ltx2 import join

            grid = _ltx_grid(pipe, size)
            grid = (kwargs["hidden_states"].shape[1] // (grid[1] * grid[2]), *grid[1:])  # DFR: canvas + slot frames
            seen.append(
                tuple(
                    join(pipe._unpack_latents(v, *grid), a)
                    for v, a in ((kwargs["hidden_states"], kwargs["audio_hidden_states"]), output)
                )
            )
            return
        # a copy: Kandinsky 5's loop steps its latents in place, and the input is that very tensor
        seen.append((kwargs.get("hidden_states", args[0] if args else None).clone(), output[0]))

    handle = model.register_forward_hook(hook, with_kwargs=True)
    _pipeline_call(pipe, adapter, family, size, i2v_pairs, steps)
    handle.remove()
    if family in FIRST_CALLS:
        seen = seen[:steps]
    assert len(seen) == steps
    cond, _, _ = inputs(pipe, adapter, family, i2v_pairs)
    forced = [(None, None, _to_adapter_layout(pipe, x, size), None) for x, _ in seen]
    forced = _unscaled(pipe, forced)
    record = trajectory(pipe, adapter, cond, Settings(size=size, steps=steps), seed=0, forced=forced)
    for (component, t, _, ours), (_, theirs) in zip(record, seen):
        if type(pipe).__name__.startswith("LTX") and not type(pipe).__name__.startswith("LTX2"):
            from diffusers import LTXPipeline

            ours = LTXPipeline._pack_latents(ours, 1, 1)
        if type(pipe).__name__ == "Kandinsky6TI2VAPipeline":  # its I2V tail frame: overwritten every step
            theirs = theirs[:, : ours.shape[1]]
        assert ours.shape == theirs.shape
        assert (ours - theirs).abs().max() <= 1e-5 * theirs.abs().max(), (family, float(t))


def test_two_concepts_on_ltx(tiny, tmp_path):
    """Several pair files: one orthonormal basis per site, across concepts; the edit removes all of it."""
    base_dir = tiny("ltx")
    out = tmp_path / "two"
    result = run_cli(
        [
            "patch",
            "--method",
            "refusal",
            base_dir,
            "--pairs",
            TINY_PAIRS,
            "--pairs",
            DATA / "tiny-night.toml",
            "--out",
            out,
            "--size",
            "32x32x9",
            "--layers",
            "1-2",
            "--no-summary",
        ]
    )
    assert result.exit_code == 0, result.output
    recipe = json.loads((out / "weditor.json").read_text())
    assert [p["concept"] for p in recipe["pairs"]] == ["red", "night"]
    dirs = directions(out)
    assert len(dirs) == 2
    base, new = all_tensors(base_dir), all_tensors(out)
    pipe, adapter = load(base_dir)
    strength = strength_of(out)
    for (component, path), (Q, role) in edited_linears(pipe, adapter, dirs).items():
        assert Q.shape[0] == 2  # one direction per concept
        assert torch.allclose(Q @ Q.T, torch.eye(2, dtype=Q.dtype), atol=1e-10)
    want = expected_tensors(base, pipe, adapter, dirs, strength, readouts_of(out))
    assert want
    for name, tensor in want.items():
        assert torch.equal(new[name], tensor), name
    reloaded, _ = load(out)
    hooked, _ = load(base_dir)
    hook_projection(hooked, adapter, dirs, strength, readouts_of(out))
    cond = encode(pipe, adapter, ["a red house at night"], "cpu")
    x = adapter.latents(pipe, (32, 32, 9), torch.Generator().manual_seed(1), "cpu")
    got = adapter.forward(reloaded.transformer, x, torch.tensor(600.0), cond)
    want = adapter.forward(hooked.transformer, x, torch.tensor(600.0), cond)
    assert (got - want).abs().max() <= 1e-5 * want.abs().max()


def test_text_to_video_models_refuse_pairs_with_images(tiny, i2v_pairs, tmp_path):
    result = run_cli(["patch", tiny("ltx"), "--pairs", i2v_pairs, "--out", tmp_path / "o", "--no-summary"])
    assert result.exit_code == 2 and "text-to-video only" in result.output


def test_image_to_video_without_images_uses_a_grey_frame(tiny, tmp_path):
    out = tmp_path / "o"
    result = run_cli(
        [
            "patch",
            "--method",
            "refusal",
            tiny("wan-i2v"),
            "--pairs",
            TINY_PAIRS,
            "--out",
            out,
            "--size",
            "32x32x5",
            "--layers",
            "-1",
            "--no-summary",
        ]
    )
    assert result.exit_code == 0, result.output
    assert len(directions(out)) == 1


@pytest.mark.parametrize(
    "family,site,message",
    [
        ("cogvideox", "ffn_out", "gate"),
        ("hunyuanvideo", "single_out", "gate"),
        ("hunyuanvideo", "nope", "unknown for"),
        ("allegro", "ffn_out", "gate"),
        ("allegro", "self_attn_out", "gate"),
        ("latte", "temporal_attn_out", "gate"),
        ("cosmos", "cross_attn_out", "gate"),  # Cosmos gates its cross-attention add too
        ("sana-video", "self_attn_out", "gate"),
        ("sana-video", "ffn_in", "unknown for"),  # a convolutional FFN: no linear to edit
        ("kandinsky5", "ffn_out", "gate"),
        ("kandinsky6", "cross_attn_out", "gate"),
        ("motif-video", "attn_out", "gate"),
        ("motif-video", "cross_attn_out", "unknown for"),  # no text cross-attention in this checkpoint's config
    ],
)
def test_gated_writes_are_refused(family, site, message, tiny, tmp_path):
    result = run_cli(
        ["patch", "--method", "refusal", tiny(family), "--pairs", TINY_PAIRS, "--out", tmp_path / "o", "--site", site]
    )
    assert result.exit_code == 2 and message in result.output
    assert not (tmp_path / "o").exists()


def test_output_side_edit_on_ungated_unet_writes(tiny, tmp_path):
    """ZeroScope's transformer blocks have no gates: an output-side edit of attn2 is exact."""
    from weditor.maths.edits import project_output

    base_dir, out = tiny("zeroscope"), tmp_path / "o"
    result = run_cli(
        [
            "patch",
            "--method",
            "refusal",
            base_dir,
            "--pairs",
            TINY_PAIRS,
            "--out",
            out,
            "--size",
            "16x16x4",
            "--site",
            "cross_attn_out",
            "--layers",
            "1",
            "--rank",
            "none",
            "--edit",
            "projection",
            "--no-summary",
        ]
    )
    assert result.exit_code == 0, result.output
    ((key, Q),) = directions(out).items()
    pipe, adapter = load(base_dir)
    ((path, module),) = site_modules(pipe, adapter, parse_key(key))
    assert path == "mid_block.attentions.0.transformer_blocks.0.attn2.to_out.0"  # depth order: down, mid, up
    base, new = all_tensors(base_dir), all_tensors(out)
    w, b = project_output(base[("unet", f"{path}.weight")], base[("unet", f"{path}.bias")], Q, strength_of(out))
    assert torch.equal(new[("unet", f"{path}.weight")], w) and torch.equal(new[("unet", f"{path}.bias")], b)


def test_unet_pairs_compare_the_two_prompts_not_two_frames(tmp_path):
    """A UNet folds frames into the batch (member-major): collection must pair the unsafe and the safe
    prompt at the same frame and pixel. A pair whose members have the same text embedding must give a
    paired difference of exactly zero (it gave frame 0 minus frame 1 of the unsafe prompt before)."""
    from dataclasses import replace

    import diffusers

    from weditor.io.pairs import load_pairsets
    from weditor.methods.refusal_collect import collect, site_keys
    from weditor.models.runtime import Settings
    from weditor.pipeline.config import PatchConfig
    from weditor.testing import save_tiny_pipeline

    folder = save_tiny_pipeline("zeroscope", tmp_path / "zs")
    pipe = diffusers.TextToVideoSDPipeline.from_pretrained(folder)
    adapter = adapter_for_class("TextToVideoSDPipeline")
    red, blue = pipe.tokenizer.convert_tokens_to_ids(["red", "blue"])
    with torch.no_grad():
        table = pipe.text_encoder.get_input_embeddings().weight
        table[blue] = table[red]
    places = ("on a street", "at night", "in the rain", "by a river", "in a city")
    pairs = tmp_path / "p.toml"
    pairs.write_text(
        'concept = "red"\nneutral = ["a dog"]\n'
        + "".join(f'[[pair]]\nunsafe = "a red car {w}"\nsafe = "a blue car {w}"\n' for w in places)
    )
    pairsets = load_pairsets([str(pairs)])
    other = replace(pairsets[0], pairs=tuple(replace(p, safe=p.safe.replace("blue ", "")) for p in pairsets[0].pairs))
    settings = Settings(size=(16, 16, 4), steps=2)
    for site in ("ffn_in", "cross_attn_kv_in"):
        keys = site_keys(pipe, adapter, PatchConfig(pairs=[str(pairs)], out="unused", layers="0-3", site=site))
        same, _, _ = collect(pipe, adapter, keys, pairsets, settings)
        differ, _, _ = collect(pipe, adapter, keys, [other], settings)
        for k in keys:
            assert float(same["red"][k].sum.abs().max()) == 0.0, (site, k)
            assert float(differ["red"][k].sum.abs().max()) > 0.0, (site, k)
