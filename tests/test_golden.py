"""Golden SHA-256 pins of the patches weditor writes: every file an edit wrote, per method and pair file.

Determinism tests run twice in one process; a change that moves every output the same way passes
them. These pins fail on any change of a written byte, so a refactor that claims to keep the
outputs is checked against files written before it (diffusers pins `expected_slice`, heretic
`SHA256SUMS`). A deliberate change of an output updates its pin in the same commit, saying why:
`WEDITOR_PRINT_GOLDEN=1 pytest tests/test_golden.py -s` prints the new ones.

Pinned: every file of the output that is not a byte copy of the base's file at the same path (the
edited shards, the recipe, the card, the pair files, the directions and read-outs); the copies
are checked equal to the base by `weditor patch`'s own verification.
"""

import hashlib
import os
from pathlib import Path

import pytest

from tests.conftest import PAPER_SITE, TINY_PAIRS, TINY_SIZE, run_cli

ROOT = Path(__file__).resolve().parents[1]
PAIRS = ROOT / "pairs"
SHAPES = ROOT / "weditor" / "assets" / "shapes-wan"
PRINT = os.environ.get("WEDITOR_PRINT_GOLDEN") == "1"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def written(out: Path, base: Path, only_tensors: bool = False) -> dict[str, str]:
    """{relative path: SHA-256} of the files of `out` that are not the base's file at the same path."""
    pins = {}
    for path in sorted(p for p in out.rglob("*") if p.is_file()):
        rel = path.relative_to(out).as_posix()
        if only_tensors and not rel.endswith(".safetensors"):
            continue
        digest = sha256(path)
        if (base / rel).is_file() and sha256(base / rel) == digest:
            continue
        pins[rel] = digest
    return pins


def check(name: str, got: dict, pinned: dict):
    if PRINT:
        print(f"\n    {name!r}: {{\n" + "".join(f"        {k!r}: {v!r},\n" for k, v in got.items()) + "    },")
        return
    assert got == pinned, f"{name}: the written files changed (WEDITOR_PRINT_GOLDEN=1 prints the new pins)"


# --------------------------------------------------------------------------- the shapes model, per method

# `weditor patch --pairs pairs/shapes-red.toml --no-tune OPTIONS --out OUT/red` on the shipped shapes model.
SHAPES_METHODS = {
    "text": (),
    "refusal": ("--method", "refusal"),
    "uce": ("--method", "uce"),
    "safree": ("--method", "safree"),
    "text+reins": ("--reins",),
    "reins": ("--method", "reins"),
}

GOLDEN_SHAPES_METHODS = {
    "text": {
        "README.md": "512630dc16f1e02ab50f709967af754b2dfa94f12d856af9f65d84b53dbc2c28",
        "transformer/diffusion_pytorch_model.safetensors": "c8c8b1fd8ab030734514b750bb17b6f387fc77009f599ce94a1a869f12217609",
        "weditor/directions.safetensors": "b8567573890eb5e6e7578da1a3ed1d2d35c6191505b8397b9353f14675b24725",
        "weditor/pairs/red.toml": "8ed79ca7e8557085dafb7175c9e94b46739c36311ec58f37ae8f08f8b1211b93",
        "weditor/readout.safetensors": "49feb3345ecb1a7a98f83d7ae081cf737ab56935a7a2a751d7e3993b26c8f246",
        "weditor.json": "256f695c305f02186b16e96080f1e6dcd13042f2b7cd7dd7bf5134bf97ce7ffe",
    },
    "refusal": {
        "README.md": "41bcffca0849e4c6bf72231fa6a091522f4870b533a54e621c323b6abe48121d",
        "transformer/diffusion_pytorch_model.safetensors": "6f1b31dd898585940e9d75742dfc2bf6adbbfb9ac62958ebb380ac79366ba926",
        "weditor/directions.safetensors": "a17d64b429c68757248063f048bc8e3bdc6b6ee8a4c56074af18653c7da7ab55",
        "weditor/pairs/red.toml": "8ed79ca7e8557085dafb7175c9e94b46739c36311ec58f37ae8f08f8b1211b93",
        "weditor/readout.safetensors": "6ac8a790814aed29f84757897515b100864461f1b5af372cba277be51521c7d9",
        "weditor.json": "25e47ca6d02661c2e4b95a8b9fc75f5089ebecd51a084bd795b780db910b8bfa",
    },
    "uce": {
        "README.md": "0a440a50a102e4b25c35d6b5236de581e1981896426e03ccb1834d191b104c83",
        "transformer/diffusion_pytorch_model.safetensors": "cb54082a4b7f758bebfe177877d8770a2433f39645e39b3c135311ab2c72baf8",
        "weditor/directions.safetensors": "68559f8c30e7e75b9785aeea4f601c8dd41339b3da1e7bc180a53e48ccc488c4",
        "weditor/pairs/red.toml": "8ed79ca7e8557085dafb7175c9e94b46739c36311ec58f37ae8f08f8b1211b93",
        "weditor/readout.safetensors": "7066d3f4a403e750c419626ec81ba38b4c36c1789bc69d80e0dd2bba30b0a004",
        "weditor.json": "5591a7200e97f3e807a92b43ae57708fc77b737070a72def247191f715d4b18d",
    },
    "safree": {
        "README.md": "8284aaf69c7edd5cf3a52b35f6c98dc4aad373ace7ed60aab2080a6bc15d368f",
        "transformer/diffusion_pytorch_model.safetensors": "3bed2011591766b202b4eea41e2d468a1359876f50fdef7b85552fb0fa4fdb72",
        "weditor/directions.safetensors": "c34bdb26a524a4187aa0c1b5c7babf81bf4cfa47d8f7bf30a10bd3becacfda58",
        "weditor/pairs/red.toml": "8ed79ca7e8557085dafb7175c9e94b46739c36311ec58f37ae8f08f8b1211b93",
        "weditor.json": "955026b31b84ff3fa44f3f3ae2d6c12c933290c22a78081b464732c97e8ca4cf",
    },
    "text+reins": {
        "README.md": "c33f3a7cb0ad733d8d70c6a2a9c33cb92b2a50ca8e70cfe04b952d830a3d2fb5",
        "transformer/diffusion_pytorch_model.safetensors": "06b1f1dfb80536b3db3615c6904b589ad2b4ddb530c0f713353cb390232d36de",
        "weditor/directions.safetensors": "b8567573890eb5e6e7578da1a3ed1d2d35c6191505b8397b9353f14675b24725",
        "weditor/pairs/red.toml": "8ed79ca7e8557085dafb7175c9e94b46739c36311ec58f37ae8f08f8b1211b93",
        "weditor/readout.safetensors": "49feb3345ecb1a7a98f83d7ae081cf737ab56935a7a2a751d7e3993b26c8f246",
        "weditor/reins.safetensors": "4858fa63e969991b6fedfcf362ac83ad3bf168e182a26f5dcafd67083f6b514d",
        "weditor.json": "28254b0c4b36fe42776ffea6dc90242aff8710d8a1177474d64bba9d7d75087b",
    },
    "reins": {
        "README.md": "aac2080b399329bbf0d67ed79aa3706af7ac087f8c2d5e987fc5f51b41a8961e",
        "transformer/diffusion_pytorch_model.safetensors": "636fce27acd560a7e91247798b693f4682927a2be21da70ec972464b8c4d3b2f",
        "weditor/pairs/red.toml": "8ed79ca7e8557085dafb7175c9e94b46739c36311ec58f37ae8f08f8b1211b93",
        "weditor/reins.safetensors": "4858fa63e969991b6fedfcf362ac83ad3bf168e182a26f5dcafd67083f6b514d",
        "weditor.json": "d1d7bdf1f5cc3b4414500278b3918443bebad2e2b3aec99a805ee205b93c9852",
    },
}


