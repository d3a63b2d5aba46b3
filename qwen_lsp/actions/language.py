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


# The labels of an explanation's sections, in the language it is written in.
_LABELS: dict[str, tuple[str, str, str, str]] = {
    "English": ("Purpose", "Inputs", "Returns", "Notes"),
    "Chinese (简体中文)": ("目的", "输入", "返回值", "注意事项"),
    "Traditional Chinese (繁體中文)": ("目的", "輸入", "返回值", "注意事項"),
    "Japanese": ("目的", "入力", "戻り値", "注意点"),
    "Korean": ("목적", "입력", "반환값", "참고"),
    "German": ("Zweck", "Eingaben", "Rückgabe", "Hinweise"),
    "French": ("Objectif", "Entrées", "Retour", "Remarques"),
    "Spanish": ("Propósito", "Entradas", "Devuelve", "Notas"),
    "Italian": ("Scopo", "Input", "Restituisce", "Note"),
    "Portuguese": ("Propósito", "Entradas", "Retorno", "Notas"),
    "Russian": ("Назначение", "Входные данные", "Возвращает", "Примечания"),
    "Polish": ("Cel", "Dane wejściowe", "Zwraca", "Uwagi"),
    "Dutch": ("Doel", "Invoer", "Geeft terug", "Opmerkingen"),
    "Turkish": ("Amaç", "Girdiler", "Döndürür", "Notlar"),
    "Ukrainian": ("Призначення", "Вхідні дані", "Повертає", "Примітки"),
    "Czech": ("Účel", "Vstupy", "Vrací", "Poznámky"),
    "Swedish": ("Syfte", "Indata", "Returnerar", "Anteckningar"),
    "Vietnamese": ("Mục đích", "Đầu vào", "Trả về", "Ghi chú"),
}


def section_labels(language: str) -> dict[str, str]:
    """The placeholders {purpose_label}, {inputs_label}, {returns_label}, {notes_label}."""
    purpose, inputs, returns, notes = _LABELS.get(language, _LABELS["English"])
    return {"purpose_label": purpose, "inputs_label": inputs, "returns_label": returns,
            "notes_label": notes}
