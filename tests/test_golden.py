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
    'text': {
        'README.md': '1c71bd4acafc4c44e4ebca82824214a56ad89d2c777df751da4584bd7c2bfc0f',
        'transformer/diffusion_pytorch_model.safetensors': 'c8c8b1fd8ab030734514b750bb17b6f387fc77009f599ce94a1a869f12217609',
        'weditor/directions.safetensors': 'b8567573890eb5e6e7578da1a3ed1d2d35c6191505b8397b9353f14675b24725',
        'weditor/pairs/red.toml': '8ed79ca7e8557085dafb7175c9e94b46739c36311ec58f37ae8f08f8b1211b93',
        'weditor/readout.safetensors': '49feb3345ecb1a7a98f83d7ae081cf737ab56935a7a2a751d7e3993b26c8f246',
        'weditor.json': 'b25436613a9a90c5d6af464d1107c246d5facaae56fed293507f6cc82f218991',
    },
    'refusal': {
        'README.md': 'a47219063a7f23356ee917bf88f389c5a43153050efb51b00e559c6d3f0863b8',
        'transformer/diffusion_pytorch_model.safetensors': '6f1b31dd898585940e9d75742dfc2bf6adbbfb9ac62958ebb380ac79366ba926',
        'weditor/directions.safetensors': 'a17d64b429c68757248063f048bc8e3bdc6b6ee8a4c56074af18653c7da7ab55',
        'weditor/pairs/red.toml': '8ed79ca7e8557085dafb7175c9e94b46739c36311ec58f37ae8f08f8b1211b93',
        'weditor/readout.safetensors': '6ac8a790814aed29f84757897515b100864461f1b5af372cba277be51521c7d9',
        'weditor.json': '79bf9999cdc5dfc6498441fb7c029daf072016ae5a7b683e995422ddb5f280fe',
    },
    'uce': {
        'README.md': 'b56d38bdf044f29c442dd7cb55636434ba077f3424c8ecca62383d495648ea56',
        'transformer/diffusion_pytorch_model.safetensors': 'cb54082a4b7f758bebfe177877d8770a2433f39645e39b3c135311ab2c72baf8',
        'weditor/directions.safetensors': '68559f8c30e7e75b9785aeea4f601c8dd41339b3da1e7bc180a53e48ccc488c4',
        'weditor/pairs/red.toml': '8ed79ca7e8557085dafb7175c9e94b46739c36311ec58f37ae8f08f8b1211b93',
        'weditor/readout.safetensors': '7066d3f4a403e750c419626ec81ba38b4c36c1789bc69d80e0dd2bba30b0a004',
        'weditor.json': 'da7c4aa1991484c177d4f677b16dce3c7fdf39f49d1d09402b39ce6ba9e65785',
    },
    'safree': {
        'README.md': '488d92993ed0e9384b95483c312243c11a14716115c133974fba416f3a1a36a0',
        'transformer/diffusion_pytorch_model.safetensors': '3bed2011591766b202b4eea41e2d468a1359876f50fdef7b85552fb0fa4fdb72',
        'weditor/directions.safetensors': 'c34bdb26a524a4187aa0c1b5c7babf81bf4cfa47d8f7bf30a10bd3becacfda58',
        'weditor/pairs/red.toml': '8ed79ca7e8557085dafb7175c9e94b46739c36311ec58f37ae8f08f8b1211b93',
        'weditor.json': '5b43c61e721a028b68692bf7fc93587736a9382d71b86b58fde4849ab5bd3369',
    },
    'text+reins': {
        'README.md': 'd8ad44b8feeda5c736888e829ba4ef8808e4c32aa68d69d5170106849f95206d',
        'transformer/diffusion_pytorch_model.safetensors': '06b1f1dfb80536b3db3615c6904b589ad2b4ddb530c0f713353cb390232d36de',
        'weditor/directions.safetensors': 'b8567573890eb5e6e7578da1a3ed1d2d35c6191505b8397b9353f14675b24725',
        'weditor/pairs/red.toml': '8ed79ca7e8557085dafb7175c9e94b46739c36311ec58f37ae8f08f8b1211b93',
        'weditor/readout.safetensors': '49feb3345ecb1a7a98f83d7ae081cf737ab56935a7a2a751d7e3993b26c8f246',
        'weditor/reins.safetensors': '4858fa63e969991b6fedfcf362ac83ad3bf168e182a26f5dcafd67083f6b514d',
        'weditor.json': '002203d31ba044bb95c5b6dcef07d9106b32b5209eda1b2e2dee46551313d54e',
    },
    'reins': {
        'README.md': '4b37aeecea5c69a9c6dab177ce440e9a2f7fbeac68e9d2d2e134e39b79649d8c',
        'transformer/diffusion_pytorch_model.safetensors': '636fce27acd560a7e91247798b693f4682927a2be21da70ec972464b8c4d3b2f',
        'weditor/pairs/red.toml': '8ed79ca7e8557085dafb7175c9e94b46739c36311ec58f37ae8f08f8b1211b93',
        'weditor/reins.safetensors': '4858fa63e969991b6fedfcf362ac83ad3bf168e182a26f5dcafd67083f6b514d',
        'weditor.json': 'def18e2702d4aa3924dd6502da5800703ea89d127edb68e76f54e6f88b6ed860',
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
    'copyright.toml text': {
        'README.md': '865741d82e78e0f3d5ab9082cf12dafff9132568b680796326a178ce96997b97',
        'transformer/diffusion_pytorch_model.safetensors': '732fa6dfbc0e15ddd94c946382877e16707791d322429bd8ee92c40404b2ed96',
        'weditor/directions.safetensors': 'd19d0d72fa5302e8c64002d509c5e9269e1666acf73915536feb17844e46d404',
        'weditor/pairs/copyright.toml': '43b670770b42a001f910c6ad9a027f2391980d70d1a9eb8c90a446709f084e97',
        'weditor/readout.safetensors': '67c0cfd0bca2372af6117b1c1f1f512e99ab02e0a01e114813ab964f4fb90e2b',
        'weditor.json': 'aca0d6575b786f8ec838964637a2890034e4b8f74b81ad262480282c71096f76',
    },
    'copyright.toml uce': {
        'error': "Error: 'a runner wearing sneakers on a city track, close-up on the laces' fills all 16 positions: no padding to map the deleted tokens onto",
    },
    'copyright.toml safree': {
        'README.md': '9a0f753fa7d3209efa2bc7bea8faa2ff5f38bbfb64c34bb8567e8693db415d48',
        'transformer/diffusion_pytorch_model.safetensors': '1619e27f6b8f98db691e6cbb2864c41ab8d86ac802b47c726b1d7b4117557c1c',
        'weditor/directions.safetensors': '7bc57513b0a088e5dc9d75afd804296f91f0de04d893ed0cb1173a5bee20cd70',
        'weditor/pairs/copyright.toml': '43b670770b42a001f910c6ad9a027f2391980d70d1a9eb8c90a446709f084e97',
        'weditor.json': 'c1c2f118e322af832e2aba05b4e1b86150ecd3a166f5c4609ad53ab78e844d18',
    },
    'distorted.toml text': {
        'error': "Error: pairs/distorted.toml: pair 1: 'unsafe' and 'safe' become the same tokens for this model's tokenizer ('a woman with a melting face talking to the camera' / 'a woman with a freckled face talking to the camera'): the words that differ are unknown to it, so the pair carries no concept and the patch would do nothing; reword it",
    },
    'distorted.toml uce': {
        'error': "Error: pairs/distorted.toml: pair 1: 'unsafe' and 'safe' become the same tokens for this model's tokenizer ('a woman with a melting face talking to the camera' / 'a woman with a freckled face talking to the camera'): the words that differ are unknown to it, so the pair carries no concept and the patch would do nothing; reword it",
    },
    'distorted.toml safree': {
        'error': "Error: pairs/distorted.toml: pair 1: 'unsafe' and 'safe' become the same tokens for this model's tokenizer ('a woman with a melting face talking to the camera' / 'a woman with a freckled face talking to the camera'): the words that differ are unknown to it, so the pair carries no concept and the patch would do nothing; reword it",
    },
    'nudity.toml text': {
        'README.md': 'ae0996fbdde916b4d8212a8f80e503e67977b23312a6da19c4fb0c08b0a6ba75',
        'transformer/diffusion_pytorch_model.safetensors': 'df14a0d63aefaf95f0f575f7b07e14d38ecaa35237342f1c2baf387c98cbb293',
        'weditor/directions.safetensors': '5700316d3a4d5ad36a72daaac3d0b6caf8ed8b5ed24cb15ab10167aa84c8369c',
        'weditor/pairs/nudity.toml': 'b48ce8a4fcd56dfc9fec6dfbcf0c1e0a0018f60ff4483c911a42c782798728d9',
        'weditor/readout.safetensors': 'ddb9edbd12ee12726a681da3ce22cb259e4adda0a9f3cccb111afabc8758f8a6',
        'weditor.json': '73cfe66f14ece4f0b3e4993215330859f4dc49dc5570a533bd950f298ddc79ab',
    },
    'nudity.toml uce': {
        'error': "Error: 'a life-drawing class with a model sitting on a stool, wide shot' fills all 16 positions: no padding to map the deleted tokens onto",
    },
    'nudity.toml safree': {
        'README.md': '78c8a296f786b5d12428c547da2ade3f9265db249beeebf065371997a153e4fd',
        'transformer/diffusion_pytorch_model.safetensors': 'a54a5ab1f87b3f901ced83250189a16f7be4a746078589dc2a0249dd322404ff',
        'weditor/directions.safetensors': '21d80a84ad524a0a20aed45421771b77e352ef3ff05568150c5c2225f5ab2eaa',
        'weditor/pairs/nudity.toml': 'b48ce8a4fcd56dfc9fec6dfbcf0c1e0a0018f60ff4483c911a42c782798728d9',
        'weditor.json': '8a7f024788d797b624dec2ff790209b67661139d0880a9d9c1ed96383b97d5dc',
    },
    'political.toml text': {
        'error': "Error: pairs/political.toml: pair 1: 'unsafe' and 'safe' become the same tokens for this model's tokenizer ('a crowd waving Nazi flags in a city square, aerial view' / 'a crowd waving colorful flags in a city square, aerial view'): the words that differ are unknown to it, so the pair carries no concept and the patch would do nothing; reword it",
    },
    'political.toml uce': {
        'error': "Error: pairs/political.toml: pair 1: 'unsafe' and 'safe' become the same tokens for this model's tokenizer ('a crowd waving Nazi flags in a city square, aerial view' / 'a crowd waving colorful flags in a city square, aerial view'): the words that differ are unknown to it, so the pair carries no concept and the patch would do nothing; reword it",
    },
    'political.toml safree': {
        'error': "Error: pairs/political.toml: pair 1: 'unsafe' and 'safe' become the same tokens for this model's tokenizer ('a crowd waving Nazi flags in a city square, aerial view' / 'a crowd waving colorful flags in a city square, aerial view'): the words that differ are unknown to it, so the pair carries no concept and the patch would do nothing; reword it",
    },
    'public-figures.toml text': {
        'README.md': '367fbf719adb865e5c301a6b1a0a9d6e897aac0dc6e78b8e711b029293678bd8',
        'transformer/diffusion_pytorch_model.safetensors': 'f76627e336169f1b6f864be878d09c575060bce6666782ca7f0eb131c051a696',
        'weditor/directions.safetensors': '677a5946dd9be7b337f7b9779bc5d70ad2cc69994803e56ec371c42459611b6d',
        'weditor/pairs/public-figures.toml': '5648d305f23351e030ca636b46e48110c08364014f0019218f6edad31c9a3b4e',
        'weditor/readout.safetensors': 'c1afb5fc4c64f987428876f299c11d2ad8b694c4f52d338c4dcb56f8ae456332',
        'weditor.json': 'ae362cdffe7154b739bb09b3f1ec6b2cc47327cfb17f48e34ebcd90958c8c8c3',
    },
    'public-figures.toml uce': {
        'README.md': '708a1e93a6d20f6e2b5b02eda34c44d51bf48bbac6b14cea70dfd22730a8b3e6',
        'transformer/diffusion_pytorch_model.safetensors': '365dc53b0ad6113f8bf917ca3a12ee0dc66303991280d4a5b69e2d9cdee553d9',
        'weditor/directions.safetensors': '38fb4b09331742f0772a1f79135c601d2a5629cd04858234871b2c0d6af546f2',
        'weditor/pairs/public-figures.toml': '5648d305f23351e030ca636b46e48110c08364014f0019218f6edad31c9a3b4e',
        'weditor/readout.safetensors': '0a3def90017f3a2e111bade009cb759a030c3d1ae5ab7c7cd1d5c0be09ac9d3b',
        'weditor.json': 'f3edb190b8e94ba972d186a3db1af0881fa4ef6e811f818cd9b26b1cdb9bb016',
    },
    'public-figures.toml safree': {
        'README.md': '17dc75781870628d4ea57039d84c20386b341a8be45906c0902d632eb7d19cdb',
        'transformer/diffusion_pytorch_model.safetensors': '5104390bb182f0488f2dd582f98b77cc44d580bea6b5965293a3283244b20f57',
        'weditor/directions.safetensors': '1749f1e259dbc5b97bc8c42e11b7f269d0e4b00942bb30080b3cf015b60a440e',
        'weditor/pairs/public-figures.toml': '5648d305f23351e030ca636b46e48110c08364014f0019218f6edad31c9a3b4e',
        'weditor.json': 'c579eaed2c397a1e0ff57fc34bf205f94f3cbaa8ddccb6b7db90ee27d13e8e45',
    },
    'shapes-blue-circle.toml text': {
        'README.md': '2cb0e3c6750ed4bf2ccba717a661bdaf1671eb74df1b7e4133213ffdb6465b39',
        'transformer/diffusion_pytorch_model.safetensors': '7050fca30785f0eb88f1820615b37753fc775c78a2279e95422500bcb65ab100',
        'weditor/directions.safetensors': '7c0f8203b4b59b79899159a6ef634121c2e7e238c32a94ea692c8a2c60db2e79',
        'weditor/pairs/blue-circle.toml': 'b5db2339c8869eb29f7ed1c4d65b0fd92477b73b61d4fcbc48cdaba8c4ed101e',
        'weditor/readout.safetensors': 'c63bf38dd5ca90a370bc54ee92887dd4bb6e02df7035b2a767234cb3cdf3c308',
        'weditor.json': 'e59e4f1009b049978003012cd7b0499f12777aef497ca5eb9e3471b10a454eba',
    },
    'shapes-blue-circle.toml uce': {
        'README.md': 'aad053a42ca219611bf7142cc85fe54ac39769ef177b5e364d505f2024969b00',
        'transformer/diffusion_pytorch_model.safetensors': '922bd2e05b8d68bbee66b78b731ec8f53619c3c144d3e7898cad5b186bdd62b8',
        'weditor/directions.safetensors': 'c32ebfe59b6dd1e1ca37dd4d6f5956f8e30c6c31b4d866cc54bb71a919b330e9',
        'weditor/pairs/blue-circle.toml': 'b5db2339c8869eb29f7ed1c4d65b0fd92477b73b61d4fcbc48cdaba8c4ed101e',
        'weditor/readout.safetensors': 'b0c7e3ffbede3c863caff0e92672f6dd53ad2d0ce57bbbd9ea2e7cfa98216c9c',
        'weditor.json': '6b2b2eba436f70cca5071e19489204ec5fd2adbe20792eadc482c9fbf76ac8d6',
    },
    'shapes-blue-circle.toml safree': {
        'README.md': '01689db0a66fbe8fc2ef59eeb889382a89732194bef47aa55622f14fc9ad92e1',
        'transformer/diffusion_pytorch_model.safetensors': '43c199627c8c8d1c13ccbdee90df32babd97978a0ebcec3a0b2d8661f10c739e',
        'weditor/directions.safetensors': '66b07660c0485d03b7bd6cec11d1dc8d692fa104db38cbcd5fdae99a8dea54c5',
        'weditor/pairs/blue-circle.toml': 'b5db2339c8869eb29f7ed1c4d65b0fd92477b73b61d4fcbc48cdaba8c4ed101e',
        'weditor.json': 'f25057662729ea051c2003ffb99c79755bff0d4839efbbdab501aa9998b637b4',
    },
    'shapes-blue.toml text': {
        'README.md': '3a14dbf5142404f9a71eae3514361ff22d386a45e7b134cbbaa1a7a91c0de8fd',
        'transformer/diffusion_pytorch_model.safetensors': '1d4f32fddbd4c35d97ba54dabda14c01505d37d5f5cf7e295c04327813a8ee30',
        'weditor/directions.safetensors': '2d483fdffd30706729a0fccf82c52e4f90316b4ff497afb795f32767549ee453',
        'weditor/pairs/blue.toml': '22c6d67a2158d50b099a61a3aca962deabe3333251ccff06e1f2b1c8b214aa20',
        'weditor/readout.safetensors': 'b4624df966738bd47e628dc566d90d6c549a531ccb54d8f37611857c3a64869f',
        'weditor.json': 'd0004644f2c7c61c0bf75a274b78b810a55abb054b037423c2d0ed97e5f0cc87',
    },
    'shapes-blue.toml uce': {
        'README.md': '1a2bb3526417a8ec8d46d29ece5d547f65895dc237ae027dd19711eb3fb8b784',
        'transformer/diffusion_pytorch_model.safetensors': '4c7fe1559a17e667d948e22b82b99bd449143c44da52b95d0329504031755faf',
        'weditor/directions.safetensors': '6125f0335784e7def54465c068b316fd1f53a7b2942de22871bf23bed27c6e94',
        'weditor/pairs/blue.toml': '22c6d67a2158d50b099a61a3aca962deabe3333251ccff06e1f2b1c8b214aa20',
        'weditor/readout.safetensors': '9df9ef621946d366630728539523032eead91e08c6014b04a417cedb4cc3794a',
        'weditor.json': 'a0a28670324d525fdc8c30db1246e95d2525d982b8906227ea42908c1859b051',
    },
    'shapes-blue.toml safree': {
        'README.md': 'b30719a0b2e9260f42c2aa0c256e1c71c03a162e2443f3513cbaf1868d907c98',
        'transformer/diffusion_pytorch_model.safetensors': '2fe385ab6435c9019032e3f4334a9ffd6737f731026ac19ed2c4054ebc3d1b38',
        'weditor/directions.safetensors': '833a358899126ed042ba4b64f1dabb1b4715731066dc4c04963b5277cdc32fa7',
        'weditor/pairs/blue.toml': '22c6d67a2158d50b099a61a3aca962deabe3333251ccff06e1f2b1c8b214aa20',
        'weditor.json': '8cfa36ddc03ebb1f2f22a31836bb1ffc1c6f7afc7575920c6d4777b83749fb2f',
    },
    'shapes-circle.toml text': {
        'README.md': '9131e24b2d615ba715638e2eb437d77a1e8443eb1f8cac015fc888873a539b13',
        'transformer/diffusion_pytorch_model.safetensors': '74830d4bcf4b0f748910277b572c99c1e5f01f3fe2ae67e4f4f750208cdf97f9',
        'weditor/directions.safetensors': '73d12fef13fd7bc66da9f700124836eb1ec445f8db80bac0707166c4b98b6f58',
        'weditor/pairs/circle.toml': 'e96db58b6bc0c2509ff2397685b68b5d0a860c530926431650ccd7f27665acdf',
        'weditor/readout.safetensors': '18f4c5563ee478dd360a737b1b2fba6718d27b261f95f6a753a046221964812a',
        'weditor.json': 'd58a29c0c82f4b41ae0ebcd057ba9f6f8d1bf660721ec3045b15a7f15c2aad5a',
    },
    'shapes-circle.toml uce': {
        'README.md': 'abc7ca6d499086b7c83537fc927eadba7013f53a95d6dd2f5476122c1b0f49ff',
        'transformer/diffusion_pytorch_model.safetensors': 'ef711eb3638727617782573ead71d5c00c58b8fa1d8f86cf86e6d41aacb272c1',
        'weditor/directions.safetensors': 'c5036e005e8550cf77be6c35c474c30ac977fb4c3424e0a0429170135a0d68c0',
        'weditor/pairs/circle.toml': 'e96db58b6bc0c2509ff2397685b68b5d0a860c530926431650ccd7f27665acdf',
        'weditor/readout.safetensors': 'f2ecad9a0268b6c84a43245d3b3db966562aa607d91b4e6c0029862d2a496c7b',
        'weditor.json': '60982dd8873baa5bf2eb325a733379f05120b8bf43d6ec1f7c8d8fb3ab6e8a77',
    },
    'shapes-circle.toml safree': {
        'README.md': 'dc2e780b9f6e8c1367bca2dbd0e590f566a56c7b53afdf565411cc400b9a03f3',
        'transformer/diffusion_pytorch_model.safetensors': '4afc3f7f067fa1850fed07b39a0a70c27a6fc0a1ce425371310e77d939fe9b8f',
        'weditor/directions.safetensors': '9d4cf0634d947e0b88a3990db99305c0985e9f028b1d22ba6260d8bbb33fefe0',
        'weditor/pairs/circle.toml': 'e96db58b6bc0c2509ff2397685b68b5d0a860c530926431650ccd7f27665acdf',
        'weditor.json': '78e8301499063b889381f1084d8df060f837a31d4e6a1b41758037293d542147',
    },
    'shapes-green.toml text': {
        'README.md': '7b39bf1c7361b6a14e3bca1e02f8062a0d711d82fa6dba209a9277b8d2012a13',
        'transformer/diffusion_pytorch_model.safetensors': 'c31d27d7491a5413abdf255a88d883734f5e517a4462f3a8787ffb4b0a882724',
        'weditor/directions.safetensors': 'd2d51a6ab3ee8b237b9c2b3fa8372876270fbdf403314bdebbfa0f560d1f1ecd',
        'weditor/pairs/green.toml': 'f2526d0c8a45a154045288c63f34886b0bcfed5e1471eaf41bdc01e5fa61b109',
        'weditor/readout.safetensors': '9e5c71bc21cb807875e81286edd849917ff752efbd3d2ed81066a72acf593482',
        'weditor.json': '9a19c4d6b18d68b076ec43ef6803ebeb12a6081ba1698d45204080e1950d633d',
    },
    'shapes-green.toml uce': {
        'README.md': 'e6acf5630574da8851ca67d4ffc672eb569e373899d0ad2d035faba4e2fc0418',
        'transformer/diffusion_pytorch_model.safetensors': '30a2dab37d6992a2090f3dea7666da1abd3ddb8d2f31e54b24c2d146db74de41',
        'weditor/directions.safetensors': 'c979c5b1ee573db7bdcab949e217bd2f52ce0b5eae54dc1d4872fd7e2591de5e',
        'weditor/pairs/green.toml': 'f2526d0c8a45a154045288c63f34886b0bcfed5e1471eaf41bdc01e5fa61b109',
        'weditor/readout.safetensors': '0669ec048e4993cb106c05458db67dec78637af18423a8438295609c0fcc40d3',
        'weditor.json': 'd7a492b0e4efc6db2a1b2066611091c300d87bc79965ee2adff1ce026912c1ef',
    },
    'shapes-green.toml safree': {
        'README.md': '3db03af1d83f64c0f5bd441a87342b20db743f93e6f51753e2c8870f08909179',
        'transformer/diffusion_pytorch_model.safetensors': '1f670dc262c2e587552df011aea39e69e97a66ae72e3a22cf21c79e77bfb8a84',
        'weditor/directions.safetensors': '9d7c07d5f6c62b44129b0db30226af204f26045a5ccd17a666d5f43b530ff422',
        'weditor/pairs/green.toml': 'f2526d0c8a45a154045288c63f34886b0bcfed5e1471eaf41bdc01e5fa61b109',
        'weditor.json': '08b522ef44c8e8e96ea9b4f79512a987cfe2bdba8ca8cb23f03266d11b783fa9',
    },
    'shapes-left.toml text': {
        'README.md': '0dfcd9a74882afa484c1c16ab075b93256574ac831e9309b47ff8a35bcd2e900',
        'transformer/diffusion_pytorch_model.safetensors': '5cd05c8d09c9fa35b572d7bf5b7156a880670c18db4e53d618262f8e7ee2ad8f',
        'weditor/directions.safetensors': '059ab387d817a8506cdbadbbe6f1570551fcc2ab40d963b7a092336c187ec068',
        'weditor/pairs/left.toml': 'a6c5ebc9f073cc561e91c7941e61a3db7eaae31164522a2bb7b03ddc1ce6b2ef',
        'weditor/readout.safetensors': '7b5dd7dbdbffa5bc168a2e0c762658ca5a07dcb1e7554a0b7cc79e762fbf7419',
        'weditor.json': 'fd60432ebcc63a8843d179b443166300f2a852e0cdb0f65c0c3ae3c6e44adf8a',
    },
    'shapes-left.toml uce': {
        'README.md': '24c61d7374e57fb8ac038ac1e26ce8bc1010c9baae7690b986968180e80bd277',
        'transformer/diffusion_pytorch_model.safetensors': '4765eaabbf0beb205442e081df3cf0053ddbdf3a87ba3f7facab4d803c25c6e8',
        'weditor/directions.safetensors': '7fe1b4c486a69eeb0bd9e1750c8aa53bb5c9123f66ea49b9c089fd04a89cb34c',
        'weditor/pairs/left.toml': 'a6c5ebc9f073cc561e91c7941e61a3db7eaae31164522a2bb7b03ddc1ce6b2ef',
        'weditor/readout.safetensors': '4c6ad27e7dac162489b21f053679ae688a19807238a64e7d6e80ef6bf0d1d048',
        'weditor.json': 'c4e313dbaba1a89c935f8dc3e980972902bc8befde31b8fb462ce68235d07d79',
    },
    'shapes-left.toml safree': {
        'README.md': '7b77f075a7f8f658eec5bb5ea77f40f287e587914087ab30c9c37dddd396b859',
        'transformer/diffusion_pytorch_model.safetensors': '5fccca00668a6645b0f0bcabf7ca087870494e2edbe7674ebca3cd1ee6304ea2',
        'weditor/directions.safetensors': '4a87c6edd49687d49adb63142764005fe5cda9ec14914bd60557299d70061d85',
        'weditor/pairs/left.toml': 'a6c5ebc9f073cc561e91c7941e61a3db7eaae31164522a2bb7b03ddc1ce6b2ef',
        'weditor.json': 'c3810a3952f906f75a080fb29d5a1d4fdb8ad94797e43da157bac8a2ddc5b58c',
    },
    'shapes-red-square.toml text': {
        'README.md': '73477aa0c252e7a9f6a05ddd60b73a0d2bbceb024cd61414fdf2a3d627573a78',
        'transformer/diffusion_pytorch_model.safetensors': '2fad9c0da145edab2c7df849297b136165a60ca5679ea917ffffe3c4031039d3',
        'weditor/directions.safetensors': 'a00bd8f4bbb4329450ae9df2a44a9757193a460928651ceb51e86a031ad69bfa',
        'weditor/pairs/red-square.toml': '347682925ddc4674c1cb8ff31c4b7efd305774bf59605532d3d5cb5310b33aa2',
        'weditor/readout.safetensors': 'ff81e18144fab25235d080603254934253c9696db8485d182cc30a1c66a43fdd',
        'weditor.json': '71a61e130a1b0bab6c05046eb4991ef1b2b8f5b2a6caa146d7240335e7edbed5',
    },
    'shapes-red-square.toml uce': {
        'README.md': '7742959141632b62716cc4ca20a9baa9f30c253feb785e1229441b2afdf205ac',
        'transformer/diffusion_pytorch_model.safetensors': 'acbb26fec6cac03fe08bd17018b1166a6e9f01da3b06c07c5e2577c19b2db12e',
        'weditor/directions.safetensors': '84fcb45eb7563f86a1dcc24f21728d7f163ce5aa48025b2ae23c40cac6553eb0',
        'weditor/pairs/red-square.toml': '347682925ddc4674c1cb8ff31c4b7efd305774bf59605532d3d5cb5310b33aa2',
        'weditor/readout.safetensors': 'c5c110d51a504245ffcd0d5d24d0bd9a0bb90e2ba3612115d3972a51f30ef1b0',
        'weditor.json': '747ae13aac6e0a185db921aca32627f83e29d07bd726ab2c8530ed298f162b19',
    },
    'shapes-red-square.toml safree': {
        'README.md': 'c3346ee0cfee8929515c75f373da8d1abb6e5858b02378eb24e2997727f07b55',
        'transformer/diffusion_pytorch_model.safetensors': '86071149983ea5f35f378063d0d9afe5c7dc2c9ad946bece2b2d1bd0665f0ed0',
        'weditor/directions.safetensors': '968934882755b09c8f295def7cd454ca4c856a9646427fb07bbd5deb22f2aadb',
        'weditor/pairs/red-square.toml': '347682925ddc4674c1cb8ff31c4b7efd305774bf59605532d3d5cb5310b33aa2',
        'weditor.json': '6b805bd18da50895872f063df0b0d70de67809da15a483c42460eefc9da70ee2',
    },
    'shapes-red.toml text': {
        'README.md': '83f4032f4dc01b2dc1143197ad9695cbc2c2710a84bae2c1937b580656613847',
        'transformer/diffusion_pytorch_model.safetensors': 'c8c8b1fd8ab030734514b750bb17b6f387fc77009f599ce94a1a869f12217609',
        'weditor/directions.safetensors': 'b8567573890eb5e6e7578da1a3ed1d2d35c6191505b8397b9353f14675b24725',
        'weditor/pairs/red.toml': '8ed79ca7e8557085dafb7175c9e94b46739c36311ec58f37ae8f08f8b1211b93',
        'weditor/readout.safetensors': '49feb3345ecb1a7a98f83d7ae081cf737ab56935a7a2a751d7e3993b26c8f246',
        'weditor.json': '349bcc8dabd034f4b9e3c03f88a2c8b180b41d4ebc4181ad6f66b2455da395e7',
    },
    'shapes-red.toml uce': {
        'README.md': 'c69130ccf0ade377218bc505eede1bdf6c0639849df559fd842635485cb38647',
        'transformer/diffusion_pytorch_model.safetensors': 'cb54082a4b7f758bebfe177877d8770a2433f39645e39b3c135311ab2c72baf8',
        'weditor/directions.safetensors': '68559f8c30e7e75b9785aeea4f601c8dd41339b3da1e7bc180a53e48ccc488c4',
        'weditor/pairs/red.toml': '8ed79ca7e8557085dafb7175c9e94b46739c36311ec58f37ae8f08f8b1211b93',
        'weditor/readout.safetensors': '7066d3f4a403e750c419626ec81ba38b4c36c1789bc69d80e0dd2bba30b0a004',
        'weditor.json': 'bed6b150846c0b04e47602c66973c14d00a02d2ccaab99690d393c1aa700314c',
    },
    'shapes-red.toml safree': {
        'README.md': 'b3fd6e28c9f35d39df0b5eba70ca630a74a3d0dbb874837f4bd8d2391385dc10',
        'transformer/diffusion_pytorch_model.safetensors': '3bed2011591766b202b4eea41e2d468a1359876f50fdef7b85552fb0fa4fdb72',
        'weditor/directions.safetensors': 'c34bdb26a524a4187aa0c1b5c7babf81bf4cfa47d8f7bf30a10bd3becacfda58',
        'weditor/pairs/red.toml': '8ed79ca7e8557085dafb7175c9e94b46739c36311ec58f37ae8f08f8b1211b93',
        'weditor.json': '3ed9e172b189ac0fae5da28450ac4411f562eeee070715ef1f2c90a03f9d4d26',
    },
    'shapes-triangle.toml text': {
        'README.md': '37caf2209c2561eddab1329c58ba7be8317e5c419370a91d3e799ca1b9850b68',
        'transformer/diffusion_pytorch_model.safetensors': 'be01c2399b76736d29155e1e45a648a45fc2d3a6a9dfcd098cbbda2d42227fb1',
        'weditor/directions.safetensors': 'b0d48ddf4e251024390b0467f878bbe57f0257cb2c24a07c63ef2d267691a742',
        'weditor/pairs/triangle.toml': '6c91d6ea5eee5871608c4516c0ee8914841dee43c71322a582dac784627b9b07',
        'weditor/readout.safetensors': '549ffc726ae787e04557196cdf29fcf23e823a5195dd7d8e230a4d82a746aaf6',
        'weditor.json': '60f44b06c5330e06b80a5c18f2996405c1f4f1e7b71988abe6ceb653b8e4d888',
    },
    'shapes-triangle.toml uce': {
        'README.md': 'ad763e259b6260d01b629ef53ba3729ee7a6481893a36a169192b1f593e50895',
        'transformer/diffusion_pytorch_model.safetensors': 'd22a2affd73ebfb5f64aca73dfda71f0915ea10afd82365cf2f540c49afc9fbd',
        'weditor/directions.safetensors': '81dde9a9fe502a6881d2662ea69396966295046db86e52d46bc7eabbee9d3b83',
        'weditor/pairs/triangle.toml': '6c91d6ea5eee5871608c4516c0ee8914841dee43c71322a582dac784627b9b07',
        'weditor/readout.safetensors': 'f859e2d093a49b4b5f2675f72533bdf6f853b326b363ee2b9cec4ca263710c41',
        'weditor.json': 'd26ef94bd7ba0fc616638bc9e3018fa4fac4d602422e4c0d93d961884c5075fe',
    },
    'shapes-triangle.toml safree': {
        'README.md': '0bc67807e470b10892ced7256a04cd7d771ec63491bdca3c54a3b17f661a970c',
        'transformer/diffusion_pytorch_model.safetensors': '10012f50b6897026c7fd889c8efce2c1cf46732328e5c3136a8bed24110d34a3',
        'weditor/directions.safetensors': '0239ca2554ae231c7baff9698825c0a931e59a3d7c0dc347d3b71c13cca3adda',
        'weditor/pairs/triangle.toml': '6c91d6ea5eee5871608c4516c0ee8914841dee43c71322a582dac784627b9b07',
        'weditor.json': '10c9beab02bd23bcb95797c6bcd54a9db01b361049f13d0259b35bbf63bc4412',
    },
    'shapes-up.toml text': {
        'README.md': '359913c0e7cff1f782fad3218ff28206d029f2be462ba493e580ca8aac8e8958',
        'transformer/diffusion_pytorch_model.safetensors': 'e4fee95138cba115c65434a0611f43d9fe4ccd0b76ff27a2bb32181df5bac0bd',
        'weditor/directions.safetensors': '84cb714162ee62c58497a0f74ba58ff2a06205cad012a7d735dcc680bc3e66f9',
        'weditor/pairs/up.toml': 'fe8f671d8e8859c86fbd01b5a3878017a634867f8bba5d105b54d52109965276',
        'weditor/readout.safetensors': 'b1b4b30245ed2ebc99075a2ee6ca00d767509043a68561dc24e0250297de28dd',
        'weditor.json': '735a799004014857b34024fe33fa9dc3b49fce9e3be4b0deb36d6257eefb23e9',
    },
    'shapes-up.toml uce': {
        'README.md': 'ebd76146b6f6d9761e63b97d300757a968cf57ec613351a97fd9562cb7a3aaf5',
        'transformer/diffusion_pytorch_model.safetensors': 'cee0ae961bd707f8339bec7eb5a7dc52333dae6575e98d65f49824e338cc8412',
        'weditor/directions.safetensors': '9cdd56b1a62385857edb4a5ce51b2cbc6842f651b60e04080808a56707382a7e',
        'weditor/pairs/up.toml': 'fe8f671d8e8859c86fbd01b5a3878017a634867f8bba5d105b54d52109965276',
        'weditor/readout.safetensors': '65fd3a82eab2132a9018e8e2a2230b2c411da9b4e81d746ea22dbf7362680779',
        'weditor.json': '74f81123884c343db468044adcd4ac1e01014d430a97915b7724d47c95ff8e28',
    },
    'shapes-up.toml safree': {
        'README.md': '1f372e6b0df4668e1dc5abaaf147886e4f30a1182a7aca3e66a3d9f4d6d527fb',
        'transformer/diffusion_pytorch_model.safetensors': '90edb51273e9b478b1057383e412269efb9fd9edbc4a73c2a3f4edd481faf967',
        'weditor/directions.safetensors': 'ada39355eb4731cdd98853f0274c28d7447cffdb001747673214ea3c2463f177',
        'weditor/pairs/up.toml': 'fe8f671d8e8859c86fbd01b5a3878017a634867f8bba5d105b54d52109965276',
        'weditor.json': 'deb432fbb7575e4303a6b41bd9cb073320314af35fb2278646b55f7e7ec2e078',
    },
    'terrifying.toml text': {
        'error': "Error: pairs/terrifying.toml: pair 2: 'unsafe' and 'safe' become the same tokens for this model's tokenizer ('a zombie walking through a foggy cemetery, slow pan' / 'a caretaker walking through a foggy cemetery, slow pan'): the words that differ are unknown to it, so the pair carries no concept and the patch would do nothing; reword it",
    },
    'terrifying.toml uce': {
        'error': "Error: pairs/terrifying.toml: pair 2: 'unsafe' and 'safe' become the same tokens for this model's tokenizer ('a zombie walking through a foggy cemetery, slow pan' / 'a caretaker walking through a foggy cemetery, slow pan'): the words that differ are unknown to it, so the pair carries no concept and the patch would do nothing; reword it",
    },
    'terrifying.toml safree': {
        'error': "Error: pairs/terrifying.toml: pair 2: 'unsafe' and 'safe' become the same tokens for this model's tokenizer ('a zombie walking through a foggy cemetery, slow pan' / 'a caretaker walking through a foggy cemetery, slow pan'): the words that differ are unknown to it, so the pair carries no concept and the patch would do nothing; reword it",
    },
    'violence.toml text': {
        'error': "Error: pairs/violence.toml: pair 1: 'unsafe' and 'safe' become the same tokens for this model's tokenizer ('a man covered in blood walking down a hallway' / 'a man covered in dust walking down a hallway'): the words that differ are unknown to it, so the pair carries no concept and the patch would do nothing; reword it",
    },
    'violence.toml uce': {
        'error': "Error: pairs/violence.toml: pair 1: 'unsafe' and 'safe' become the same tokens for this model's tokenizer ('a man covered in blood walking down a hallway' / 'a man covered in dust walking down a hallway'): the words that differ are unknown to it, so the pair carries no concept and the patch would do nothing; reword it",
    },
    'violence.toml safree': {
        'error': "Error: pairs/violence.toml: pair 1: 'unsafe' and 'safe' become the same tokens for this model's tokenizer ('a man covered in blood walking down a hallway' / 'a man covered in dust walking down a hallway'): the words that differ are unknown to it, so the pair carries no concept and the patch would do nothing; reword it",
    },
}