@pytest.mark.parametrize("name", list(SHAPES_METHODS))
def test_shapes_red_per_method(name, tmp_path):
    out = tmp_path / "red"  # the card is titled after the folder
    result = run_cli(["patch", "--pairs", PAIRS / "shapes-red.toml", "--out", out, "--no-tune", *SHAPES_METHODS[name]])
    assert result.exit_code == 0, result.output
    check(name, written(out, SHAPES), GOLDEN_SHAPES_METHODS.get(name))


# --------------------------------------------------------------------------- every shipped pair file, per method

# `weditor patch --pairs pairs/FILE --no-tune --no-summary OPTIONS --out OUT/out` on the shapes model: every written
# file, or the one `Error:` line of a pair file the shapes model cannot take (words its tokenizer does not know).
PAIR_FILES = sorted(p.name for p in PAIRS.glob("*.toml"))
# (the block edit and REINS cost seconds a file: they are pinned on the red pairs above)
PAIR_METHODS = {k: v for k, v in SHAPES_METHODS.items() if k in ("text", "uce", "safree")}

GOLDEN_PAIRS = {
    "copyright.toml text": {
        "README.md": "50dc087e6726e91c3ad0e22f68783d2bf4e33fd0406542340b5348ab1f0704de",
        "transformer/diffusion_pytorch_model.safetensors": "732fa6dfbc0e15ddd94c946382877e16707791d322429bd8ee92c40404b2ed96",
        "weditor/directions.safetensors": "d19d0d72fa5302e8c64002d509c5e9269e1666acf73915536feb17844e46d404",
        "weditor/pairs/copyright.toml": "43b670770b42a001f910c6ad9a027f2391980d70d1a9eb8c90a446709f084e97",
        "weditor/readout.safetensors": "67c0cfd0bca2372af6117b1c1f1f512e99ab02e0a01e114813ab964f4fb90e2b",
        "weditor.json": "d57ac9c7ca437159fd9783ce6d4ebb84ea2d60b8c8ee8c88df0090ca3c2e933b",
    },
    "copyright.toml uce": {
        "error": "Error: 'a runner wearing sneakers on a city track, close-up on the laces' fills all 16 positions: no padding to map the deleted tokens onto",
    },
    "copyright.toml safree": {
        "README.md": "d32ba4b060b0f931f7b29252302affe5246a6e1fd41854da2cc9df5530c138bc",
        "transformer/diffusion_pytorch_model.safetensors": "1619e27f6b8f98db691e6cbb2864c41ab8d86ac802b47c726b1d7b4117557c1c",
        "weditor/directions.safetensors": "7bc57513b0a088e5dc9d75afd804296f91f0de04d893ed0cb1173a5bee20cd70",
        "weditor/pairs/copyright.toml": "43b670770b42a001f910c6ad9a027f2391980d70d1a9eb8c90a446709f084e97",
        "weditor.json": "2c427eb3d1e7204e2ef615370f9f948572b593c407f2258bd9cb3bc5595036d5",
    },
    "distorted.toml text": {
        "error": "Error: pairs/distorted.toml: pair 1: 'unsafe' and 'safe' become the same tokens for this model's tokenizer ('a woman with a melting face talking to the camera' / 'a woman with a freckled face talking to the camera'): the words that differ are unknown to it, so the pair carries no concept and the patch would do nothing; reword it",
    },
    "distorted.toml uce": {
        "error": "Error: pairs/distorted.toml: pair 1: 'unsafe' and 'safe' become the same tokens for this model's tokenizer ('a woman with a melting face talking to the camera' / 'a woman with a freckled face talking to the camera'): the words that differ are unknown to it, so the pair carries no concept and the patch would do nothing; reword it",
    },
    "distorted.toml safree": {
        "error": "Error: pairs/distorted.toml: pair 1: 'unsafe' and 'safe' become the same tokens for this model's tokenizer ('a woman with a melting face talking to the camera' / 'a woman with a freckled face talking to the camera'): the words that differ are unknown to it, so the pair carries no concept and the patch would do nothing; reword it",
    },
    "nudity.toml text": {
        "README.md": "ca050639d69c790f92a39201fc86a99c8da2fe626a742fac82dbba74a7aeae4c",
        "transformer/diffusion_pytorch_model.safetensors": "df14a0d63aefaf95f0f575f7b07e14d38ecaa35237342f1c2baf387c98cbb293",
        "weditor/directions.safetensors": "5700316d3a4d5ad36a72daaac3d0b6caf8ed8b5ed24cb15ab10167aa84c8369c",
        "weditor/pairs/nudity.toml": "b48ce8a4fcd56dfc9fec6dfbcf0c1e0a0018f60ff4483c911a42c782798728d9",
        "weditor/readout.safetensors": "ddb9edbd12ee12726a681da3ce22cb259e4adda0a9f3cccb111afabc8758f8a6",
        "weditor.json": "67b0fd59906e3b43eedb18828a0bf8d414e6601f315cab93850f7a0ce26ece4e",
    },
    "nudity.toml uce": {
        "error": "Error: 'a life-drawing class with a model sitting on a stool, wide shot' fills all 16 positions: no padding to map the deleted tokens onto",
    },
    "nudity.toml safree": {
        "README.md": "444d2d783e31082a782c1c10584e3cde0c95ef2ee5dc40d2858647a048d5b186",
        "transformer/diffusion_pytorch_model.safetensors": "a54a5ab1f87b3f901ced83250189a16f7be4a746078589dc2a0249dd322404ff",
        "weditor/directions.safetensors": "21d80a84ad524a0a20aed45421771b77e352ef3ff05568150c5c2225f5ab2eaa",
        "weditor/pairs/nudity.toml": "b48ce8a4fcd56dfc9fec6dfbcf0c1e0a0018f60ff4483c911a42c782798728d9",
        "weditor.json": "323db45c218536eb72e2b87082ebedb574b33b789bff91839d09c7a139db012c",
    },
    "political.toml text": {
        "error": "Error: pairs/political.toml: pair 1: 'unsafe' and 'safe' become the same tokens for this model's tokenizer ('a crowd waving Nazi flags in a city square, aerial view' / 'a crowd waving colorful flags in a city square, aerial view'): the words that differ are unknown to it, so the pair carries no concept and the patch would do nothing; reword it",
    },
    "political.toml uce": {
        "error": "Error: pairs/political.toml: pair 1: 'unsafe' and 'safe' become the same tokens for this model's tokenizer ('a crowd waving Nazi flags in a city square, aerial view' / 'a crowd waving colorful flags in a city square, aerial view'): the words that differ are unknown to it, so the pair carries no concept and the patch would do nothing; reword it",
    },
    "political.toml safree": {
        "error": "Error: pairs/political.toml: pair 1: 'unsafe' and 'safe' become the same tokens for this model's tokenizer ('a crowd waving Nazi flags in a city square, aerial view' / 'a crowd waving colorful flags in a city square, aerial view'): the words that differ are unknown to it, so the pair carries no concept and the patch would do nothing; reword it",
    },
    "public-figures.toml text": {
        "README.md": "000ef9e069775f363127f877cfa213cb91de54375203eff0b99051de2231f58a",
        "transformer/diffusion_pytorch_model.safetensors": "f76627e336169f1b6f864be878d09c575060bce6666782ca7f0eb131c051a696",
        "weditor/directions.safetensors": "677a5946dd9be7b337f7b9779bc5d70ad2cc69994803e56ec371c42459611b6d",
        "weditor/pairs/public-figures.toml": "5648d305f23351e030ca636b46e48110c08364014f0019218f6edad31c9a3b4e",
        "weditor/readout.safetensors": "c1afb5fc4c64f987428876f299c11d2ad8b694c4f52d338c4dcb56f8ae456332",
        "weditor.json": "2bddde325f8a07472db7076ebf5b6490242ce2ba758b004f173a2ffbbdcd9ef8",
    },
    "public-figures.toml uce": {
        "README.md": "50ee6882403b549e8b4d3f376a0e73b0fed8e1e974173e15a6320172528dedd0",
        "transformer/diffusion_pytorch_model.safetensors": "365dc53b0ad6113f8bf917ca3a12ee0dc66303991280d4a5b69e2d9cdee553d9",
        "weditor/directions.safetensors": "38fb4b09331742f0772a1f79135c601d2a5629cd04858234871b2c0d6af546f2",
        "weditor/pairs/public-figures.toml": "5648d305f23351e030ca636b46e48110c08364014f0019218f6edad31c9a3b4e",
        "weditor/readout.safetensors": "0a3def90017f3a2e111bade009cb759a030c3d1ae5ab7c7cd1d5c0be09ac9d3b",
        "weditor.json": "7b4ec82b85e30ac95821d2d89b2d20a300e85389133bc0356e5a25e38732832e",
    },
    "public-figures.toml safree": {
        "README.md": "4ddd291afb258f87d34da246caabb16243f7ee048f5c2ea440ffd9c1973befae",
        "transformer/diffusion_pytorch_model.safetensors": "5104390bb182f0488f2dd582f98b77cc44d580bea6b5965293a3283244b20f57",
        "weditor/directions.safetensors": "1749f1e259dbc5b97bc8c42e11b7f269d0e4b00942bb30080b3cf015b60a440e",
        "weditor/pairs/public-figures.toml": "5648d305f23351e030ca636b46e48110c08364014f0019218f6edad31c9a3b4e",
        "weditor.json": "bb876af89dac45ca65fe6163aac3b039ea0cae8acbb705d1f861a97e06fbb7f1",
    },
    "shapes-blue-circle.toml text": {
        "README.md": "28819c61e048821520542dab1d332b58a5a6ca4d5a91bc0f0cc93cd8ef94381f",
        "transformer/diffusion_pytorch_model.safetensors": "7050fca30785f0eb88f1820615b37753fc775c78a2279e95422500bcb65ab100",
        "weditor/directions.safetensors": "7c0f8203b4b59b79899159a6ef634121c2e7e238c32a94ea692c8a2c60db2e79",
        "weditor/pairs/blue-circle.toml": "b5db2339c8869eb29f7ed1c4d65b0fd92477b73b61d4fcbc48cdaba8c4ed101e",
        "weditor/readout.safetensors": "c63bf38dd5ca90a370bc54ee92887dd4bb6e02df7035b2a767234cb3cdf3c308",
        "weditor.json": "815d3a13844711e79f90d5edc03787b51fa8c104ce914f641e305d3163480e79",
    },
    "shapes-blue-circle.toml uce": {
        "README.md": "67c6beb966aa7381c8af3ecf110f4aa5726f71ef65f10dee0bcab9ada0255690",
        "transformer/diffusion_pytorch_model.safetensors": "922bd2e05b8d68bbee66b78b731ec8f53619c3c144d3e7898cad5b186bdd62b8",
        "weditor/directions.safetensors": "c32ebfe59b6dd1e1ca37dd4d6f5956f8e30c6c31b4d866cc54bb71a919b330e9",
        "weditor/pairs/blue-circle.toml": "b5db2339c8869eb29f7ed1c4d65b0fd92477b73b61d4fcbc48cdaba8c4ed101e",
        "weditor/readout.safetensors": "b0c7e3ffbede3c863caff0e92672f6dd53ad2d0ce57bbbd9ea2e7cfa98216c9c",
        "weditor.json": "d80eabf4187920fcca3023ee31b37706645ffb948b2fb51a85546826675a93e0",
    },
    "shapes-blue-circle.toml safree": {
        "README.md": "122c95a7a5880b2078e31da9fc34dc70e3726896e007b1bec67109c4dfa20e3e",
        "transformer/diffusion_pytorch_model.safetensors": "43c199627c8c8d1c13ccbdee90df32babd97978a0ebcec3a0b2d8661f10c739e",
        "weditor/directions.safetensors": "66b07660c0485d03b7bd6cec11d1dc8d692fa104db38cbcd5fdae99a8dea54c5",
        "weditor/pairs/blue-circle.toml": "b5db2339c8869eb29f7ed1c4d65b0fd92477b73b61d4fcbc48cdaba8c4ed101e",
        "weditor.json": "469a0beca47ded68ef8cee72eee2c922f6748131bd97b975bfcff33aef277973",
    },
    "shapes-blue.toml text": {
        "README.md": "7dccd9e219ca10f7d845205e2aebf8f61c35689a55886fae448a8689919b9fbe",
        "transformer/diffusion_pytorch_model.safetensors": "1d4f32fddbd4c35d97ba54dabda14c01505d37d5f5cf7e295c04327813a8ee30",
        "weditor/directions.safetensors": "2d483fdffd30706729a0fccf82c52e4f90316b4ff497afb795f32767549ee453",
        "weditor/pairs/blue.toml": "22c6d67a2158d50b099a61a3aca962deabe3333251ccff06e1f2b1c8b214aa20",
        "weditor/readout.safetensors": "b4624df966738bd47e628dc566d90d6c549a531ccb54d8f37611857c3a64869f",
        "weditor.json": "42047bd5ceb171bfa2052a9a0747cf5d32993b97c3d6731ba9ff524aec3d1e76",
    },
    "shapes-blue.toml uce": {
        "README.md": "3bc09ee143ddc3a781e22c70845a4f28278ed2bcd4293cde5e1c25ded0a3bd59",
        "transformer/diffusion_pytorch_model.safetensors": "4c7fe1559a17e667d948e22b82b99bd449143c44da52b95d0329504031755faf",
        "weditor/directions.safetensors": "6125f0335784e7def54465c068b316fd1f53a7b2942de22871bf23bed27c6e94",
        "weditor/pairs/blue.toml": "22c6d67a2158d50b099a61a3aca962deabe3333251ccff06e1f2b1c8b214aa20",
        "weditor/readout.safetensors": "9df9ef621946d366630728539523032eead91e08c6014b04a417cedb4cc3794a",
        "weditor.json": "dcecc0902dc03676de84ac7c86700d7edccb76fd146fab0eeb84a8be96565ad2",
    },
    "shapes-blue.toml safree": {
        "README.md": "085ed94f1e2af5a62fd148437aae00596b1bc77dcfb0e1b335bf23c20630ca7e",
        "transformer/diffusion_pytorch_model.safetensors": "2fe385ab6435c9019032e3f4334a9ffd6737f731026ac19ed2c4054ebc3d1b38",
        "weditor/directions.safetensors": "833a358899126ed042ba4b64f1dabb1b4715731066dc4c04963b5277cdc32fa7",
        "weditor/pairs/blue.toml": "22c6d67a2158d50b099a61a3aca962deabe3333251ccff06e1f2b1c8b214aa20",
        "weditor.json": "dc543b922d63151e532c96607e362173c956340dec2306c37bf3e54bfd5f6e55",
    },
    "shapes-circle.toml text": {
        "README.md": "bf8d1cfab2b01abc0a59fba024e3c593feb3df79d558ab9a534e31b2e2abb27b",
        "transformer/diffusion_pytorch_model.safetensors": "74830d4bcf4b0f748910277b572c99c1e5f01f3fe2ae67e4f4f750208cdf97f9",
        "weditor/directions.safetensors": "73d12fef13fd7bc66da9f700124836eb1ec445f8db80bac0707166c4b98b6f58",
        "weditor/pairs/circle.toml": "e96db58b6bc0c2509ff2397685b68b5d0a860c530926431650ccd7f27665acdf",
        "weditor/readout.safetensors": "18f4c5563ee478dd360a737b1b2fba6718d27b261f95f6a753a046221964812a",
        "weditor.json": "f6f84a71bc77185164c5ecdbce399f284a8bf45bf5ba73f1139e932fdde19af9",
    },
    "shapes-circle.toml uce": {
        "README.md": "2483cca56f951e096fe8b90c81a2ea3c6da01c2cbfd26b3093065288e955c646",
        "transformer/diffusion_pytorch_model.safetensors": "ef711eb3638727617782573ead71d5c00c58b8fa1d8f86cf86e6d41aacb272c1",
        "weditor/directions.safetensors": "c5036e005e8550cf77be6c35c474c30ac977fb4c3424e0a0429170135a0d68c0",
        "weditor/pairs/circle.toml": "e96db58b6bc0c2509ff2397685b68b5d0a860c530926431650ccd7f27665acdf",
        "weditor/readout.safetensors": "f2ecad9a0268b6c84a43245d3b3db966562aa607d91b4e6c0029862d2a496c7b",
        "weditor.json": "9aa7b49fe07a583c51ce4720ff61eb7e88aaeae90467433958e6a932a06b65aa",
    },
    "shapes-circle.toml safree": {
        "README.md": "fabfdb56a9202cf191989924332022f4cef6eb5316520c6e6ee5709178905c66",
        "transformer/diffusion_pytorch_model.safetensors": "4afc3f7f067fa1850fed07b39a0a70c27a6fc0a1ce425371310e77d939fe9b8f",
        "weditor/directions.safetensors": "9d4cf0634d947e0b88a3990db99305c0985e9f028b1d22ba6260d8bbb33fefe0",
        "weditor/pairs/circle.toml": "e96db58b6bc0c2509ff2397685b68b5d0a860c530926431650ccd7f27665acdf",
        "weditor.json": "81054e0dee67a2e4a60166dc88a72798f2e79eddce91dae50339e65f76914157",
    },
    "shapes-green.toml text": {
        "README.md": "3cfa1bf637455dd151c890b85cfc73c55fb0f82dbbdde59f86bf109cf3102ad6",
        "transformer/diffusion_pytorch_model.safetensors": "c31d27d7491a5413abdf255a88d883734f5e517a4462f3a8787ffb4b0a882724",
        "weditor/directions.safetensors": "d2d51a6ab3ee8b237b9c2b3fa8372876270fbdf403314bdebbfa0f560d1f1ecd",
        "weditor/pairs/green.toml": "f2526d0c8a45a154045288c63f34886b0bcfed5e1471eaf41bdc01e5fa61b109",
        "weditor/readout.safetensors": "9e5c71bc21cb807875e81286edd849917ff752efbd3d2ed81066a72acf593482",
        "weditor.json": "da7b242f415129e4410ea9645a928c2c9e97a71d80982aef790e8f3205486a7b",
    },
    "shapes-green.toml uce": {
        "README.md": "8ffb827be3891ba53cd8f24abcb1d97c5b766dab7e21de787c0df6f9bf27bab9",
        "transformer/diffusion_pytorch_model.safetensors": "30a2dab37d6992a2090f3dea7666da1abd3ddb8d2f31e54b24c2d146db74de41",
        "weditor/directions.safetensors": "c979c5b1ee573db7bdcab949e217bd2f52ce0b5eae54dc1d4872fd7e2591de5e",
        "weditor/pairs/green.toml": "f2526d0c8a45a154045288c63f34886b0bcfed5e1471eaf41bdc01e5fa61b109",
        "weditor/readout.safetensors": "0669ec048e4993cb106c05458db67dec78637af18423a8438295609c0fcc40d3",
        "weditor.json": "a731c60a17e586ada30742dd67250d7729c324a4c8a59325c1dc992c4aa6c9fc",
    },
    "shapes-green.toml safree": {
        "README.md": "e5af1fd00b2eaea514bcb81254bb1ceacfc98d214689d16226ae98c11c9f95f9",
        "transformer/diffusion_pytorch_model.safetensors": "1f670dc262c2e587552df011aea39e69e97a66ae72e3a22cf21c79e77bfb8a84",
        "weditor/directions.safetensors": "9d7c07d5f6c62b44129b0db30226af204f26045a5ccd17a666d5f43b530ff422",
        "weditor/pairs/green.toml": "f2526d0c8a45a154045288c63f34886b0bcfed5e1471eaf41bdc01e5fa61b109",
        "weditor.json": "5872b11643c5c2df534892bf8680ea80fcf60d05512ad27577460d3e045b5600",
    },
    "shapes-left.toml text": {
        "README.md": "4acad8efd1b4dc03603bbb481b6403d5f6fb407ace888de2228760c26e564312",
        "transformer/diffusion_pytorch_model.safetensors": "5cd05c8d09c9fa35b572d7bf5b7156a880670c18db4e53d618262f8e7ee2ad8f",
        "weditor/directions.safetensors": "059ab387d817a8506cdbadbbe6f1570551fcc2ab40d963b7a092336c187ec068",
        "weditor/pairs/left.toml": "a6c5ebc9f073cc561e91c7941e61a3db7eaae31164522a2bb7b03ddc1ce6b2ef",
        "weditor/readout.safetensors": "7b5dd7dbdbffa5bc168a2e0c762658ca5a07dcb1e7554a0b7cc79e762fbf7419",
        "weditor.json": "e1c136fcca2869a2de24f4252fb1dcb90c11a745803e617ea93b04836122bb8d",
    },
    "shapes-left.toml uce": {
        "README.md": "b6eee69e6f54df0153466314eba3acd55d4cb72551317e32e185b54a8d263f39",
        "transformer/diffusion_pytorch_model.safetensors": "4765eaabbf0beb205442e081df3cf0053ddbdf3a87ba3f7facab4d803c25c6e8",
        "weditor/directions.safetensors": "7fe1b4c486a69eeb0bd9e1750c8aa53bb5c9123f66ea49b9c089fd04a89cb34c",
        "weditor/pairs/left.toml": "a6c5ebc9f073cc561e91c7941e61a3db7eaae31164522a2bb7b03ddc1ce6b2ef",
        "weditor/readout.safetensors": "4c6ad27e7dac162489b21f053679ae688a19807238a64e7d6e80ef6bf0d1d048",
        "weditor.json": "787bc865e7a2da41633e4beb630c80fec334198fe919d5e97f4f7354f1aa3b60",
    },
    "shapes-left.toml safree": {
        "README.md": "d7364d941631e09109ab8fe49c4329416c27633120dedf34e7a3dfc9c8980e05",
        "transformer/diffusion_pytorch_model.safetensors": "5fccca00668a6645b0f0bcabf7ca087870494e2edbe7674ebca3cd1ee6304ea2",
        "weditor/directions.safetensors": "4a87c6edd49687d49adb63142764005fe5cda9ec14914bd60557299d70061d85",
        "weditor/pairs/left.toml": "a6c5ebc9f073cc561e91c7941e61a3db7eaae31164522a2bb7b03ddc1ce6b2ef",
        "weditor.json": "db49f41367a1ea6766dbcaea3238f7ac527fe872037ec1fce0b3f07e93a54a75",
    },
    "shapes-red-square.toml text": {
        "README.md": "f72120a09c6a4667ca21c9d238da7ae57759313a3886ad4496a42aa2b3d5e824",
        "transformer/diffusion_pytorch_model.safetensors": "2fad9c0da145edab2c7df849297b136165a60ca5679ea917ffffe3c4031039d3",
        "weditor/directions.safetensors": "a00bd8f4bbb4329450ae9df2a44a9757193a460928651ceb51e86a031ad69bfa",
        "weditor/pairs/red-square.toml": "347682925ddc4674c1cb8ff31c4b7efd305774bf59605532d3d5cb5310b33aa2",
        "weditor/readout.safetensors": "ff81e18144fab25235d080603254934253c9696db8485d182cc30a1c66a43fdd",
        "weditor.json": "e91814c24b8059e90de1c5a46aec00187b08a3ffbe674b8a8bcff9e05c7f5c00",
    },
    "shapes-red-square.toml uce": {
        "README.md": "353a797393c521f36a2cd915f70e42ed606e95fbcae39823e931c0905f1bbb0f",
        "transformer/diffusion_pytorch_model.safetensors": "acbb26fec6cac03fe08bd17018b1166a6e9f01da3b06c07c5e2577c19b2db12e",
        "weditor/directions.safetensors": "84fcb45eb7563f86a1dcc24f21728d7f163ce5aa48025b2ae23c40cac6553eb0",
        "weditor/pairs/red-square.toml": "347682925ddc4674c1cb8ff31c4b7efd305774bf59605532d3d5cb5310b33aa2",
        "weditor/readout.safetensors": "c5c110d51a504245ffcd0d5d24d0bd9a0bb90e2ba3612115d3972a51f30ef1b0",
        "weditor.json": "7c305723c1dd071248e93384d7a2af6b106ddafd63bd5eeb092988b3ebbdb71e",
    },
    "shapes-red-square.toml safree": {
        "README.md": "8c91282b379904c18598c5c4f103bbd6c8f27fc8af84ac0e454dae7e0be27ca5",
        "transformer/diffusion_pytorch_model.safetensors": "86071149983ea5f35f378063d0d9afe5c7dc2c9ad946bece2b2d1bd0665f0ed0",
        "weditor/directions.safetensors": "968934882755b09c8f295def7cd454ca4c856a9646427fb07bbd5deb22f2aadb",
        "weditor/pairs/red-square.toml": "347682925ddc4674c1cb8ff31c4b7efd305774bf59605532d3d5cb5310b33aa2",
        "weditor.json": "4f387d9485febaddca039d534260bc8bdbf25684a957ebcbf2ce82d8275ffc51",
    },
    "shapes-red.toml text": {
        "README.md": "db20bdd919f0d156d1b37ff60f09b75770eda5b8591756279134ac6d944d40ba",
        "transformer/diffusion_pytorch_model.safetensors": "c8c8b1fd8ab030734514b750bb17b6f387fc77009f599ce94a1a869f12217609",
        "weditor/directions.safetensors": "b8567573890eb5e6e7578da1a3ed1d2d35c6191505b8397b9353f14675b24725",
        "weditor/pairs/red.toml": "8ed79ca7e8557085dafb7175c9e94b46739c36311ec58f37ae8f08f8b1211b93",
        "weditor/readout.safetensors": "49feb3345ecb1a7a98f83d7ae081cf737ab56935a7a2a751d7e3993b26c8f246",
        "weditor.json": "75d86fa23532d0851e2fedb39ccd06a216270655df77158dbcc5da44716e9a58",
    },
    "shapes-red.toml uce": {
        "README.md": "6a5f4ea10b76bc8f1eaff127fe3145ffe8c5e8c61e27602f778b2697378a4706",
        "transformer/diffusion_pytorch_model.safetensors": "cb54082a4b7f758bebfe177877d8770a2433f39645e39b3c135311ab2c72baf8",
        "weditor/directions.safetensors": "68559f8c30e7e75b9785aeea4f601c8dd41339b3da1e7bc180a53e48ccc488c4",
        "weditor/pairs/red.toml": "8ed79ca7e8557085dafb7175c9e94b46739c36311ec58f37ae8f08f8b1211b93",
        "weditor/readout.safetensors": "7066d3f4a403e750c419626ec81ba38b4c36c1789bc69d80e0dd2bba30b0a004",
        "weditor.json": "133ceffe104e57c466d21b5462929bf179906f1c9da09618d4f53e82701f48ca",
    },
    "shapes-red.toml safree": {
        "README.md": "57e00c78333344f21bfa1f8ffa324d71944bbe4079e2bdd7d9103f24b7688d6f",
        "transformer/diffusion_pytorch_model.safetensors": "3bed2011591766b202b4eea41e2d468a1359876f50fdef7b85552fb0fa4fdb72",
        "weditor/directions.safetensors": "c34bdb26a524a4187aa0c1b5c7babf81bf4cfa47d8f7bf30a10bd3becacfda58",
        "weditor/pairs/red.toml": "8ed79ca7e8557085dafb7175c9e94b46739c36311ec58f37ae8f08f8b1211b93",
        "weditor.json": "9b41b18971e54ba7a9cab40fc12f38dd7577cab49b8753c8872fcdc0f06f7669",
    },
    "shapes-triangle.toml text": {
        "README.md": "4d95e144f52c6302b8f9b7563ab79fd86b0945bc2de284cf3c5a35d913fb5bd3",
        "transformer/diffusion_pytorch_model.safetensors": "be01c2399b76736d29155e1e45a648a45fc2d3a6a9dfcd098cbbda2d42227fb1",
        "weditor/directions.safetensors": "b0d48ddf4e251024390b0467f878bbe57f0257cb2c24a07c63ef2d267691a742",
        "weditor/pairs/triangle.toml": "6c91d6ea5eee5871608c4516c0ee8914841dee43c71322a582dac784627b9b07",
        "weditor/readout.safetensors": "549ffc726ae787e04557196cdf29fcf23e823a5195dd7d8e230a4d82a746aaf6",
        "weditor.json": "a09b4ce434fec18842143b0e3700553588e115e1885de86a9dca845927f57969",
    },
    "shapes-triangle.toml uce": {
        "README.md": "fbb034034e5acf547c54f9756e01176a5d0a80eee4a30702dc62dc68e29a2b17",
        "transformer/diffusion_pytorch_model.safetensors": "d22a2affd73ebfb5f64aca73dfda71f0915ea10afd82365cf2f540c49afc9fbd",
        "weditor/directions.safetensors": "81dde9a9fe502a6881d2662ea69396966295046db86e52d46bc7eabbee9d3b83",
        "weditor/pairs/triangle.toml": "6c91d6ea5eee5871608c4516c0ee8914841dee43c71322a582dac784627b9b07",
        "weditor/readout.safetensors": "f859e2d093a49b4b5f2675f72533bdf6f853b326b363ee2b9cec4ca263710c41",
        "weditor.json": "273de38b074de897a4dd85bc1377d8f91f8180a258685dce1d634eaa26c10a3e",
    },
    "shapes-triangle.toml safree": {
        "README.md": "de8d3a369e3022fecd09765d4aa7a1999237e7cea502986c0f499e676fcdbe2d",
        "transformer/diffusion_pytorch_model.safetensors": "10012f50b6897026c7fd889c8efce2c1cf46732328e5c3136a8bed24110d34a3",
        "weditor/directions.safetensors": "0239ca2554ae231c7baff9698825c0a931e59a3d7c0dc347d3b71c13cca3adda",
        "weditor/pairs/triangle.toml": "6c91d6ea5eee5871608c4516c0ee8914841dee43c71322a582dac784627b9b07",
        "weditor.json": "3faeff9720bbdd5cd7ff490fff760e50c16b176a7101e635fa5480f8ade47f58",
    },
    "shapes-up.toml text": {
        "README.md": "fa9cf8b920ba6265f38197dcfc86e58ed552fd89bd209ff179bd6446bac009fb",
        "transformer/diffusion_pytorch_model.safetensors": "e4fee95138cba115c65434a0611f43d9fe4ccd0b76ff27a2bb32181df5bac0bd",
        "weditor/directions.safetensors": "84cb714162ee62c58497a0f74ba58ff2a06205cad012a7d735dcc680bc3e66f9",
        "weditor/pairs/up.toml": "fe8f671d8e8859c86fbd01b5a3878017a634867f8bba5d105b54d52109965276",
        "weditor/readout.safetensors": "b1b4b30245ed2ebc99075a2ee6ca00d767509043a68561dc24e0250297de28dd",
        "weditor.json": "f12b57af12509db1ac77d59ad280fbb2f02c038f85d56af824aa0900ae13d54e",
    },
    "shapes-up.toml uce": {
        "README.md": "5e28403485e04cfd51963820d130381757b9abee1210fb5eb70e6602c0f9d3a9",
        "transformer/diffusion_pytorch_model.safetensors": "cee0ae961bd707f8339bec7eb5a7dc52333dae6575e98d65f49824e338cc8412",
        "weditor/directions.safetensors": "9cdd56b1a62385857edb4a5ce51b2cbc6842f651b60e04080808a56707382a7e",
        "weditor/pairs/up.toml": "fe8f671d8e8859c86fbd01b5a3878017a634867f8bba5d105b54d52109965276",
        "weditor/readout.safetensors": "65fd3a82eab2132a9018e8e2a2230b2c411da9b4e81d746ea22dbf7362680779",
        "weditor.json": "3ecaddd10c9cad4aa05bd6b5662ba7603e4b2fe98fa58a49dde4fbbe525cfd2d",
    },
    "shapes-up.toml safree": {
        "README.md": "7a747e2259a14525c1d135768192bf0cdf05f715ee7498e21c9f3e2a43649617",
        "transformer/diffusion_pytorch_model.safetensors": "90edb51273e9b478b1057383e412269efb9fd9edbc4a73c2a3f4edd481faf967",
        "weditor/directions.safetensors": "ada39355eb4731cdd98853f0274c28d7447cffdb001747673214ea3c2463f177",
        "weditor/pairs/up.toml": "fe8f671d8e8859c86fbd01b5a3878017a634867f8bba5d105b54d52109965276",
        "weditor.json": "996e3c6fdcb32bf2b0dc5baa51f8e9b61213d22b62ef8caf9e463c3a9f96ef3d",
    },
    "terrifying.toml text": {
        "error": "Error: pairs/terrifying.toml: pair 2: 'unsafe' and 'safe' become the same tokens for this model's tokenizer ('a zombie walking through a foggy cemetery, slow pan' / 'a caretaker walking through a foggy cemetery, slow pan'): the words that differ are unknown to it, so the pair carries no concept and the patch would do nothing; reword it",
    },
    "terrifying.toml uce": {
        "error": "Error: pairs/terrifying.toml: pair 2: 'unsafe' and 'safe' become the same tokens for this model's tokenizer ('a zombie walking through a foggy cemetery, slow pan' / 'a caretaker walking through a foggy cemetery, slow pan'): the words that differ are unknown to it, so the pair carries no concept and the patch would do nothing; reword it",
    },
    "terrifying.toml safree": {
        "error": "Error: pairs/terrifying.toml: pair 2: 'unsafe' and 'safe' become the same tokens for this model's tokenizer ('a zombie walking through a foggy cemetery, slow pan' / 'a caretaker walking through a foggy cemetery, slow pan'): the words that differ are unknown to it, so the pair carries no concept and the patch would do nothing; reword it",
    },
    "violence.toml text": {
        "error": "Error: pairs/violence.toml: pair 1: 'unsafe' and 'safe' become the same tokens for this model's tokenizer ('a man covered in blood walking down a hallway' / 'a man covered in dust walking down a hallway'): the words that differ are unknown to it, so the pair carries no concept and the patch would do nothing; reword it",
    },
    "violence.toml uce": {
        "error": "Error: pairs/violence.toml: pair 1: 'unsafe' and 'safe' become the same tokens for this model's tokenizer ('a man covered in blood walking down a hallway' / 'a man covered in dust walking down a hallway'): the words that differ are unknown to it, so the pair carries no concept and the patch would do nothing; reword it",
    },
    "violence.toml safree": {
        "error": "Error: pairs/violence.toml: pair 1: 'unsafe' and 'safe' become the same tokens for this model's tokenizer ('a man covered in blood walking down a hallway' / 'a man covered in dust walking down a hallway'): the words that differ are unknown to it, so the pair carries no concept and the patch would do nothing; reword it",
    },
}


