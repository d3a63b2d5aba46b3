"""The copy-paste configurations for other editors parse, and point at qwen-lsp."""

from __future__ import annotations

import json
import re
from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parents[2]
OTHER = ROOT / "editor-clients" / "other"


def _without_line_comments(text: str) -> str:
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("//"))


def test_helix():
    config = tomllib.loads((OTHER / "helix-languages.toml").read_text())
    assert config["language-server"]["qwen-lsp"]["command"] == "qwen-lsp"
    assert all("qwen-lsp" in lang["language-servers"] for lang in config["language"])


def test_zed_sublime_and_kate_are_json():
    zed = json.loads((OTHER / "zed-settings.json").read_text())
    assert zed["lsp"]["qwen-lsp"]["binary"]["path"] == "qwen-lsp"
    sublime = json.loads(_without_line_comments(
        (OTHER / "sublime-LSP.sublime-settings").read_text()))
    assert sublime["clients"]["qwen-lsp"]["command"] == ["qwen-lsp"]
    kate = json.loads((OTHER / "kate-lspclient.json").read_text())
    assert all(s["command"] == ["qwen-lsp"] for s in kate["servers"].values())


def test_emacs_eglot_is_balanced_lisp_naming_the_server():
    text = (OTHER / "emacs-eglot.el").read_text()
    code = re.sub(r";[^\n]*", "", re.sub(r'"(\\.|[^"\\])*"', '""', text))
    depth = 0
    for char in code:
        depth += {"(": 1, ")": -1}.get(char, 0)
        assert depth >= 0
    assert depth == 0
    assert '("qwen-lsp")' in text and "eglot-server-programs" in text


def test_the_readme_shows_each_configuration_as_it_is():
    readme = (ROOT / "README.md").read_text()
    for path in OTHER.iterdir():
        assert path.read_text().strip() in readme, f"README is missing {path.name}"
