"""CPU time of one denoiser forward of the shapes model against its batch size (issue 22).

What the measurement passes pay per forward: a fixed cost (time embedding, rotary tables, module calls) and a cost
per prompt; their sum decides whether batching more prompts, or fewer steps, is what saves time.

    OMP_NUM_THREADS=1 python scripts/bench_shapes_forward.py [--batches 1 2 4 8 16 24 32 48] [--threads 1]
"""

from __future__ import annotations

import argparse
import time


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--batches", type=int, nargs="+", default=[1, 2, 4, 6, 8, 12, 16, 20, 24, 32, 48, 72])
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()

    import torch

    from weditor.shapes import load_pipeline

    torch.set_num_threads(a.threads)
    pipe = load_pipeline()
    model = pipe.transformer
    with torch.no_grad():
        emb = pipe.encode_prompt(
            ["a red circle moving left"], do_classifier_free_guidance=False, max_sequence_length=16
        )[0]
        for b in a.batches:
            x = torch.randn(b, model.config.in_channels, 3, 8, 8)
            e, t = emb.expand(b, -1, -1).contiguous(), torch.full((b,), 500.0)
            model(hidden_states=x, timestep=t, encoder_hidden_states=e, return_dict=False)  # warm
            n = max(3, 200 // b)
            c0 = time.process_time()
            for _ in range(n):
                model(hidden_states=x, timestep=t, encoder_hidden_states=e, return_dict=False)
            cpu = (time.process_time() - c0) / n
            print(f"batch {b:3d}: {1000 * cpu:7.2f} ms CPU per forward, {1000 * cpu / b:6.3f} ms per prompt")


if __name__ == "__main__":
    main()
