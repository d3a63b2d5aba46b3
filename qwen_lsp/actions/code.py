"""The code in a model's answer, and its indentation in the document."""

from __future__ import annotations

import re
import textwrap

_FENCE_RE = re.compile(r"```[^\n`]*\n(.*?)(?:^[ \t]*```|\Z)", re.S | re.M)


def extract_code(answer: str) -> str | None:
    """The code of a model answer: its first fenced block, else the bare answer."""
    match = _FENCE_RE.search(answer)
    if match:
        code = match.group(1)
    elif "```" in answer:
        return None
    else:
        code = answer
    code = code.strip("\n")
    return code if code.strip() else None


def reindent(code: str, indent: str) -> str:
    """Dedent the model's code, then give every non-blank line the original indent."""
    code = textwrap.dedent(code)
    if not indent:
        return code
    return "\n".join(indent + line if line.strip() else line for line in code.split("\n"))
