"""A worker process for the timer benchmark: imports, says ready, waits for the go file, drains, reports."""

import sys
import time
from pathlib import Path

from engine.config import Config
from engine.scheduling.worker import Worker
from engine.services import Services


def main(database_url: str, go_file: str, name: str) -> None:
    services = Services(Config.from_env(database_url=database_url))
    worker = Worker(services, name=name, batch=50)
    print("ready", flush=True)
    go = Path(go_file)
    while not go.exists():
        time.sleep(0.005)
    fired, idle = 0, 0
    while idle < 2:
        done = worker.fire_timers()
        fired += done
        idle = idle + 1 if done == 0 else 0
    print(f"done {fired} {time.time():.6f}", flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:4])
