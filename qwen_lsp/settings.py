"""The server's settings: one typed object, validated, with readable problems.

Keys are exactly those of the public interface (camelCase, section ``qwenLsp``).
``cache.*`` keys may come nested (``{"cache": {"enabled": false}}``) or dotted
(``{"cache.enabled": false}``), as VS Code sends either. A bad value never stops
the server: it is reported and the default is used for that key.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from dataclasses import dataclass, field
from typing import Any

import psutil

log = logging.getLogger(__name__)


def _physical_cores() -> int:
    """llama.cpp runs best on physical cores, not hyper-threads."""
    return psutil.cpu_count(logical=False) or os.cpu_count() or 1


@dataclass(frozen=True)
class Settings:
    model_path: str = ""
    threads: int = field(default_factory=_physical_cores)
    context_size: int = 4096
    max_output_tokens: int = 768
    temperature: float = 0.0
    explanation_display: str = "server"
    explanation_language: str = "auto"
    confirm_edits: bool = True
    cache_enabled: bool = True
    cache_directory: str = ""
    cache_max_megabytes: int = 256
    prompts_directory: str = ""
    max_span_lines: int = 400
    max_file_bytes: int = 5_000_000


# public key -> (attribute, type, check, what a valid value is)
_KEYS: dict[str, tuple[str, type, Any, str]] = {
    "modelPath": ("model_path", str, None, "a path to a .gguf file, or \"\""),
    "threads": ("threads", int, lambda v: 1 <= v <= 256, "an integer from 1 to 256"),
    "contextSize": ("context_size", int, lambda v: 512 <= v <= 32768,
                    "an integer from 512 to 32768"),
    "maxOutputTokens": ("max_output_tokens", int, lambda v: 16 <= v <= 8192,
                        "an integer from 16 to 8192"),
    "temperature": ("temperature", float, lambda v: 0.0 <= v <= 2.0, "a number from 0 to 2"),
    "explanationDisplay": ("explanation_display", str, lambda v: v in ("server", "client"),
                           "\"server\" or \"client\""),
    "explanationLanguage": ("explanation_language", str, lambda v: 0 < len(v) <= 35,
                            "\"auto\" or a language tag such as \"en\" or \"zh\""),
    "confirmEdits": ("confirm_edits", bool, None, "true or false"),
    "cache.enabled": ("cache_enabled", bool, None, "true or false"),
    "cache.directory": ("cache_directory", str, None, "a directory path, or \"\""),
    "cache.maxMegabytes": ("cache_max_megabytes", int, lambda v: 1 <= v <= 100_000,
                           "an integer from 1 to 100000"),
    "promptsDirectory": ("prompts_directory", str, None, "a directory path, or \"\""),
    "maxSpanLines": ("max_span_lines", int, lambda v: 1 <= v <= 100_000,
                     "an integer from 1 to 100000"),
    "maxFileBytes": ("max_file_bytes", int, lambda v: 1_000 <= v <= 1_000_000_000,
                     "an integer from 1000 to 1000000000"),
}

PUBLIC_KEYS = tuple(_KEYS)


def _flatten(raw: dict[str, Any]) -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in raw.items():
        if key == "cache" and isinstance(value, dict):
            for sub, sub_value in value.items():
                flat[f"cache.{sub}"] = sub_value
        else:
            flat[key] = value
    return flat


def _coerce(value: Any, kind: type) -> Any:
    if kind is bool:
        if isinstance(value, bool):
            return value
        raise TypeError
    if kind is int:
        if isinstance(value, bool):
            raise TypeError
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        raise TypeError
    if kind is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TypeError
        return float(value)
    if kind is str:
        if isinstance(value, str):
            return value
        raise TypeError
    raise TypeError


def parse_settings(raw: Any, base: Settings | None = None) -> tuple[Settings, list[str]]:
    """Merge ``raw`` (a client's ``qwenLsp`` object) over ``base``.

    Returns the new settings and one readable problem per rejected value; a
    rejected key keeps its default. Unknown keys are logged and ignored.
    """
    base = base or Settings()
    if raw is None:
        return base, []
    if not isinstance(raw, dict):
        return base, [f"qwenLsp settings must be an object, got {type(raw).__name__}; "
                      "using the defaults"]
    defaults = Settings()
    changes: dict[str, Any] = {}
    problems: list[str] = []
    for key, value in _flatten(raw).items():
        spec = _KEYS.get(key)
        if spec is None:  # another tool's key, or a typo: logged, not shown
            log.warning("unknown setting qwenLsp.%s ignored; known settings: %s", key,
                        ", ".join(PUBLIC_KEYS))
            continue
        attr, kind, check, valid = spec
        if value is None:
            changes[attr] = getattr(defaults, attr)
            continue
        try:
            coerced = _coerce(value, kind)
            if check is not None and not check(coerced):
                raise ValueError
        except (TypeError, ValueError):
            default = getattr(defaults, attr)
            problems.append(f"setting qwenLsp.{key} = {value!r} is not valid (expected {valid}); "
                            f"using the default {default!r}")
            changes[attr] = default
            continue
        changes[attr] = coerced
    return dataclasses.replace(base, **changes), problems
