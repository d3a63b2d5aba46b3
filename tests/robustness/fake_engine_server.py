"""The real qwen-lsp server over stdio, with the model replaced by the FakeEngine.

For plumbing tests that need many commands to reach "the model" quickly (fuzzing,
load, leaks). Everything but the engine is the product's own code: `qwen_lsp.cli`
serves, `Runtime` builds the worker, the cache and the assistant; only the factory
that would load llama.cpp returns a FakeEngine instead (named as fake). The model
path must still name a file that starts with ``GGUF`` (its sha256 keys the cache).

Environment: ``QWEN_FAKE_DELAY`` seconds before each streamed piece (default 0),
``QWEN_FAKE_PIECE`` characters per piece (default 8).

Run: ``python -m tests.robustness.fake_engine_server [CLI ARGS]`` from the repository
root (no arguments: ``serve``; e.g. ``explain FILE:LINE`` runs the one-shot CLI).
"""

from __future__ import annotations

import os
import re
import sys

from qwen_lsp import runtime
from qwen_lsp.engine.fake import FakeEngine

_BLOCK = re.compile(r"```[^\n]*\n(.*?)\n```", re.S)


def fake_answer(messages: list[dict[str, str]]) -> str:
    """A scripted answer: explanations are canned, rewrites echo the code, marked."""
    system = messages[0]["content"].lower() if messages else ""
    if "explain" in system or messages[-1]["role"] == "assistant":
        return " a fake explanation (FakeEngine).\n\n**Returns:** nothing real."
    user = next((m["content"] for m in reversed(messages) if m["role"] == "user"), "")
    blocks = _BLOCK.findall(user)
    code = blocks[-1] if blocks else "pass"
    first, _, rest = code.partition("\n")
    marked = f"{first}  # fake refactor\n{rest}" if rest else f"{first}  # fake refactor"
    return f"```\n{marked}\n```"


def _fake_factory(path: object, settings: object) -> FakeEngine:
    return FakeEngine(answer=fake_answer,
                      piece_size=int(os.environ.get("QWEN_FAKE_PIECE", "8")),
                      delay=float(os.environ.get("QWEN_FAKE_DELAY", "0")))


def main() -> int:
    runtime._llama_factory = _fake_factory  # type: ignore[assignment]
    from qwen_lsp.cli import main as cli_main

    return cli_main(sys.argv[1:] or ["serve"])


if __name__ == "__main__":
    raise SystemExit(main())
