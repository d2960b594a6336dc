"""Default hyper-parameters, in one import-light place.

Chosen on the shapes benchmark: see docs/benchmarks.md, "Choosing the defaults".
"""

BUILTIN_MODEL = "weditor:shapes"  # the embedded shapes model
LAYERS = "0.0-1.0"  # every block: each one's cross-attention re-reads the prompt
RANK = 100  # edit "projection" (the read-out edit uses the plain mean difference unless --rank is given)
ALPHA = 4.0  # relative to the trace ratio (docs/method.md)
STRENGTH = 0.85  # edit "projection"; erasure first: 0.8 keeps neighbouring colours better but lets red through
SAFREE_STRENGTH = 1.0  # --method safree: the projection itself (SAFREE's own)
STEPS = 4  # collection (--steps)
# the self-check's and the summary's trajectories: they share the original model's runs (issue 22); the early,
# layout-deciding steps carry most of the gap
MEASURE_STEPS = 3
NEUTRAL = (
    "raw"  # neutral covariance: "raw" (the paper's) or "prompt" (centred across prompts sharing noise); equal on shapes
)
NEUTRAL_BATCH = 4  # neutral prompts per batch in "prompt" mode: memory of one small batch, not of all prompts
METHODS = (
    "text",
    "refusal",
    "reins",
    "safree",
    "uce",
    "encoder",
    "units",
)  # `patch --method`; `--reins` adds the REINS fold to refusal
METHOD = "text"  # text-to-video pairs: the read-out on the prompt embeddings kept other colours best (99.6%)
IMAGE_METHOD = "refusal"  # pairs with images: the concept may be in the image, which only the video tokens see
REINS_LAYER = "0.5"  # one block at ~50% depth (REINS: steering works best mid-depth)
REINS_STRENGTH = 0.5  # alpha / mean token norm at that block; the smallest that erased on shapes (docs/reins.md)
SAFREE_POOL = "mean"  # keyword vectors for `--method safree`: "mean" over real tokens, or "tokens"
DTYPE_NAMES = ("float32", "float16", "bfloat16")
EDITS = ("readout", "projection")  # `patch --edit`: how much is removed along the refusal directions
EDIT = "readout"  # a fitted read-out (weditor/maths/readout.py); "projection" is the paper's orthogonal projection
REMOVAL = 0.6  # edit "readout": share of each concept's mean paired difference removed on its pairs
READOUT_STRENGTH = 1.0  # edit "readout": the read-out is removed as fitted
# Largest accepted collection / eval size (height, width, frames). Not a model's limit but a typo's: at
# 4096x4096x1024, a Wan-style latent (8x spatial, 4x temporal compression, 2x2 patches) is already
# 256*256*257 = 16.8M tokens, about 100 GB per float32 activation of width 1536.
MAX_SIZE = (4096, 4096, 1024)
# Largest seed: torch seeds are 64-bit unsigned, and runs add offsets (one per prompt, +10000 for the
# summary), which must not overflow; 2**63 - 1 leaves 2**63 of room.
MAX_SEED = 2**63 - 1
UCE_TOKENS = (
    "all"  # --method uce: map every aligned token of an unsafe prompt ("changed": only the substituted/deleted ones)
)
UCE_SUBSTITUTE = (
    "common"  # --method uce: the concept's most frequent substitute for every pair ("pair": each pair's own twin)
)
UCE_PRESERVE = 1.0  # --method uce: weight of the kept tokens (safe members, neutral prompts) against the erased ones
UCE_LAMBDA = 0.1  # --method uce: ridge towards the original weights, relative to the kept tokens' mean squared norm / d
UCE_ROUNDS = 0  # --method uce: RECE rounds (re-erase the embeddings the edit still reads as the concept)
ENCODER_PRESERVE = 20.0  # --method encoder: weight of the kept tokens (safe members, neutral prompts) in the FFN fit
ENCODER_LAMBDA = (
    0.001  # --method encoder: ridge towards the original wo, relative to the kept hidden units' mean square
)
ENCODER_LAYERS = 1  # --method encoder: how many of the text encoder's last feed-forward layers are edited
ENCODER_WEIGHTS = "wo"  # --method encoder: "wo" (closed form on the FFN output) or "block" (the last block, fitted)
ENCODER_WEIGHTS_CHOICES = ("wo", "block")
# --twins: the pairs every method fits, as written, or each twin the unsafe prompt with the changed word dropped
# (weditor/io/twins.py: what the search chooses for twins that substitute many different words)
TWINS = ("pair", "deleted")
# --encoder-weights block's own defaults (used where --encoder-preserve / --encoder-lambda keep wo's): on the quick
# fine set both development conjunctions were erased with every part kept at 10 / 0.1 (docs/benchmarks.md, "The block fit")
BLOCK_PRESERVE = 10.0
BLOCK_LAMBDA = 0.1
# --method units (weditor/methods/encoder_units.py): hidden units of the text encoder's last gated FFN refitted; the
# weight of the kept tokens' outputs against the mapped tokens' distance to their twins (30: docs/benchmarks.md,
# "Repurposed units"); the weight of the refitted units' gate activation on the kept tokens
UNITS = 4
UNITS_PRESERVE = 30.0
UNITS_SILENCE = 1.0
