"""Pair files: the only thing a user writes to describe a concept.

A pair is two prompts that differ *only* by the concept ("a nude woman on a beach" /
"a woman on a beach"). The refusal edit is computed from per-token activation differences
between the two members under the same noise, so anything else that differs between them
leaks into the direction; strict validation here is cheaper than a silently bad patch.

    concept = "nudity"
    description = "..."
    keywords = ["nude", "naked"]        # optional; SAFREE, and the encoder block fit (those no pair holds: synonyms)
    neutral = ["...", ...]              # prompts without the concept (>= 1)
    eval = ["...", ...]                 # optional held-out prompts that name the concept
    eval_synonyms = ["...", ...]        # optional held-out paraphrases
    [[pair]]
    unsafe = "..."
    safe = "..."
    image = "img.png"                   # optional, image-to-video: inside the pair file's folder
    video = "clip.gif"                  # optional, video-to-video: an animated GIF/PNG/WebP, same folder
"""

from __future__ import annotations

import hashlib
import os
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import tomllib

from weditor.errors import WeditorError
from weditor.io.input_files import not_a_file, read_small_file
from weditor.io.links import inside
from weditor.io.pair_videos import check_video

MIN_PAIRS = 5
TOP_KEYS = {"concept", "description", "keywords", "neutral", "eval", "eval_synonyms", "pair"}
PAIR_KEYS = {"unsafe", "safe", "image", "unsafe_image", "safe_image", "video"}
CONCEPT_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
# The concept names `weditor/pairs/<concept>.toml` in every output and a tag on its model card: a label,
# checked here rather than when the file is written, after the whole collection and fit.
MAX_CONCEPT = 64
# Names Windows cannot create as files (with any extension): an output is cloned there too.
RESERVED_NAMES = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)), *(f"lpt{i}" for i in range(1, 10))}
MAX_PAIR_FILE_BYTES = 16 << 20  # a pair file is prompts: kilobytes
# A conditioning image is one frame, resized to the collection size: a larger file or picture is refused
# before it is decoded (PIL's own bomb check only warns below 2x its limit).
MAX_IMAGE_BYTES = 64 << 20
MAX_IMAGE_PIXELS = 64_000_000
# Refused in every string of a pair file: C0/C1 control characters (NUL included) other than tab, line
# feed and carriage return, which are whitespace like any other (every run of whitespace becomes one
# space), and the Unicode bidirectional controls, which make a prompt display differently from what it
# is (in the model card, a terminal, a review). Other characters, emoji and joiners included, are kept.
REFUSED_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


@dataclass(frozen=True)
class Pair:
    unsafe: str
    safe: str
    unsafe_image: Path | None = None
    safe_image: Path | None = None
    video: Path | None = None  # a conditioning video, shared by both members (weditor/io/pair_videos.py)

    @property
    def conditioning(self) -> tuple[Path | None, Path | None]:
        """What each member is conditioned on besides its prompt: its image, or the pair's video."""
        return (self.unsafe_image or self.video, self.safe_image or self.video)


@dataclass(frozen=True)
class PairSet:
    concept: str
    description: str
    pairs: tuple[Pair, ...]
    neutral: tuple[str, ...]
    eval: tuple[str, ...] = ()
    eval_synonyms: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    path: Path | None = None
    sha256: str = ""
    raw: bytes = field(default=b"", repr=False)

    @property
    def has_images(self) -> bool:
        return any(p.unsafe_image is not None for p in self.pairs)

    @property
    def has_videos(self) -> bool:
        return any(p.video is not None for p in self.pairs)


def _text(value, where: str) -> str:
    if not isinstance(value, str):
        raise WeditorError(f"{where}: expected a string, got {type(value).__name__} {value!r}")
    if m := REFUSED_CHARACTERS.search(value):
        ch = m.group()
        raise WeditorError(
            f"{where}: character {m.start() + 1} is the control character U+{ord(ch):04X} "
            f"({unicodedata.name(ch, 'a C0/C1 control')}); pair files take printable text only"
        )
    text = " ".join(value.split())
    if not text:
        raise WeditorError(f"{where}: is empty")
    return text


def _texts(value, where: str, required: bool) -> tuple[str, ...]:
    if value is None:
        if required:
            raise WeditorError(f"{where}: missing (a list of prompts)")
        return ()
    if not isinstance(value, list):
        raise WeditorError(f"{where}: expected a list of strings, got {type(value).__name__}")
    items = tuple(_text(v, f"{where}[{i}]") for i, v in enumerate(value))
    if required and not items:
        raise WeditorError(f"{where}: is empty")
    return items