@pytest.mark.parametrize("method", list(PAIR_METHODS))
@pytest.mark.parametrize("pairs", PAIR_FILES)
def test_every_pair_file_per_method(pairs, method, tmp_path):
    out = tmp_path / "out"
    result = run_cli(
        ["patch", "--pairs", PAIRS / pairs, "--out", out, "--no-tune", "--no-summary", *PAIR_METHODS[method]]
    )
    if result.exit_code == 0:
        got = written(out, SHAPES)
    else:
        assert result.exit_code == 2 and not out.exists(), result.output
        got = {"error": result.output.strip().splitlines()[-1].replace(f"{ROOT}/", "")}
    check(f"{pairs} {method}", got, GOLDEN_PAIRS.get(f"{pairs} {method}"))


# --------------------------------------------------------------------------- tiny random pipelines

# `weditor patch TINY --pairs tests/data/tiny-red.toml --size 32x32x5 --no-tune OPTIONS`, tensors only (the recipe
# names the base folder, a temporary path).
TINY_METHODS = {
    "paper-site": PAPER_SITE[:-1],
    "refusal": ("--method", "refusal"),
    "text": (),
    "uce": ("--method", "uce"),
    "safree": ("--method", "safree"),
    "refusal+reins": ("--method", "refusal", "--reins"),
}

