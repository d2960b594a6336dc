"""Default hyper-parameters, in one import-light place.

Chosen on the shapes benchmark: see docs/benchmarks.md, "Choosing the defaults".
"""

BUILTIN_MODEL = "weditor:shapes"  # the embedded shapes model
LAYERS = "0.5-1.0"
RANK = 100
ALPHA = 1.0
STRENGTH = 1.0
STEPS = 4
SAFREE_POOL = "mean"  # keyword vectors for `--method safree`: "mean" over real tokens, or "tokens"
DTYPE_NAMES = ("float32", "float16", "bfloat16")
