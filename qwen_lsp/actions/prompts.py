"""Prompt templates: plain text files with named ``{placeholders}``.

The shipped templates live in ``qwen_lsp/prompts``; a user directory (setting
``promptsDirectory``) overrides any of them file by file. Filling is one pass of
plain substitution: no template engine, no code runs, and a placeholder's value
is never scanned for further placeholders. Unknown ``{words}`` stay as written.
"""

from __future__ import annotations

import logging
import re
from importlib import resources
from pathlib import Path

from qwen_lsp.actions.common import ActionError

log = logging.getLogger(__name__)

_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


class PromptError(ActionError):
    """A template could not be read."""


def fill(template: str, values: dict[str, str]) -> str:
    """Substitute ``{name}`` for each known name, in one pass."""

    def replace(match: re.Match[str]) -> str:
        key = match.group(1)
        return values[key] if key in values else match.group(0)

    return _PLACEHOLDER.sub(replace, template)


class PromptStore:
    """Reads templates by name (``explain.user``), user directory first."""

    def __init__(self, user_directory: str = "") -> None:
        self.user_directory = Path(user_directory).expanduser() if user_directory else None
        self._cache: dict[str, tuple[int | None, str]] = {}

    def get(self, name: str) -> str:
        filename = f"{name}.txt"
        candidate = self.user_directory / filename if self.user_directory else None
        try:  # a user template is re-read when it changes
            stamp = candidate.stat().st_mtime_ns if candidate else None
        except OSError:
            stamp = None
        cached = self._cache.get(name)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        text: str | None = None
        if candidate is not None and stamp is not None:
            if candidate.is_file():
                try:
                    text = candidate.read_text(encoding="utf-8")
                    log.info("using prompt template %s", candidate)
                except (OSError, UnicodeDecodeError) as exc:
                    raise PromptError(
                        f"cannot read the prompt template {candidate}: {exc}; fix or remove it "
                        "(setting qwenLsp.promptsDirectory)"
                    ) from exc
        if text is None:
            try:
                text = resources.files("qwen_lsp").joinpath("prompts", filename).read_text(
                    encoding="utf-8"
                )
            except (OSError, FileNotFoundError) as exc:
                raise PromptError(f"the shipped prompt template {filename} is missing; "
                                  "reinstall qwen-lsp") from exc
        text = text.rstrip("\n")
        self._cache[name] = (stamp, text)
        return text

    def render(self, name: str, values: dict[str, str]) -> str:
        return fill(self.get(name), values)
