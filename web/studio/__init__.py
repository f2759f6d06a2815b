"""The process studio (流程设计): the blueprint lives in ``views``; ``layout`` draws files that carry no diagram."""

from . import migrate  # noqa: F401 - registers the 迁移 page on the blueprint
from .views import bp

__all__ = ["bp"]
