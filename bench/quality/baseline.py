"""The baseline: the raw model through llama-cpp-python, with a naive prompt.

Same GGUF as the server (the embedded model), 2 threads, a 4096-token context,
greedy decoding, the same output budget as the server's default (768 tokens). The
first fenced code block of the answer is spliced over the function, re-indented to
the function's indentation; nothing else is checked or repaired. For rewrites the
generation stops when that first block is closed (what follows is never used), so
the baseline's latency is the time to a usable block.
"""

from __future__ import annotations

import re
import textwrap
import time
from typing import Any

LANGUAGE_NAMES = {"python": "Python", "javascript": "JavaScript"}
FENCE = re.compile(r"```[^\n`]*\n(.*?)(?:```|\Z)", re.S)
CLOSED_BLOCK = re.compile(r"```[^\n`]*\n.*?\n```", re.S)


class RawModel:
    def __init__(self, max_tokens: int = 768) -> None:
        from llama_cpp import Llama

        from qwen_lsp.engine.model import resolve_model

        self.llm = Llama(model_path=str(resolve_model(None)), n_threads=2, n_ctx=4096,
                         verbose=False)
        self.max_tokens = max_tokens

    def chat(self, prompt: str, until_first_block: bool = False) -> tuple[str, float]:
        """Greedy chat completion. With `until_first_block`, generation stops once the
        first fenced code block is closed: the rest of the answer is never used, and
        greedy decoding makes the block the same as in the full answer."""
        start = time.perf_counter()
        text = ""
        for chunk in self.llm.create_chat_completion(
                messages=[{"role": "user", "content": prompt}], temperature=0.0,
                max_tokens=self.max_tokens, stream=True):
            text += chunk["choices"][0]["delta"].get("content") or ""
            if until_first_block and CLOSED_BLOCK.search(text):
                break
        return text, time.perf_counter() - start


def prompt_for(action: str, language: str, code: str, answer_language: str = "en") -> str:
    lang = LANGUAGE_NAMES[language]
    fence = language
    if action == "refactor":
        return f"Refactor this {lang} function:\n```{fence}\n{code}\n```"
    if action == "async":
        return f"Convert this function to async:\n```{fence}\n{code}\n```"
    if answer_language == "zh":
        return f"用中文解释这个函数：\n```{fence}\n{code}\n```"
    return f"Explain this {lang} function:\n```{fence}\n{code}\n```"


def first_code_block(answer: str) -> str | None:
    m = FENCE.search(answer)
    return m.group(1).rstrip("\n") if m else None


def splice(source: str, first_line: int, end_line: int, code: str) -> str:
    """Replace 1-based lines first_line..end_line with `code`, at their indentation."""
    lines = source.splitlines(keepends=True)
    old = lines[first_line - 1]
    indent = old[: len(old) - len(old.lstrip())]
    body = textwrap.indent(textwrap.dedent(code), indent).rstrip("\n") + "\n"
    return "".join(lines[: first_line - 1]) + body + "".join(lines[end_line:])


def baseline_case(model: RawModel, action: str, case: dict[str, Any], source: str,
                  answer_language: str = "en") -> dict[str, Any]:
    lines = source.splitlines()
    code = "\n".join(lines[case["first_line"] - 1: case["end_line"]])
    answer, seconds = model.chat(prompt_for(action, case["language"], textwrap.dedent(code),
                                            answer_language),
                                 until_first_block=action != "explain")
    out: dict[str, Any] = {"answer": answer, "seconds": seconds}
    if action != "explain":
        block = first_code_block(answer)
        out["new_source"] = None if block is None else splice(
            source, case["first_line"], case["end_line"], block)
    return out
