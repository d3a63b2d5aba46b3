"""The natural language an explanation is written in."""

from __future__ import annotations

_LANGUAGE_NAMES = {
    "en": "English", "zh": "Chinese (简体中文)", "zh-tw": "Traditional Chinese (繁體中文)",
    "ja": "Japanese", "ko": "Korean", "de": "German", "fr": "French", "es": "Spanish",
    "it": "Italian", "pt": "Portuguese", "ru": "Russian", "pl": "Polish", "nl": "Dutch",
    "tr": "Turkish", "uk": "Ukrainian", "cs": "Czech", "sv": "Swedish", "vi": "Vietnamese",
}


def answer_language(setting: str, client_locale: str | None) -> str:
    """The language named by the setting, or by the client's locale for "auto"."""
    tag = client_locale if setting == "auto" else setting
    if not tag or tag.upper() in ("C", "POSIX"):
        return "English"
    tag = tag.replace("_", "-").lower()
    return _LANGUAGE_NAMES.get(tag) or _LANGUAGE_NAMES.get(tag.split("-")[0]) or tag
