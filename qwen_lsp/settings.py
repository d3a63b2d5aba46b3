"""The server's settings: one typed object, validated, with readable problems.

Keys are exactly those of the public interface (camelCase, section ``qwenLsp``).
``cache.*`` and ``openai.*`` keys may come nested (``{"cache": {"enabled": false}}``)
or dotted (``{"cache.enabled": false}``), as VS Code sends either. A bad value never
stops the server: it is reported and the default is used for that key.

The API key of the team backend is never a setting: ``openai.apiKeyEnv`` names the
environment variable that holds it, and no message here repeats a value given for
it (a key pasted there by mistake must not end up on the screen or in a log).
"""

from __future__ import annotations

import dataclasses
import logging
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import psutil

from qwen_lsp.engine.base import DEFAULT_MAX_TOKENS

log = logging.getLogger(__name__)


def _physical_cores() -> int:
    """llama.cpp runs best on physical cores, not hyper-threads."""
    return psutil.cpu_count(logical=False) or os.cpu_count() or 1


@dataclass(frozen=True)
class Settings:
    model_path: str = ""
    threads: int = field(default_factory=_physical_cores)
    context_size: int = 4096
    max_output_tokens: int = DEFAULT_MAX_TOKENS
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
    prefill: str = "idle"
    backend: str = "embedded"
    openai_base_url: str = ""
    openai_model: str = ""
    openai_api_key_env: str = "QWEN_LSP_API_KEY"
    openai_timeout_seconds: float = 60.0


@dataclass(frozen=True)
class _Range:
    """An inclusive range of numbers: the check and its description, written once."""

    low: float
    high: float

    def __call__(self, value: float) -> bool:
        return self.low <= value <= self.high

    def describe(self, kind: type) -> str:
        what = "an integer" if kind is int else "a number"
        return f"{what} from {_number(self.low)} to {_number(self.high)}"


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


@dataclass(frozen=True)
class _Key:
    attr: str
    kind: type
    check: Callable[[Any], bool] | None = None
    valid: str = ""  # what a valid value is; derived from a _Range check when empty
    echo: bool = True  # whether a rejected value may be repeated in the message

    @property
    def description(self) -> str:
        if not self.valid and isinstance(self.check, _Range):
            return self.check.describe(self.kind)
        return self.valid


def _http_url(value: str) -> bool:
    if value == "":
        return True
    parts = urlsplit(value.strip())
    return parts.scheme in ("http", "https") and bool(parts.hostname)


_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_BOOL = "true or false"
_KEYS: dict[str, _Key] = {
    "modelPath": _Key("model_path", str, valid='a path to a .gguf file, or ""'),
    "threads": _Key("threads", int, _Range(1, 256)),
    "contextSize": _Key("context_size", int, _Range(512, 32768)),
    "maxOutputTokens": _Key("max_output_tokens", int, _Range(16, 8192)),
    "temperature": _Key("temperature", float, _Range(0, 2)),
    "explanationDisplay": _Key("explanation_display", str, lambda v: v in ("server", "client"),
                               '"server" or "client"'),
    "explanationLanguage": _Key("explanation_language", str, lambda v: 0 < len(v) <= 35,
                                '"auto" or a language tag such as "en" or "zh"'),
    "confirmEdits": _Key("confirm_edits", bool, valid=_BOOL),
    "cache.enabled": _Key("cache_enabled", bool, valid=_BOOL),
    "cache.directory": _Key("cache_directory", str, valid='a directory path, or ""'),
    "cache.maxMegabytes": _Key("cache_max_megabytes", int, _Range(1, 100_000)),
    "promptsDirectory": _Key("prompts_directory", str, valid='a directory path, or ""'),
    "maxSpanLines": _Key("max_span_lines", int, _Range(1, 100_000)),
    "maxFileBytes": _Key("max_file_bytes", int, _Range(1_000, 1_000_000_000)),
    "prefill": _Key("prefill", str, lambda v: v in ("idle", "menu", "off"),
                    '"idle", "menu" or "off"'),
    "backend": _Key("backend", str, lambda v: v in ("embedded", "openai"),
                    '"embedded" or "openai"'),
    "openai.baseUrl": _Key("openai_base_url", str, _http_url,
                           'an http:// or https:// URL such as "http://gpu-box:8000/v1", or ""'),
    "openai.model": _Key("openai_model", str, lambda v: len(v) <= 512,
                         'a model id the server lists, or "" for the first one'),
    "openai.apiKeyEnv": _Key("openai_api_key_env", str,
                             lambda v: _ENV_NAME.fullmatch(v) is not None,
                             "the NAME of an environment variable holding the key, such as "
                             "QWEN_LSP_API_KEY (never the key itself)", echo=False),
    "openai.timeoutSeconds": _Key("openai_timeout_seconds", float, _Range(1, 3600)),
}
_NESTED = ("cache", "openai")
# Keys that look like a place for a secret: refused with a hint, their value never shown.
_SECRET_KEYS = ("openai.apiKey", "openai.key", "openai.token", "apiKey")

PUBLIC_KEYS = tuple(_KEYS)


def _flatten(raw: dict[str, Any]) -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in raw.items():
        if key in _NESTED and isinstance(value, dict):
            for sub, sub_value in value.items():
                flat[f"{key}.{sub}"] = sub_value
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
        if spec is None and key in _SECRET_KEYS:
            problems.append(f"setting qwenLsp.{key} is ignored: an API key is never read from "
                            "the settings. Put it in an environment variable and give that "
                            "variable's name in qwenLsp.openai.apiKeyEnv (default "
                            f"{defaults.openai_api_key_env})")
            continue
        if spec is None:  # another tool's key, or a typo: logged, not shown
            log.warning("unknown setting qwenLsp.%s ignored; known settings: %s", key,
                        ", ".join(PUBLIC_KEYS))
            continue
        if value is None:
            changes[spec.attr] = getattr(defaults, spec.attr)
            continue
        try:
            coerced = _coerce(value, spec.kind)
            if spec.check is not None and not spec.check(coerced):
                raise ValueError
        except (TypeError, ValueError):
            default = getattr(defaults, spec.attr)
            given = f" = {value!r}" if spec.echo else ""
            problems.append(f"setting qwenLsp.{key}{given} is not valid (expected "
                            f"{spec.description}); using the default {default!r}")
            changes[spec.attr] = default
            continue
        changes[spec.attr] = coerced
    return dataclasses.replace(base, **changes), problems
