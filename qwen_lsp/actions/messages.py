"""Chat messages for each action, built from the prompt templates."""

from __future__ import annotations

from pathlib import PurePath

from qwen_lsp.actions.action import Action
from qwen_lsp.actions.language import section_labels
from qwen_lsp.actions.prompts import PromptStore, placeholders
from qwen_lsp.actions.span import Source, Span
from qwen_lsp.syntax.context import Context

Messages = list[dict[str, str]]


def context_text(context: Context | None) -> str:
    """The context block of a prompt: imports, the enclosing class, called signatures."""
    if context is None:
        return ""
    parts: list[str] = []
    if context.imports.strip():
        parts.append("The file imports:\n" + context.imports.strip())
    if context.class_header:
        parts.append("It is inside: " + context.class_header.strip())
    if context.called_signatures:
        parts.append("Functions of the same file it calls:\n"
                     + "\n".join(s.strip() for s in context.called_signatures))
    if not parts:
        return ""
    return "Context from the same file, for reference only (do not repeat it):\n" \
        + "\n".join(parts) + "\n\n"


def file_name(path: str) -> str:
    return PurePath(path).name or path


def _values(source: Source, span: Span) -> dict[str, str]:
    target = span.target
    kind = target.kind if target.kind != "selection" else "code"
    return {
        "language": source.language_label,
        "fence": source.fence,
        "kind": kind,
        "name": target.name or "",
        "subject": f"{kind} `{target.name}`" if target.name else "code",
        # the answer's first words name what it explains ("`total` ...")
        "subject_ref": f" `{target.name}`" if target.name else "",
        "params": ", ".join(target.params) if target.params else "none",
        "file_name": file_name(source.path),
        "context": context_text(span.context),
        "code": span.code,
    }


def explain_messages(prompts: PromptStore, source: Source, span: Span,
                     answer_language: str) -> Messages:
    values = _values(source, span) | _language_values(answer_language)
    messages = [
        {"role": "system", "content": prompts.render("system", values)},
        {"role": "user", "content": prompts.render("explain.user", values)},
    ]
    # The answer's first words, written for the model: a small model keeps the
    # requested form far more reliably when it only has to continue it.
    start = prompts.render("explain.answer", values)
    if start.strip():
        messages.append({"role": "assistant", "content": start})
    return messages


def _language_values(answer_language: str) -> dict[str, str]:
    return {"answer_language": answer_language} | section_labels(answer_language)


def shared_prefix(prompts: PromptStore, answer_language: str) -> Messages | None:
    """The start every action's prompt shares, to evaluate ahead of any request: the
    system message (one for all actions, in one answer language; each action's request
    comes after the code). None when a user's template makes it depend on the code."""
    values = _language_values(answer_language)
    if placeholders(prompts.get("system")) - set(values):
        return None
    return [{"role": "system", "content": prompts.render("system", values)}]


def answer_start(messages: Messages) -> str:
    """The part of the answer that the prompt wrote (a trailing assistant message)."""
    return messages[-1]["content"] if messages and messages[-1]["role"] == "assistant" else ""


def rewrite_messages(prompts: PromptStore, action: Action, source: Source, span: Span, *,
                     code: str | None = None, improvements: str = "",
                     answer_language: str = "English") -> Messages:
    """`code`: what the model starts from, if not the span's own code (a version that
    rules already improved); `improvements`: the list of what to improve, if known;
    `answer_language`: named by the system message, which all actions share."""
    values = _values(source, span) | _language_values(answer_language)
    if code is not None:
        values["code"] = code
    values["improvements"] = prompts.render(
        "refactor.findings" if improvements else "refactor.general",
        values | {"findings": improvements})
    if action is Action.CONVERT_TO_ASYNC:
        family = "python" if source.spec is not None and source.spec.name == "python" \
            else "javascript"
        values["rules"] = prompts.get(f"async.rules.{family}")
    return [
        {"role": "system", "content": prompts.render("system", values)},
        {"role": "user", "content": prompts.render(f"{action.id}.user", values)},
    ]


def repair_messages(prompts: PromptStore, first: Messages, answer: str, problems: list[str],
                    source: Source, span: Span) -> Messages:
    values = _values(source, span) | {"problems": "; ".join(problems)}
    return first + [
        {"role": "assistant", "content": answer},
        {"role": "user", "content": prompts.render("repair.user", values)},
    ]