def _confined(value, where: str, base: Path, root: Path | None, what: str) -> Path:
    """The path `value` names, relative to `base`, which must resolve inside `root` (default: `base` itself).

    A pair file is often someone else's (downloaded, cloned, a recipe): a path that climbs out of
    its folder (`../../.ssh/id_rsa`, `/etc/shadow`) or a symbolic link that leads out of it would
    make weditor read, decode and feed to a model a file the pair file's author never had. So the
    resolved path (every link followed) must lie inside the pair file's own folder, as it must inside
    a recipe's folder for the pair files a recipe names.
    """
    path = base / _text(value, where)
    confined = root if root is not None else base
    if not inside(path, [os.path.realpath(confined)]):
        how = f"a symbolic link to {os.path.realpath(path)}, " if os.path.islink(path) else ""
        if root is not None:
            raise WeditorError(
                f"{where}: {what} {path} is {how}outside {root}; files a recipe names are read only from its own folder"
            )
        raise WeditorError(
            f"{where}: {what} {path} is {how}outside the pair file's folder {base}; {what}s are read only "
            f"from the pair file's own folder (copy the {what} there)"
        )
    return path


def _video(value, where: str, base: Path, root: Path | None = None) -> Path | None:
    if value is None:
        return None
    path = _confined(value, where, base, root, "video")
    problem = not_a_file(path)
    if problem is not None:
        raise WeditorError(f"{where}: video file {path} {problem}")
    check_video(path, where)
    return path


def _image(value, where: str, base: Path, root: Path | None = None) -> Path | None:
    """The image file `value` names, confined like every file a pair file names; its size capped before decoding."""
    if value is None:
        return None
    path = _confined(value, where, base, root, "image")
    problem = not_a_file(path)
    if problem is not None:
        raise WeditorError(f"{where}: image file {path} {problem}")
    size = os.path.getsize(path)
    if size > MAX_IMAGE_BYTES:
        raise WeditorError(
            f"{where}: image file {path} is {size / (1 << 20):.0f} MiB; at most "
            f"{MAX_IMAGE_BYTES >> 20} MiB (a conditioning frame is resized to the video size anyway)"
        )
    try:
        from PIL import Image

        with Image.open(path) as im:
            if im.width * im.height > MAX_IMAGE_PIXELS:
                raise ValueError(f"{im.width}x{im.height} pixels, more than {MAX_IMAGE_PIXELS:,}")
            im.verify()
    except Exception as e:  # any decoder failure means the same thing to the user
        raise WeditorError(f"{where}: image file {path} is not a readable image ({e})") from None
    return path


