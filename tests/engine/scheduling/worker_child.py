"""A worker in its own process, for the multi-process tests: ``python -m tests.engine.scheduling.worker_child MODE``.

MODE ``drain`` runs passes until one finds nothing to do. MODE ``stall`` takes its leases, then hangs
inside the step (after the engine ran, before anything is written) so the test can SIGKILL it there.
"""

import sys
import time

from engine.config import Config
from engine.runtime.core import Runtime
from engine.scheduling.worker import Worker
from engine.services import Services


def main(mode: str, name: str) -> None:
    services = Services(Config.from_env())
    worker = Worker(services, name=name, batch=500)
    if mode == "stall":

        def hang(self, *args, **kwargs):
            print("stalled", flush=True)
            time.sleep(600)

        Runtime._guarded_write = hang
        worker.fire_timers()
        return
    idle = 0
    while idle < 2:
        done = worker.run_once()
        idle = idle + 1 if not any(done.values()) else 0
    print("drained", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
