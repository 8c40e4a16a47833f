"""Exceptions raised by optlab.

Every error is a ``ValueError`` subclass, so callers that only know ``ValueError`` still catch it,
and its message names the bad value and, where there is a closed set, the allowed ones.
"""
from __future__ import annotations

from typing import Iterable


class OptlabError(ValueError):
    """Base class of optlab's own errors."""


class UnknownNameError(OptlabError, KeyError):
    """A name (surface, optimizer, loss, schedule …) that is not in its registry."""

    def __init__(self, kind: str, name: object, allowed: Iterable[str]):
        self.kind, self.name, self.allowed = kind, name, sorted(allowed)
        super().__init__(f"unknown {kind} {name!r}; choose one of: {', '.join(self.allowed)}")

    def __str__(self) -> str:  # KeyError would otherwise quote the whole message
        return self.args[0]


class FormulaError(OptlabError):
    """A formula typed by a user that cannot be turned into a surface.

    ``position`` is the 0-based column of the offending part when it is known, else ``None``.
    """

    def __init__(self, message: str, position: int | None = None, text: str | None = None):
        self.position, self.text = position, text
        super().__init__(message)


def check_choice(kind: str, name: object, allowed: Iterable[str]) -> str:
    """Return ``name`` if it is one of ``allowed``; raise :class:`UnknownNameError` otherwise."""
    allowed = list(allowed)
    if not isinstance(name, str) or name not in allowed:
        raise UnknownNameError(kind, name, allowed)
    return name
