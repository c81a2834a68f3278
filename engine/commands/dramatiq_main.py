"""``python -m engine.commands.dramatiq_main <dramatiq arguments>``: dramatiq's CLI with our logging.

dramatiq's CLI configures plain-text logging (``logging.basicConfig`` with its own format) in its
main process, in each worker process and in each fork, so its start-up lines and everything it
logs were not JSON. `strideline worker` runs dramatiq through this module instead, which puts
engine/logs.py's configuration in those three places (JSON off a terminal, constant event names)
and otherwise leaves dramatiq's CLI as it is. The format is chosen once, in the main process, so
every process of one worker writes the same format.
"""

from __future__ import annotations

import os
import sys


def _install() -> None:
    import dramatiq.cli as cli

    from engine.logs import _wants_json, configure_logging

    level = os.environ.get("STRIDELINE_LOG_LEVEL", "INFO")
    as_json = _wants_json(sys.stderr, None)
    os.environ["STRIDELINE_LOG_FORMAT"] = "json" if as_json else "console"  # the processes' own setup agrees

    def parent(args, *, stream=sys.stderr):
        configure_logging(level, json=as_json, stream=stream)
        return cli.get_logger("dramatiq", "MainProcess")

    def child(prefix: str):
        def setup(args, child_id, logging_pipe):
            sys.stdout = sys.stderr = logging_pipe  # as dramatiq does: one serialised pipe to the parent
            configure_logging(level, json=as_json, stream=logging_pipe)
            return cli.get_logger("dramatiq", f"{prefix}({child_id})")
        return setup

    cli.setup_parent_logging = parent
    cli.setup_worker_logging = child("WorkerProcess")
    cli.setup_fork_logging = child("ForkProcess")


def main() -> int:
    _install()
    import dramatiq.cli

    return dramatiq.cli.main()


if __name__ == "__main__":
    sys.exit(main())