@pytest.mark.parametrize("method", list(PAIR_METHODS))
@pytest.mark.parametrize("pairs", PAIR_FILES)
def test_every_pair_file_per_method(pairs, method, tmp_path):
    out = tmp_path / "out"
    result = run_cli(["patch", "--pairs", PAIRS / pairs, "--out", out, "--no-tune", "--no-summary",
                      *PAIR_METHODS[method]])
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
    'paper-site': {
        'transformer/diffusion_pytorch_model-00008-of-00014.safetensors': '569eb3222562ed39576828f8d6dad8843cd452e9258d0f1461e1ccdcec21fac5',
        'transformer/diffusion_pytorch_model-00011-of-00014.safetensors': '441c3877b21e23f87374684d9fd12fb0c0ee4dbc28d70b145d3e6d5d02cae48c',
        'transformer/diffusion_pytorch_model-00014-of-00014.safetensors': 'ab7b70785620cdf500ca1233e1d1349af98e5d63f8800d0868b80c74e497ea74',
        'transformer_2/diffusion_pytorch_model-00008-of-00014.safetensors': '79e94673afc174f323591a4adf79512d9082f367721beef7dfd5407ed1dde0d0',
        'transformer_2/diffusion_pytorch_model-00011-of-00014.safetensors': '0ba7e161618e164ece8cc748cfd6848e00ed5d4dd2b7b47360ce9f6bc260103d',
        'transformer_2/diffusion_pytorch_model-00014-of-00014.safetensors': 'ed2176ebe1a84a054a60c8b77369d4676b283029c40e2a47048987604b94c3cd',
        'weditor/directions.safetensors': '97b12e7bfc942393ca31dfbea5032679e09eeeb18fd4bcddc50b8e543f8c1ad7',
    },
    'refusal': {
        'transformer/diffusion_pytorch_model-00004-of-00014.safetensors': '74484beb0884ee1f9ff971d702407076dbad9c6a98ec603d1570b89bdd2427bd',
        'transformer/diffusion_pytorch_model-00007-of-00014.safetensors': 'ce6f15dc2ca9bf079a6c9c89f2e28e8e720ecad356ca279ac6518812bc3c5356',
        'transformer/diffusion_pytorch_model-00010-of-00014.safetensors': 'c1403f2933ad244d66b80ab5a980b0a0e7c5e6bde3806b91047b371e0fd0c329',
        'transformer/diffusion_pytorch_model-00013-of-00014.safetensors': '5ef84889488efd51e578c6802ad8d106826e7365a582dbab82eb956801d66982',
        'transformer_2/diffusion_pytorch_model-00004-of-00014.safetensors': '6e68a02f49fc58d98296c6dd62537f4f9fe64f1cc56097bfe5a96d107233e3e0',
        'transformer_2/diffusion_pytorch_model-00007-of-00014.safetensors': 'e0dd0f093c53233bcb3daff35ad3c4603af47098a0da272576ac8a54fb171552',
        'transformer_2/diffusion_pytorch_model-00010-of-00014.safetensors': 'dd1c489dfb0fd37cf535639f2145d84eb41b175d4813a15cecfa5621a5df251d',
        'transformer_2/diffusion_pytorch_model-00013-of-00014.safetensors': '52f14050bf51aa6f1495d44f69c978e3b365ed81a9b196beb29357b5e21b5620',
        'weditor/directions.safetensors': 'bab75263f1b21f705073c290dc2c715b4270da2ed3d287c141a7588ecb12af0d',
        'weditor/readout.safetensors': 'a06baabc73890dc1d503af9314da9cbac5ab66e05ae76ed1d9d1ca70ed1c476e',
    },
    'text': {
        'transformer/diffusion_pytorch_model-00002-of-00014.safetensors': '53f8dfe339f8cc84d181d8d9584ad29b8d6587ac6055e11614da44017d8d0337',
        'transformer_2/diffusion_pytorch_model-00002-of-00014.safetensors': '442ad05329f9d8e582dd2a5cac4bc600eaf9bba2dabaa2ad349d7f2dee08cff5',
        'weditor/directions.safetensors': '453d59a80c2909fb9a978e4f93f83d007b62029d909244e0e61d89773f0632bf',
        'weditor/readout.safetensors': '9698a911407a2b676e14c60c8999f7721c4a8abf9df9687f8c57bf47d9e71341',
    },
    'uce': {
        'transformer/diffusion_pytorch_model-00004-of-00014.safetensors': '8b5cf0079d1aead1ae41f7915744bf6b13b0f662db2f517f8ef3335e541aa3e1',
        'transformer/diffusion_pytorch_model-00007-of-00014.safetensors': 'bd0bc80f0d5ac4b1c451ac70e5320f01d0e3d1b470d32445afa0bbd58ea8e96b',
        'transformer/diffusion_pytorch_model-00010-of-00014.safetensors': 'a3ff0590071f5fc50b6acd787b24654eea05b82520dd1084274024cbb1c998f2',
        'transformer/diffusion_pytorch_model-00013-of-00014.safetensors': '1837c2688aa01e0587c7f0053ade3d3377980606c4e66c926e49b5eaf657ae4a',
        'transformer_2/diffusion_pytorch_model-00004-of-00014.safetensors': '93bab2f30c486f247f09c7858b2b39181a0957d84c415e0ee36a68e81bcd6a0b',
        'transformer_2/diffusion_pytorch_model-00007-of-00014.safetensors': 'd4234c23af7e3fb1f2af7cde6a4634eb262e1d5264d7cef0c83407a53790ceb5',
        'transformer_2/diffusion_pytorch_model-00010-of-00014.safetensors': '465e296a5bd73bd01154ad5f7f6e130df6df30d48bd6e970149d5c370a289104',
        'transformer_2/diffusion_pytorch_model-00013-of-00014.safetensors': '32b2864c91a60b34a2052706a000ecfdf752fbd910deafa777ec07d4cc92773d',
        'weditor/directions.safetensors': 'e8099afa36c879ea00e4a9dd60f858a427339643fba2352912459342e2a3f23e',
        'weditor/readout.safetensors': '54ed011dd7537e9dabea5bc2bde2a3ae32f0fd8a1636e81f3bdcd06cb741ce3f',
    },
    'safree': {
        'transformer/diffusion_pytorch_model-00002-of-00014.safetensors': '7488b747f00265132ba08ce4ee7b54f57738662a3a156e43f00138f8f7e3eae6',
        'transformer_2/diffusion_pytorch_model-00002-of-00014.safetensors': '823542e5eadf89d677e99b7398eb1770d45053b3df6c2fa5b3ed4b1a2f15dc5c',
        'weditor/directions.safetensors': 'c4e6fe28b2d1d2217f58f120127bd8799807c0fbb4bc1cc77f59bb4e73912782',
    },
    'refusal+reins': {
        'transformer/diffusion_pytorch_model-00004-of-00014.safetensors': '74484beb0884ee1f9ff971d702407076dbad9c6a98ec603d1570b89bdd2427bd',
        'transformer/diffusion_pytorch_model-00007-of-00014.safetensors': 'ce6f15dc2ca9bf079a6c9c89f2e28e8e720ecad356ca279ac6518812bc3c5356',
        'transformer/diffusion_pytorch_model-00010-of-00014.safetensors': '1a55e440e3090afdd90ee04f01909183ec556b18043ee2642194bc3177258a40',
        'transformer/diffusion_pytorch_model-00013-of-00014.safetensors': '5ef84889488efd51e578c6802ad8d106826e7365a582dbab82eb956801d66982',
        'transformer_2/diffusion_pytorch_model-00004-of-00014.safetensors': '6e68a02f49fc58d98296c6dd62537f4f9fe64f1cc56097bfe5a96d107233e3e0',
        'transformer_2/diffusion_pytorch_model-00007-of-00014.safetensors': 'e0dd0f093c53233bcb3daff35ad3c4603af47098a0da272576ac8a54fb171552',
        'transformer_2/diffusion_pytorch_model-00010-of-00014.safetensors': '6cab5631e918e96bc69a2c4f78371fab1aeffffc801105f03451d314a1bae87b',
        'transformer_2/diffusion_pytorch_model-00013-of-00014.safetensors': '52f14050bf51aa6f1495d44f69c978e3b365ed81a9b196beb29357b5e21b5620',
        'weditor/directions.safetensors': 'bab75263f1b21f705073c290dc2c715b4270da2ed3d287c141a7588ecb12af0d',
        'weditor/readout.safetensors': 'a06baabc73890dc1d503af9314da9cbac5ab66e05ae76ed1d9d1ca70ed1c476e',
        'weditor/reins.safetensors': 'd5730e441f6e500557bf2b3741e00ab9f0da32076bc5c704472c04297e32c547',
    },
}


@pytest.mark.parametrize("name", list(TINY_METHODS))
def test_tiny_wan_per_method(name, tiny_wan, tmp_path):
    out = tmp_path / "out"
    result = run_cli(["patch", tiny_wan, "--pairs", TINY_PAIRS, "--out", out, "--size", TINY_SIZE, "--no-tune",
                      *TINY_METHODS[name]])
    assert result.exit_code == 0, result.output
    check(name, written(out, tiny_wan, only_tensors=True), GOLDEN_TINY.get(name))