def parse_pairs(raw: bytes, path: Path, root: Path | None = None) -> PairSet:
    """The pair set in `raw` (the bytes of `path`); with `root`, image paths must stay inside it."""
    name = str(path)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise WeditorError(f"{name}: not UTF-8 text (byte {e.start})") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise WeditorError(f"{name}: not valid TOML ({e})") from None
    except RecursionError:  # tomllib recurses once per nested array or inline table
        raise WeditorError(f"{name}: not valid TOML here (arrays or tables nested too deeply)") from None

    unknown = sorted(set(data) - TOP_KEYS)
    if unknown:
        raise WeditorError(f"{name}: unknown key {unknown[0]!r} (allowed: {', '.join(sorted(TOP_KEYS))})")
    if "concept" not in data:
        raise WeditorError(f"{name}: missing field 'concept'")
    concept = _text(data["concept"], f"{name}: concept")
    if not CONCEPT_RE.match(concept):
        raise WeditorError(f"{name}: concept {concept!r} must be lowercase letters, digits, '-' or '_'")
    if len(concept) > MAX_CONCEPT:
        raise WeditorError(
            f"{name}: concept is {len(concept)} characters long; at most {MAX_CONCEPT} (it names "
            f"weditor/pairs/<concept>.toml in the output, and a tag of its model card)"
        )
    if concept in RESERVED_NAMES:
        raise WeditorError(
            f"{name}: concept {concept!r} is a reserved device name on Windows, where the output's "
            f"weditor/pairs/{concept}.toml could not be created; choose another name"
        )
    description = _text(data.get("description", concept), f"{name}: description")

    entries = data.get("pair")
    if entries is None:
        raise WeditorError(f"{name}: no [[pair]] entries (need at least {MIN_PAIRS})")
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise WeditorError(f"{name}: 'pair' must be an array of tables ([[pair]])")
    if len(entries) < MIN_PAIRS:
        raise WeditorError(f"{name}: {len(entries)} pairs, need at least {MIN_PAIRS}")

    base = path.parent
    pairs, seen = [], {}
    for i, entry in enumerate(entries, 1):
        where = f"{name}: pair {i}"
        unknown = sorted(set(entry) - PAIR_KEYS)
        if unknown:
            raise WeditorError(f"{where}: unknown key {unknown[0]!r} (allowed: {', '.join(sorted(PAIR_KEYS))})")
        for key in ("unsafe", "safe"):
            if key not in entry:
                raise WeditorError(f"{where}: missing field {key!r}")
        unsafe = _text(entry["unsafe"], f"{where}: unsafe")
        safe = _text(entry["safe"], f"{where}: safe")
        if unsafe == safe:
            raise WeditorError(f"{where}: 'unsafe' and 'safe' are identical ({unsafe!r})")
        if (unsafe, safe) in seen:
            raise WeditorError(f"{where}: duplicate of pair {seen[(unsafe, safe)]} ({unsafe!r})")
        seen[(unsafe, safe)] = i
        shared = _image(entry.get("image"), f"{where}: image", base, root)
        unsafe_image = _image(entry.get("unsafe_image"), f"{where}: unsafe_image", base, root) or shared
        safe_image = _image(entry.get("safe_image"), f"{where}: safe_image", base, root) or shared
        if (unsafe_image is None) != (safe_image is None):
            raise WeditorError(f"{where}: an image is given for one member only")
        video = _video(entry.get("video"), f"{where}: video", base, root)
        if video is not None and unsafe_image is not None:
            raise WeditorError(
                f"{where}: carries an image and a video; a model takes one or the other "
                "(image-to-video or video-to-video)"
            )
        pairs.append(Pair(unsafe, safe, unsafe_image, safe_image, video))
    if len({p.unsafe_image is None for p in pairs}) > 1:
        raise WeditorError(f"{name}: some pairs have images and some do not; give every pair an image or none")
    if len({p.video is None for p in pairs}) > 1:
        raise WeditorError(f"{name}: some pairs have videos and some do not; give every pair a video or none")

    return PairSet(
        concept=concept,
        description=description,
        pairs=tuple(pairs),
        neutral=_texts(data.get("neutral"), f"{name}: neutral", required=True),
        eval=_texts(data.get("eval"), f"{name}: eval", required=False),
        eval_synonyms=_texts(data.get("eval_synonyms"), f"{name}: eval_synonyms", required=False),
        keywords=_texts(data.get("keywords"), f"{name}: keywords", required=False),
        path=path,
        sha256=hashlib.sha256(raw).hexdigest(),
        raw=raw,
    )


def load_pairs(path: str | Path, root: Path | None = None) -> PairSet:
    path = Path(path)
    return parse_pairs(read_small_file(path, "pair file", MAX_PAIR_FILE_BYTES), path, root)


def load_pairsets(paths) -> list[PairSet]:
    """Several pair files for one patch or eval; one concept may appear only once."""
    pairsets = [load_pairs(p) for p in paths]
    concepts = [ps.concept for ps in pairsets]
    if len(set(concepts)) != len(concepts):
        raise WeditorError(f"--pairs: concept {concepts[0]!r} given twice")
    return pairsets


def neutral_prompts(pairsets: list[PairSet]) -> list[str]:
    """The neutral prompts of all pair files, once each, minus any that name a concept being erased.

    One file's neutral prompts may name another file's concept (the red pairs keep blue
    prompts as neutral): erasing both at once, such a prompt would count that concept as
    variation to preserve. A prompt "names" a concept when it holds one of its unsafe
    prompts or keywords as whole words.
    """
    words = [w for ps in pairsets for w in (*ps.keywords, *(p.unsafe for p in ps.pairs))]
    pattern = (
        re.compile("|".join(rf"\b{re.escape(w.lower())}\b" for w in words)) if len(pairsets) > 1 and words else None
    )
    prompts = dict.fromkeys(p for ps in pairsets for p in ps.neutral)
    return [p for p in prompts if pattern is None or not pattern.search(p.lower())]
