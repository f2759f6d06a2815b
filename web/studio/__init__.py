"""The process studio (流程设计): the blueprint lives in ``views``; ``layout`` draws files that carry no diagram."""

from .views import bp

__all__ = ["bp"]
