"""`python -m weditor ...`, and `torchrun --nproc-per-node=N -m weditor patch ...` (weditor/models/distributed.py).

Under torchrun every rank joins the process group first; ranks other than 0 print nothing
(their errors still reach stderr), so the command's output is rank 0's. Each rank leaves the process group and then
the process with `os._exit`, its streams flushed, without the interpreter's teardown: once in four CI runs a rank
that had left the group died at exit with SIGABRT ("terminate called without an active exception", a gloo thread
destroyed with the interpreter), after rank 0 had written and verified the patch. Everything the command opens is
closed before that (its `with` blocks have unwound).
"""

import os
import sys


def run():
    if int(os.environ.get("WORLD_SIZE", "1")) > 1:
        from weditor.models import distributed

        distributed.init_from_env("cuda" if any("cuda" in a for a in sys.argv[1:]) else "cpu")
        if distributed.rank() != 0:
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - for the life of the process
        import traceback

        code = 1
        try:
            from weditor.cli import main

            main(standalone_mode=True)
            code = 0
        except SystemExit as e:
            code = _exit_code(e.code)
        except BaseException:  # noqa: BLE001 - the traceback Python would print, then the exit without teardown
            traceback.print_exc()
        finally:
            try:  # leaving the group or flushing may fail (a peer gone, a closed pipe): the exit still skips teardown
                distributed.close()
                for stream in (sys.stdout, sys.stderr):
                    stream.flush()
            except BaseException:  # noqa: BLE001
                traceback.print_exc()
                code = code or 1
            finally:
                os._exit(code)
    else:
        from weditor.cli import main

        main()


def _exit_code(code) -> int:
    """What `sys.exit(code)` would make the process return (a message is printed to stderr, as Python does)."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    print(code, file=sys.stderr)
    return 1


if __name__ == "__main__":
    run()
