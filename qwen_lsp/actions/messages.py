"""Chat messages for each action, built from the prompt templates."""

from __future__ import annotations

from qwen_lsp.actions.common import Source, Span, context_text, file_name
from qwen_lsp.actions.prompts import PromptStore

Messages = list[dict[str, str]]


def _values(source: Source, span: Span) -> dict[str, str]:
    target = span.target
    kind = target.kind if target.kind != "selection" else "code"
    return {
        "language": source.language_label,
        "fence": source.fence,
        "kind": kind,
        "name": target.name or "",
        "subject": f"{kind} `{target.name}`" if target.name else "code",
        "params": ", ".join(target.params) if target.params else "none",
        "file_name": file_name(source.path),
        "context": context_text(span.context),
        "code": span.code,
    }


def explain_messages(prompts: PromptStore, source: Source, span: Span,
                     answer_language: str) -> Messages:
    values = _values(source, span) | {"answer_language": answer_language}
    messages = [
        {"role": "system", "content": prompts.render("explain.system", values)},
        {"role": "user", "content": prompts.render("explain.user", values)},
    ]
    # The answer's first words, written for the model: a small model keeps the
    # requested form far more reliably when it only has to continue it.
    start = prompts.render("explain.answer", values)
    if start.strip():
        messages.append({"role": "assistant", "content": start})
    return messages


def answer_start(messages: Messages) -> str:
    """The part of the answer that the prompt wrote (a trailing assistant message)."""
    return messages[-1]["content"] if messages and messages[-1]["role"] == "assistant" else ""


def rewrite_messages(prompts: PromptStore, action: str, source: Source, span: Span) -> Messages:
    values = _values(source, span)
    if action == "async":
        family = "python" if source.spec is not None and source.spec.name == "python" \
            else "javascript"
        values["rules"] = prompts.get(f"async.rules.{family}")
    return [
        {"role": "system", "content": prompts.render(f"{action}.system", values)},
        {"role": "user", "content": prompts.render(f"{action}.user", values)},
    ]


def repair_messages(prompts: PromptStore, first: Messages, answer: str, problems: list[str],
                    source: Source, span: Span) -> Messages:
    values = _values(source, span) | {"problems": "; ".join(problems)}
    return first + [
        {"role": "assistant", "content": answer},
        {"role": "user", "content": prompts.render("repair.user", values)},
    ]
