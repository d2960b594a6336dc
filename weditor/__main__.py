"""`python -m weditor ...`, and `torchrun --nproc-per-node=N -m weditor patch ...` (weditor/models/distributed.py).

Under torchrun every rank joins the process group first; ranks other than 0 print nothing
(their errors still reach stderr), so the command's output is rank 0's.
"""

import os
import sys


def run():
    if int(os.environ.get("WORLD_SIZE", "1")) > 1:
        from weditor.models import distributed

        distributed.init_from_env("cuda" if any("cuda" in a for a in sys.argv[1:]) else "cpu")
        if distributed.rank() != 0:
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - for the life of the process
        try:
            from weditor.cli import main

            main(standalone_mode=True)
        finally:
            distributed.close()
    else:
        from weditor.cli import main

        main()


if __name__ == "__main__":
    run()
