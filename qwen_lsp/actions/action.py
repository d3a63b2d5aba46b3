"""The three actions, as one type: everything else reads their names from here."""

from __future__ import annotations

from enum import Enum


class Action(Enum):
    """An action: its id (CLI subcommand, prompt family, cache key), LSP command id,
    code-action kind, menu title and progress title."""

    EXPLAIN = ("explain", "qwenLsp.explain", "qwen.explain", "Ask AI to explain", "Explaining")
    REFACTOR = ("refactor", "qwenLsp.refactor", "refactor.rewrite.qwen", "Refactor with AI",
                "Refactoring")
    CONVERT_TO_ASYNC = ("async", "qwenLsp.convertToAsync", "refactor.rewrite.qwen.async",
                        "Convert to async with AI", "Converting to async")

    def __init__(self, id: str, command: str, kind: str, title: str,
                 progress_title: str) -> None:
        self.id = id
        self.command = command
        self.kind = kind
        self.title = title
        self.progress_title = progress_title

    @property
    def rewrites(self) -> bool:
        """True for the actions whose result is an edit of the document."""
        return self is not Action.EXPLAIN

    @classmethod
    def from_id(cls, action_id: str) -> Action:
        return next(a for a in cls if a.id == action_id)
