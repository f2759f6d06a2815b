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
import marshmallow as ma
from webargs.flaskparser import FlaskParser


class BoundedParser(FlaskParser):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._schemas: dict[type[ma.Schema], ma.Schema] = {}

    def _get_schema(self, argmap: Any, req: flask.Request) -> ma.Schema:
        """One instance per schema class, made at its first use: webargs instantiates a class given to
        ``@blp.arguments`` on every request, and building a schema (its fields deep-copied) was a
        tenth of an inbox read's Python (issue 19). The API's schemas keep no state between loads
        (no ``context``, no hooks writing to ``self``), so one instance serves every request and
        thread; the documentation still names the class."""
        if isinstance(argmap, type) and issubclass(argmap, ma.Schema):
            schema = self._schemas.get(argmap)
            if schema is None:
                schema = self._schemas[argmap] = argmap()
            return schema
        return super()._get_schema(argmap, req)

    def _raw_load_json(self, req: flask.Request) -> Any:
        try:
            return super()._raw_load_json(req)
        except RecursionError:
            raise json.JSONDecodeError("JSON nested too deeply", "(nested too deeply)", 0) from None


class Blueprint(flask_smorest.Blueprint):
    """flask-smorest's blueprint, reading arguments with ``BoundedParser``."""

    ARGUMENTS_PARSER = BoundedParser()
