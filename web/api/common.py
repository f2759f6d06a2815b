"""What every API view needs: the caller, the engine, and the error statuses it documents."""

from __future__ import annotations

from http import HTTPStatus

from flask import g

from engine.access.principal import Principal

from ..context import services  # noqa: F401 - the web package's one accessor, for the API views
from ..security import can_reveal, sealer  # noqa: F401 - one reveal rule and one sealing key for web and API


def principal() -> Principal:
    return g.api_principal


def documents(blp, *statuses: int):
    """Document error statuses on an operation, each answered with the error envelope."""

    def decorate(view):
        for status in statuses:
            view = blp.alt_response(status, response=HTTPStatus(status).name)(view)
        return view

    return decorate
