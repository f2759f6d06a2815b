"""Reading JSON bodies for the API, bounded: hostile nesting is a 400, never a 500.

``json.loads`` answers 5,000 nested brackets with ``RecursionError``, which webargs does not treat as
bad input, so such a body reached the error handler as a server fault. Every API blueprint takes its
arguments through this parser (``Blueprint`` below), so the rule holds for every route.
"""

from __future__ import annotations

import json
from typing import Any

import flask
import flask_smorest
from webargs.flaskparser import FlaskParser


class BoundedParser(FlaskParser):
    def _raw_load_json(self, req: flask.Request) -> Any:
        try:
            return super()._raw_load_json(req)
        except RecursionError:
            raise json.JSONDecodeError("JSON nested too deeply", "(nested too deeply)", 0) from None


class Blueprint(flask_smorest.Blueprint):
    """flask-smorest's blueprint, reading arguments with ``BoundedParser``."""

    ARGUMENTS_PARSER = BoundedParser()
