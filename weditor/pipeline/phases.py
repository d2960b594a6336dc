"""Wall time (and CUDA peak memory) per phase of a patch: `PatchResult.timings`, read by scripts/bench_patch.py."""

from __future__ import annotations

import time
from contextlib import contextmanager

import torch

from weditor.pipeline import status


class Phases:
    """Wall time per phase of `run_patch`, always on (a few perf_counter calls per run).

    On CUDA each phase ends with a synchronize, so queued kernels are counted where they ran.
    """

    def __init__(self, device: str = "cpu"):
        self.seconds: dict[str, float] = {}
        self.peak_gpu_bytes: dict[str, int] = {}
        self.cuda = str(device).startswith("cuda") and torch.cuda.is_available()
        self.device = device

    def add(self, name: str, seconds: float):
        self.seconds[name] = self.seconds.get(name, 0.0) + seconds

    @contextmanager
    def __call__(self, name: str):
        t0 = time.perf_counter()
        status.show(name)  # a line on the terminal while a phase without a bar runs (weditor/pipeline/status.py)
        try:
            yield
        finally:
            status.clear()
            if self.cuda:
                torch.cuda.synchronize(self.device)
                self.peak_gpu_bytes[name] = int(torch.cuda.max_memory_allocated(self.device))
            self.add(name, time.perf_counter() - t0)
