"""``python -m generator`` and the ``litsynth`` command: :func:`run`.

The process leaves without the interpreter's final teardown, which frees every object
one by one: 0.26 s after a 50-question build (of a generator budget of about 6.5 s, the
time of ``mkdocs build`` itself; issue 7, measured against the same build ending in
``sys.exit``). The exit is registered with ``atexit`` before anything else is imported,
so it runs after every handler registered later — logging's flush, multiprocessing's
clean-up, weakref finalizers — the technique Instagram described in "Dismissing Python
Garbage Collection at Instagram" (2017). Only a process started here exits this way;
:func:`generator.cli.main` called from Python (the tests) returns as usual.
"""

import atexit
import os
import sys

_exit_code = 1  # what an uncaught exception leaves: Python's own status for it


def _leave() -> None:
    # Python flushes the standard streams after the atexit handlers; os._exit would not.
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe or stream: nothing left to say
            pass
    os._exit(_exit_code)


def run() -> None:
    """Run :func:`generator.cli.main` on ``sys.argv`` and exit with its status; never
    returns."""
    global _exit_code
    atexit.register(_leave)
    from generator.cli import main
    from generator.parallel import collect_garbage_rarely

    collect_garbage_rarely()

    try:
        _exit_code = main()
    except SystemExit as exc:  # argparse's --help (0) and usage errors (2)
        _exit_code = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
        raise
    except KeyboardInterrupt:  # before main() could catch it (during imports)
        _exit_code = 130
        raise
    sys.exit(_exit_code)


if __name__ == "__main__":
    run()