GOLDEN_TINY = {
    "paper-site": {
        "transformer/diffusion_pytorch_model-00008-of-00014.safetensors": "569eb3222562ed39576828f8d6dad8843cd452e9258d0f1461e1ccdcec21fac5",
        "transformer/diffusion_pytorch_model-00011-of-00014.safetensors": "441c3877b21e23f87374684d9fd12fb0c0ee4dbc28d70b145d3e6d5d02cae48c",
        "transformer/diffusion_pytorch_model-00014-of-00014.safetensors": "ab7b70785620cdf500ca1233e1d1349af98e5d63f8800d0868b80c74e497ea74",
        "transformer_2/diffusion_pytorch_model-00008-of-00014.safetensors": "79e94673afc174f323591a4adf79512d9082f367721beef7dfd5407ed1dde0d0",
        "transformer_2/diffusion_pytorch_model-00011-of-00014.safetensors": "0ba7e161618e164ece8cc748cfd6848e00ed5d4dd2b7b47360ce9f6bc260103d",
        "transformer_2/diffusion_pytorch_model-00014-of-00014.safetensors": "ed2176ebe1a84a054a60c8b77369d4676b283029c40e2a47048987604b94c3cd",
        "weditor/directions.safetensors": "97b12e7bfc942393ca31dfbea5032679e09eeeb18fd4bcddc50b8e543f8c1ad7",
    },
    "refusal": {
        "transformer/diffusion_pytorch_model-00004-of-00014.safetensors": "74484beb0884ee1f9ff971d702407076dbad9c6a98ec603d1570b89bdd2427bd",
        "transformer/diffusion_pytorch_model-00007-of-00014.safetensors": "ce6f15dc2ca9bf079a6c9c89f2e28e8e720ecad356ca279ac6518812bc3c5356",
        "transformer/diffusion_pytorch_model-00010-of-00014.safetensors": "c1403f2933ad244d66b80ab5a980b0a0e7c5e6bde3806b91047b371e0fd0c329",
        "transformer/diffusion_pytorch_model-00013-of-00014.safetensors": "5ef84889488efd51e578c6802ad8d106826e7365a582dbab82eb956801d66982",
        "transformer_2/diffusion_pytorch_model-00004-of-00014.safetensors": "6e68a02f49fc58d98296c6dd62537f4f9fe64f1cc56097bfe5a96d107233e3e0",
        "transformer_2/diffusion_pytorch_model-00007-of-00014.safetensors": "e0dd0f093c53233bcb3daff35ad3c4603af47098a0da272576ac8a54fb171552",
        "transformer_2/diffusion_pytorch_model-00010-of-00014.safetensors": "dd1c489dfb0fd37cf535639f2145d84eb41b175d4813a15cecfa5621a5df251d",
        "transformer_2/diffusion_pytorch_model-00013-of-00014.safetensors": "52f14050bf51aa6f1495d44f69c978e3b365ed81a9b196beb29357b5e21b5620",
        "weditor/directions.safetensors": "bab75263f1b21f705073c290dc2c715b4270da2ed3d287c141a7588ecb12af0d",
        "weditor/readout.safetensors": "a06baabc73890dc1d503af9314da9cbac5ab66e05ae76ed1d9d1ca70ed1c476e",
    },
    "text": {
        "transformer/diffusion_pytorch_model-00002-of-00014.safetensors": "53f8dfe339f8cc84d181d8d9584ad29b8d6587ac6055e11614da44017d8d0337",
        "transformer_2/diffusion_pytorch_model-00002-of-00014.safetensors": "442ad05329f9d8e582dd2a5cac4bc600eaf9bba2dabaa2ad349d7f2dee08cff5",
        "weditor/directions.safetensors": "453d59a80c2909fb9a978e4f93f83d007b62029d909244e0e61d89773f0632bf",
        "weditor/readout.safetensors": "9698a911407a2b676e14c60c8999f7721c4a8abf9df9687f8c57bf47d9e71341",
    },
    "uce": {
        "transformer/diffusion_pytorch_model-00004-of-00014.safetensors": "8b5cf0079d1aead1ae41f7915744bf6b13b0f662db2f517f8ef3335e541aa3e1",
        "transformer/diffusion_pytorch_model-00007-of-00014.safetensors": "bd0bc80f0d5ac4b1c451ac70e5320f01d0e3d1b470d32445afa0bbd58ea8e96b",
        "transformer/diffusion_pytorch_model-00010-of-00014.safetensors": "a3ff0590071f5fc50b6acd787b24654eea05b82520dd1084274024cbb1c998f2",
        "transformer/diffusion_pytorch_model-00013-of-00014.safetensors": "1837c2688aa01e0587c7f0053ade3d3377980606c4e66c926e49b5eaf657ae4a",
        "transformer_2/diffusion_pytorch_model-00004-of-00014.safetensors": "93bab2f30c486f247f09c7858b2b39181a0957d84c415e0ee36a68e81bcd6a0b",
        "transformer_2/diffusion_pytorch_model-00007-of-00014.safetensors": "d4234c23af7e3fb1f2af7cde6a4634eb262e1d5264d7cef0c83407a53790ceb5",
        "transformer_2/diffusion_pytorch_model-00010-of-00014.safetensors": "465e296a5bd73bd01154ad5f7f6e130df6df30d48bd6e970149d5c370a289104",
        "transformer_2/diffusion_pytorch_model-00013-of-00014.safetensors": "32b2864c91a60b34a2052706a000ecfdf752fbd910deafa777ec07d4cc92773d",
        "weditor/directions.safetensors": "e8099afa36c879ea00e4a9dd60f858a427339643fba2352912459342e2a3f23e",
        "weditor/readout.safetensors": "54ed011dd7537e9dabea5bc2bde2a3ae32f0fd8a1636e81f3bdcd06cb741ce3f",
    },
    "safree": {
        "transformer/diffusion_pytorch_model-00002-of-00014.safetensors": "7488b747f00265132ba08ce4ee7b54f57738662a3a156e43f00138f8f7e3eae6",
        "transformer_2/diffusion_pytorch_model-00002-of-00014.safetensors": "823542e5eadf89d677e99b7398eb1770d45053b3df6c2fa5b3ed4b1a2f15dc5c",
        "weditor/directions.safetensors": "c4e6fe28b2d1d2217f58f120127bd8799807c0fbb4bc1cc77f59bb4e73912782",
    },
    "refusal+reins": {
        "transformer/diffusion_pytorch_model-00004-of-00014.safetensors": "74484beb0884ee1f9ff971d702407076dbad9c6a98ec603d1570b89bdd2427bd",
        "transformer/diffusion_pytorch_model-00007-of-00014.safetensors": "ce6f15dc2ca9bf079a6c9c89f2e28e8e720ecad356ca279ac6518812bc3c5356",
        "transformer/diffusion_pytorch_model-00010-of-00014.safetensors": "1a55e440e3090afdd90ee04f01909183ec556b18043ee2642194bc3177258a40",
        "transformer/diffusion_pytorch_model-00013-of-00014.safetensors": "5ef84889488efd51e578c6802ad8d106826e7365a582dbab82eb956801d66982",
        "transformer_2/diffusion_pytorch_model-00004-of-00014.safetensors": "6e68a02f49fc58d98296c6dd62537f4f9fe64f1cc56097bfe5a96d107233e3e0",
        "transformer_2/diffusion_pytorch_model-00007-of-00014.safetensors": "e0dd0f093c53233bcb3daff35ad3c4603af47098a0da272576ac8a54fb171552",
        "transformer_2/diffusion_pytorch_model-00010-of-00014.safetensors": "6cab5631e918e96bc69a2c4f78371fab1aeffffc801105f03451d314a1bae87b",
        "transformer_2/diffusion_pytorch_model-00013-of-00014.safetensors": "52f14050bf51aa6f1495d44f69c978e3b365ed81a9b196beb29357b5e21b5620",
        "weditor/directions.safetensors": "bab75263f1b21f705073c290dc2c715b4270da2ed3d287c141a7588ecb12af0d",
        "weditor/readout.safetensors": "a06baabc73890dc1d503af9314da9cbac5ab66e05ae76ed1d9d1ca70ed1c476e",
        "weditor/reins.safetensors": "d5730e441f6e500557bf2b3741e00ab9f0da32076bc5c704472c04297e32c547",
    },
}


@pytest.mark.parametrize("name", list(TINY_METHODS))
def test_tiny_wan_per_method(name, tiny_wan, tmp_path):
    out = tmp_path / "out"
    result = run_cli(
        ["patch", tiny_wan, "--pairs", TINY_PAIRS, "--out", out, "--size", TINY_SIZE, "--no-tune", *TINY_METHODS[name]]
    )
    assert result.exit_code == 0, result.output
    check(name, written(out, tiny_wan, only_tensors=True), GOLDEN_TINY.get(name))
