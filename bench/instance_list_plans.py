"""Issue 16's evidence for the cockpit instance list (``list_instances(oversight=True)``, engine/instances/
operations.py ``_overseen_page``) at province scale: each statement it runs, with PostgreSQL's
``EXPLAIN (ANALYZE, BUFFERS)``, for the list and its ``overdue`` filter, as one manager sees it.

Run it on a province database built by bench/province.py (read only; the plans' scans and execution
times are printed, ``--plans`` prints the whole plans). Compare a provincial manager (100k instances
overseen) with a county one: the first must not sort or hash a sequential scan of his instances.

    python -m bench.instance_list_plans --url postgresql+psycopg://…/guantong_bench_province u00002 u00333
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from typing import Any

from sqlalchemy import event

from engine.access.principal import load_principal
from engine.config import Config
from engine.instances import operations as ops
from engine.instances.queries import InstanceFilter
from engine.services import Services

# The cockpit's two lists as its page asks for them (web/cockpit/instances.py: running unless chosen).
RUNNING = InstanceFilter(status="running")
SHOWN = ("Scan", "Execution", "Rows Removed", "Sort Method", "Hash Join", "Nested Loop")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True, help="a province database built by bench/province.py (read only)")
    parser.add_argument("--plans", action="store_true", help="print the whole plans")
    parser.add_argument("usernames", nargs="+", help="the managers whose list is explained")
    args = parser.parse_args()
    services = Services(Config.from_env(database_url=args.url))
    captured: list[tuple[str, Any]] = []

    def grab(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        captured.append((statement, parameters))

    for username in args.usernames:
        with services.db.session() as s:
            manager = load_principal(s, username)
        for name, f in (("running", RUNNING), ("overdue", replace(RUNNING, overdue=True))):
            captured.clear()
            event.listen(services.db.engine, "before_cursor_execute", grab)
            try:
                page = ops.list_instances(services, manager, f, oversight=True)
            finally:
                event.remove(services.db.engine, "before_cursor_execute", grab)
            print(f"===== {username} {name}: total {page.total}, {len(page.rows)} rows, {len(captured)} statements")
            raw = services.db.engine.raw_connection()
            try:
                cur = raw.cursor()
                for statement, parameters in captured:
                    if "process_instance" not in statement:
                        continue
                    cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
                    plan = [r[0] for r in cur.fetchall()]
                    print("--- " + " ".join(statement.split())[:160])
                    print("\n".join(line for line in plan if args.plans or any(k in line for k in SHOWN)))
                raw.rollback()
            finally:
                raw.close()


if __name__ == "__main__":
    main()
