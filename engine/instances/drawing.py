"""What an instance's diagram needs of its deployed version, read and parsed once per process.

A deployed version never changes (a new deploy is a new version), so its BPMN file, the graph read from
it (engine/instances/diagram.py ``read_graph``) and the processes its call activities run are the same
for every instance of it. The instance pages asked for them on every view: one query for the file, a
parse of the XML and a walk of the called specs, the largest share of a diagram's cost after the
workflow state. They are kept here, in process, for the versions viewed last.

The cache is keyed by the ``LoadedVersion`` object the definitions repository hands out (its own
bounded cache, engine/definitions/repository.py), held with the entry: a repository of another
database, or the same version loaded anew, is another object and never finds a stale drawing.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from engine.instances import diagram

MAX_DRAWINGS = 64  # versions × drawn processes kept; a province deploys a few dozen at most


@dataclass(frozen=True)
class Drawing:
    """A process of a deployed version as the diagram draws it."""

    filename: str
    xml: str
    graph: diagram.Graph
    calls: dict[str, str]  # called process id -> the call activity under which it runs


_drawings: OrderedDict[tuple[int, str], tuple[Any, Drawing]] = OrderedDict()
_lock = threading.Lock()


def drawing(session: Session, loaded: Any, process_key: str) -> Drawing:
    """The drawing of ``process_key`` in the version ``loaded``, read in ``session`` the first time."""
    key = (id(loaded), process_key)
    with _lock:
        hit = _drawings.get(key)
        if hit is not None and hit[0] is loaded:
            _drawings.move_to_end(key)
            return hit[1]
    filename, xml = diagram.definition_file(session, loaded.id, process_key)
    graph = diagram.read_graph(xml, filename, process_key)
    made = Drawing(filename=filename, xml=xml, graph=graph, calls=diagram.called_processes(graph, loaded))
    with _lock:
        _drawings[key] = (loaded, made)  # the version held with it: its id() is not reused meanwhile
        _drawings.move_to_end(key)
        while len(_drawings) > MAX_DRAWINGS:
            _drawings.popitem(last=False)
    return made


def forget() -> None:
    """Drop every kept drawing (tests that compare a first read with a kept one)."""
    with _lock:
        _drawings.clear()
