"""The managers' cockpit (驾驶舱), plus starting a process and everyone's notifications.

One blueprint, ``cockpit`` (``views.bp``): the figures' and notifications' pages in ``views``, the instance
list, instance page, instance actions and starting a process in ``instances``. The figures themselves and
who may see them are in engine/cockpit/.
"""

from __future__ import annotations

from . import heatmap as _heatmap  # noqa: F401 - the duration heatmap over a process's diagram
from . import instances as _instances  # noqa: F401 - registers the instance routes on the blueprint
from . import metrics as _metrics  # noqa: F401 - the outcome metrics page and the exports
from . import refresh as _refresh  # noqa: F401 - the figure pages' 刷新 button
from . import stalled as _stalled  # noqa: F401 - registers the stalled tasks' page on the blueprint
from .views import bp

__all__ = ["bp"]
