"""CPU and RSS of the preflight NaN/Inf scan: on the loaded pipeline (what `weditor patch` does) or
streamed from the files, shard by shard, 16 MiB at a time (the alternative issue 22 asked about).

    python scripts/bench_preflight_scan.py BASE_FOLDER loaded
    python scripts/bench_preflight_scan.py BASE_FOLDER files

Run each in a fresh process, one torch thread; BASE_FOLDER a diffusers folder of safetensors
(e.g. the one scripts/bench_patch.py builds). Prints one JSON line (docs/benchmarks.md, "Issue 22,
third pass").
"""

from __future__ import annotations

import json
import struct
import sys
import time
from pathlib import Path

import torch

DTYPES = {"BF16": torch.bfloat16, "F16": torch.float16, "F32": torch.float32, "F64": torch.float64}
CHUNK = 16 << 20


def rss_mib() -> int:
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS"):
            return int(line.split()[1]) // 1024
    return 0


def scan_files(base: Path) -> int:
    """Every floating-point tensor of every safetensors file, read in chunks; returns the bytes scanned."""
    from weditor.maths.finite import all_finite

    buf, scanned = bytearray(CHUNK), 0
    for path in sorted(base.rglob("*.safetensors")):
        with open(path, "rb", buffering=0) as fh:
            (n,) = struct.unpack("<Q", fh.read(8))
            header = json.loads(fh.read(n))
            entries = sorted(
                ((k, v) for k, v in header.items() if k != "__metadata__" and v["dtype"] in DTYPES),
                key=lambda kv: kv[1]["data_offsets"][0],
            )
            for name, meta in entries:
                dtype = DTYPES[meta["dtype"]]
                size = torch.tensor([], dtype=dtype).element_size()
                start, end = meta["data_offsets"]
                fh.seek(8 + n + start)
                left = end - start
                while left > 0:
                    k = min(left, CHUNK - CHUNK % size)
                    view = memoryview(buf)[:k]
                    fh.readinto(view)
                    if not all_finite(torch.frombuffer(view, dtype=dtype)):
                        raise SystemExit(f"{path.name}: {name} holds NaN/Inf")
                    left -= k
                    scanned += k
    return scanned


def main():
    base, mode = Path(sys.argv[1]), sys.argv[2]
    torch.set_num_threads(1)
    if mode == "files":
        before, c0 = rss_mib(), time.process_time()
        scanned = scan_files(base)
        out = {"bytes": scanned}
    else:
        from diffusers import DiffusionPipeline

        from weditor.models.preflight import check_weights_finite

        pipe = DiffusionPipeline.from_pretrained(base, torch_dtype=torch.bfloat16)
        modules = [n for n, m in pipe.components.items() if isinstance(m, torch.nn.Module)]
        before, c0 = rss_mib(), time.process_time()
        check_weights_finite(pipe, modules)
        out = {"modules": modules}
    cpu = time.process_time() - c0
    print(
        json.dumps({"mode": mode, "cpu_s": round(cpu, 2), "rss_before_mib": before, "rss_after_mib": rss_mib(), **out})
    )


if __name__ == "__main__":
    main()
