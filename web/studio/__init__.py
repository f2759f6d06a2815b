"""The process studio (流程设计): the blueprint lives in ``views``; ``layout`` draws files that carry no diagram."""

from . import forms, migrate  # noqa: F401 - register the 表单设计 and 迁移 pages on the blueprint
from .views import bp

__all__ = ["bp"]
