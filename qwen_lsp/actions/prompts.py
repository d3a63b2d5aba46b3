"""Prompt templates: plain text files with named ``{placeholders}``.

The shipped templates live in ``prompts/`` at the top of the repository, installed
inside the package as ``qwen_lsp/prompts/``; a user directory (setting
``promptsDirectory``) overrides any of them file by file. Filling is one pass of
plain substitution: no template engine, no code runs, and a placeholder's value
is never scanned for further placeholders. A user template with a placeholder the
server does not fill (a typo such as ``{cod}``) is not sent to the model: the
warning names the file and the placeholder, and the shipped template is used.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from importlib import resources
from pathlib import Path

from qwen_lsp.actions.errors import ActionError

log = logging.getLogger(__name__)

_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
# A source checkout run without installing: the templates are beside the package.
_SOURCE_TREE_PROMPTS = Path(__file__).resolve().parents[2] / "prompts"


class PromptError(ActionError):
    """A template could not be read."""


def placeholders(template: str) -> set[str]:
    return set(_PLACEHOLDER.findall(template))


def fill(template: str, values: dict[str, str]) -> str:
    """Substitute ``{name}`` for each known name, in one pass."""

    def replace(match: re.Match[str]) -> str:
        key = match.group(1)
        return values[key] if key in values else match.group(0)

    return _PLACEHOLDER.sub(replace, template)


def shipped_template(filename: str) -> str:
    """A template as shipped with qwen-lsp (installed package, else the source tree)."""
    packaged = resources.files("qwen_lsp").joinpath("prompts", filename)
    try:
        if packaged.is_file():
            return packaged.read_text(encoding="utf-8")
        return (_SOURCE_TREE_PROMPTS / filename).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PromptError(f"the shipped prompt template {filename} is missing or unreadable; "
                          "reinstall qwen-lsp") from exc


class PromptStore:
    """Reads templates by name (``explain.user``), user directory first."""

    def __init__(self, user_directory: str = "",
                 on_warning: Callable[[str], None] | None = None) -> None:
        self.user_directory = Path(user_directory).expanduser() if user_directory else None
        self.on_warning = on_warning or log.warning
        # name -> (user file's mtime or None, text, the user file it came from or None)
        self._cache: dict[str, tuple[int | None, str, Path | None]] = {}
        self._warned: set[tuple[Path, int | None]] = set()

    def _load(self, name: str) -> tuple[str, Path | None]:
        filename = f"{name}.txt"
        candidate = self.user_directory / filename if self.user_directory else None
        try:  # a user template is re-read when it changes
            stamp = candidate.stat().st_mtime_ns if candidate else None
        except OSError:
            stamp = None
        cached = self._cache.get(name)
        if cached is not None and cached[0] == stamp:
            return cached[1], cached[2]
        text: str | None = None
        origin: Path | None = None
        if candidate is not None and stamp is not None and candidate.is_file():
            try:
                text = candidate.read_text(encoding="utf-8")
                origin = candidate
                log.info("using prompt template %s", candidate)
            except (OSError, UnicodeDecodeError) as exc:
                raise PromptError(
                    f"cannot read the prompt template {candidate}: {exc}; fix or remove it "
                    "(setting qwenLsp.promptsDirectory)"
                ) from exc
        if text is None:
            text = shipped_template(filename)
        text = text.rstrip("\n")
        self._cache[name] = (stamp, text, origin)
        return text, origin

    def get(self, name: str) -> str:
        return self._load(name)[0]

    def render(self, name: str, values: dict[str, str]) -> str:
        text, origin = self._load(name)
        if origin is not None:
            unknown = sorted(placeholders(text) - set(values))
            if unknown:
                self._warn_unknown(origin, unknown, values)
                text = shipped_template(f"{name}.txt").rstrip("\n")
        return fill(text, values)

    def _warn_unknown(self, origin: Path, unknown: list[str], values: dict[str, str]) -> None:
        try:
            stamp: int | None = origin.stat().st_mtime_ns
        except OSError:
            stamp = None
        if (origin, stamp) in self._warned:
            return
        self._warned.add((origin, stamp))
        names = ", ".join("{" + u + "}" for u in unknown)
        known = ", ".join("{" + k + "}" for k in sorted(values))
        self.on_warning(f"the prompt template {origin} uses {names}, which qwen-lsp does not "
                        f"fill (it fills {known}); the shipped template is used until you "
                        "fix it")
