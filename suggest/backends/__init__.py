"""Model backends: every model the tool uses sits behind :class:`suggest.backends.base.Backend`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from suggest.backends.base import Backend

Factory = Callable[[dict[str, Any]], Backend]
_FACTORIES: dict[str, Factory] = {}


def register(name: str) -> Callable[[Factory], Factory]:
    """Class or function decorator: make a backend choosable by ``name`` in configuration."""

    def decorator(factory: Factory) -> Factory:
        _FACTORIES[name] = factory
        return factory

    return decorator


def available() -> list[str]:
    _import_all()
    return sorted(_FACTORIES)


def create(name: str, options: dict[str, Any] | None = None) -> Backend:
    """The backend registered as ``name``, built with its options from configuration."""
    _import_all()
    try:
        factory = _FACTORIES[name]
    except KeyError:
        raise ValueError(f"unknown backend {name!r}; known: {', '.join(sorted(_FACTORIES))}") from None
    return factory(options or {})


def _import_all() -> None:
    # Imported here so that a backend's heavy dependencies load only when it is chosen.
    from suggest.backends import e5_offline, remote, tfidf  # noqa: F401

    try:  # needs torch: the optional [transformers] extra
        from suggest.backends import transformers_backend  # noqa: F401
    except ImportError:
        pass
