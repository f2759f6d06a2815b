"""Every outgoing flow of every exclusive/inclusive gateway and every timer is taken by some walk.

The walks of paths.PATHS record what they traversed (walks.TRAVERSED) as test_paths runs them; a walk
not run in this session (say, ``-k completeness``) is run here on its own SQLite database.
"""

import pytest

from engine.db import Database

from .driver import model
from .paths import PATHS
from .walks import TRAVERSED, walk


@pytest.mark.slow
def test_every_gateway_flow_and_timer_is_walked(tmp_path):
    for name in sorted(set(PATHS) - set(TRAVERSED)):
        db = Database(f"sqlite:///{tmp_path / (name + '.db')}")
        db.create_all()
        try:
            walk(db, name)
        finally:
            db.dispose()
    flows = set().union(*(f for f, _ in TRAVERSED.values()))
    timers = set().union(*(t for _, t in TRAVERSED.values()))
    m = model()
    untested_flows = sorted(m.gateway_flows - flows)
    untested_timers = sorted((m.boundary_timers | m.catch_timers) - timers)
    assert not untested_flows and not untested_timers, (
        f"{len(untested_flows)} of {len(m.gateway_flows)} gateway flows and {len(untested_timers)} timers "
        f"never walked:\n" + "\n".join(f"  {p}/{f}" for p, f in untested_flows + untested_timers)
    )
