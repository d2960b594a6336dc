"""Default hyper-parameters, in one import-light place.

Chosen on the shapes benchmark: see docs/benchmarks.md, "Choosing the defaults".
"""

BUILTIN_MODEL = "weditor:shapes"  # the embedded shapes model
LAYERS = "0.5-1.0"
RANK = 100
ALPHA = 1.0
STRENGTH = 1.0
STEPS = 4
METHODS = ("refusal", "reins", "safree")  # `patch --method`; `--reins` adds the REINS fold to either
REINS_LAYER = "0.5"  # one block at ~50% depth (REINS: steering works best mid-depth)
REINS_STRENGTH = 0.5  # alpha / mean token norm at that block; provisional, see docs/reins.md
SAFREE_POOL = "mean"  # keyword vectors for `--method safree`: "mean" over real tokens, or "tokens"
DTYPE_NAMES = ("float32", "float16", "bfloat16")
