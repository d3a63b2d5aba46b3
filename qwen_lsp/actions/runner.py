"""Run an action: cache lookup, model call, checks, one repair, cache store.

Used by the language server and by the one-shot CLI alike, so both take the
same path. Nothing here knows about LSP.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from qwen_lsp.actions.action import Action
from qwen_lsp.actions.asyncify import rule_based_async
from qwen_lsp.actions.checks import Checked, check_candidate
from qwen_lsp.actions.code import extract_code
from qwen_lsp.actions.errors import ActionError
from qwen_lsp.actions.improve import Finding, lint_python
from qwen_lsp.actions.language import section_labels
from qwen_lsp.actions.messages import (
    Messages,
    answer_start,
    explain_messages,
    repair_messages,
    rewrite_messages,
)
from qwen_lsp.actions.prompts import PromptStore
from qwen_lsp.actions.rewrite import Plan
from qwen_lsp.actions.span import Source, Span
from qwen_lsp.cache import ResultCache, cache_key
from qwen_lsp.engine.base import GenParams
from qwen_lsp.engine.worker import EngineWorker

log = logging.getLogger(__name__)

# Bump when the meaning of a cached value changes.
RESULT_FORMAT = "2"

OnText = Callable[[str], None]


@dataclass
class ExplainOutcome:
    markdown: str
    cached: bool


@dataclass
class RewriteOutcome:
    plan: Plan
    cached: bool
    notes: list[str] = field(default_factory=list)


class Assistant:
    """The actions, given a worker, a cache and the prompts."""

    def __init__(self, worker: EngineWorker, prompts: PromptStore,
                 cache: ResultCache | None, model_id: Callable[[], Awaitable[str]]) -> None:
        self.worker = worker
        self.prompts = prompts
        self.cache = cache
        self._model_id = model_id

    async def _key(self, action: str, messages: Messages, params: GenParams) -> str:
        """The cache key; `action` is an action id, or one with a suffix (`refactor:repair`)."""
        return cache_key(
            format=RESULT_FORMAT, model=await self._model_id(), action=action,
            messages=json.dumps(messages, ensure_ascii=False, sort_keys=True),
            max_tokens=params.max_tokens, temperature=params.temperature,
        )

    def _lookup(self, key: str, params: GenParams) -> dict | None:
        if self.cache is None or params.temperature > 0:
            return None
        return self.cache.get(key)

    def _store(self, key: str, value: dict, params: GenParams) -> None:
        if self.cache is not None and params.temperature == 0:
            self.cache.put(key, value)

    async def cached_explain(self, source: Source, span: Span, language: str,
                             params: GenParams) -> ExplainOutcome | None:
        """The cached explanation, if there is one (nothing is generated)."""
        messages = explain_messages(self.prompts, source, span, language)
        hit = self._lookup(await self._key(Action.EXPLAIN.id, messages, params), params)
        if hit is not None and isinstance(hit.get("markdown"), str):
            return ExplainOutcome(markdown=hit["markdown"], cached=True)
        return None

    async def explain(self, source: Source, span: Span, language: str, params: GenParams,
                      on_text: OnText) -> ExplainOutcome:
        messages = explain_messages(self.prompts, source, span, language)
        key = await self._key(Action.EXPLAIN.id, messages, params)
        hit = self._lookup(key, params)
        if hit is not None and isinstance(hit.get("markdown"), str):
            return ExplainOutcome(markdown=hit["markdown"], cached=True)
        labels = _form_labels(messages, language)
        if not self.worker.continues_answers:
            # a server that may start its answer afresh gets only the first label to
            # continue (as the model would write it), and one generation
            if labels and answer_start(messages).startswith(labels[0]):
                messages[-1] = {"role": "assistant", "content": labels[0]}
            labels = []
        start = answer_start(messages)
        if start:
            on_text(start)
        answer = await self._in_form(key, messages, labels, params, on_text)
        markdown = _clean_markdown(start + answer)
        if not markdown:
            raise ActionError("the model returned an empty explanation; try again, or select "
                              "less code")
        self._store(key, {"markdown": markdown}, params)
        return ExplainOutcome(markdown=markdown, cached=False)

    async def _in_form(self, key: str, messages: Messages, labels: list[str],
                       params: GenParams, on_text: OnText) -> str:
        """The answer, one part of the requested form at a time: the model writes what
        follows each bold label, up to the next one (or its share of the tokens), and
        the server writes the labels it skipped. A small model otherwise often stops
        after one paragraph. Without labels in the prompt, one plain generation."""
        if not labels or len(labels) < 2 or params.max_tokens < 2 * len(labels):
            return await self.worker.run(key, messages, params, on_text)
        start = messages[-1]["content"] if messages[-1]["role"] == "assistant" else ""
        share = max(16, params.max_tokens // len(labels))
        stop = (*params.stop, "\n**")
        text = ""
        for index, label in enumerate(labels):
            if index > 0:
                if label in start + text:  # the model wrote it: keep going after it
                    continue
                kept = text.rstrip()
                # a blank line before the label; the streamed text already ends with
                # the newlines the model wrote
                on_text("\n" * max(0, 2 - text[len(kept):].count("\n")) + label)
                text = kept + "\n\n" + label
            prompt = [*messages[:-1], {"role": "assistant", "content": start + text}] \
                if start or text else messages
            part = dataclasses.replace(params, stop=stop, max_tokens=share)
            text += await self.worker.run(f"{key}:{index}", prompt, part, on_text)
        return text

    async def prefill_explain(self, source: Source, span: Span, language: str,
                              params: GenParams) -> bool:
        """Evaluate the explain prompt ahead of time, unless its answer is cached.

        The engine drops this work the moment a real request arrives; when that
        request is this explain, its prompt is already evaluated.
        """
        messages = explain_messages(self.prompts, source, span, language)
        key = await self._key(Action.EXPLAIN.id, messages, params)
        if self._lookup(key, params) is not None:
            return False
        return self.worker.prefill(messages)

    async def rewrite(self, action: Action, source: Source, span: Span, params: GenParams,
                      on_text: OnText, language: str = "English") -> RewriteOutcome:
        """`language`: the answer language, which the shared system message names."""
        if action is Action.CONVERT_TO_ASYNC:
            return await self._convert_to_async(source, span, params, on_text, language)
        return await self._refactor(source, span, params, on_text, language)

    # -- convert to async ----------------------------------------------------------------

    async def _convert_to_async(self, source: Source, span: Span, params: GenParams,
                                on_text: OnText, language: str) -> RewriteOutcome:
        action = Action.CONVERT_TO_ASYNC
        conversion = rule_based_async(source, span)
        if conversion is not None:
            checked = await asyncio.to_thread(check_candidate, action, source, span,
                                              conversion.code)
            if checked.plan is not None:
                return RewriteOutcome(checked.plan, cached=False,
                                      notes=[*conversion.notes, *checked.notes])
            log.warning("the rule-based conversion failed its checks (%s); asking the model",
                        "; ".join(checked.problems))
        try:
            return await self._with_model(action, source, span, params, on_text,
                                          language=language)
        except ActionError as exc:
            fallback = rule_based_async(source, span, keep_promise_chains=True)
            if fallback is None:
                raise
            checked = await asyncio.to_thread(check_candidate, action, source, span,
                                              fallback.code)
            if checked.plan is None:
                raise
            notes = [f"the model's conversion was not used ({exc}); converted by exact rules "
                     "instead: `async` added and the promise chains kept, which gives the "
                     "same results", *fallback.notes[1:], *checked.notes]
            return RewriteOutcome(checked.plan, cached=False, notes=notes)

    # -- refactor ------------------------------------------------------------------------

    async def _refactor(self, source: Source, span: Span, params: GenParams,
                        on_text: OnText, language: str) -> RewriteOutcome:
        """ruff's fixes by rule where they keep behaviour, the model for the rest."""
        action = Action.REFACTOR
        is_python = source.spec is not None and source.spec.name == "python"
        by_rule: Checked | None = None
        base = span.code
        findings: list[Finding] = []
        if is_python:
            lint = await asyncio.to_thread(lint_python, span.code)
            findings = lint.unfixed
            # unsafe fixes only where the behaviour check ran and found the same results
            for candidate, must_be_checked in ((lint.unsafe_code, True),
                                               (lint.safe_code, False)):
                if candidate is None:
                    continue
                checked = await asyncio.to_thread(check_candidate, action, source, span,
                                                  candidate)
                if checked.plan is None or checked.unchanged or \
                        (must_be_checked and not checked.behaviour_checked):
                    continue
                by_rule, base = checked, candidate
                findings = (await asyncio.to_thread(lint_python, candidate)).unfixed
                break
        if by_rule is not None and not findings:
            return RewriteOutcome(by_rule.plan, cached=False,  # type: ignore[arg-type]
                                  notes=[_RULES_NOTE, *by_rule.notes])
        # Keep only a behaviour-checked rewrite where a checker exists but could not run
        # (JavaScript/TypeScript), or where nothing specific was asked for (Python).
        checkable = source.spec is not None and source.spec.name in _CHECKED_LANGUAGES
        try:
            outcome = await self._with_model(action, source, span, params, on_text,
                                             base=base, findings=findings, language=language,
                                             strict=checkable and (not is_python or not findings))
        except ActionError as exc:
            if by_rule is None:
                raise
            return RewriteOutcome(by_rule.plan, cached=False,  # type: ignore[arg-type]
                                  notes=[_RULES_NOTE, f"the model's further changes were not "
                                         f"used: {exc}", *by_rule.notes])
        if by_rule is not None and not outcome.plan.edits:
            return RewriteOutcome(by_rule.plan, cached=False,  # type: ignore[arg-type]
                                  notes=[_RULES_NOTE, *by_rule.notes])
        return outcome

    # -- the model -----------------------------------------------------------------------

    async def _with_model(self, action: Action, source: Source, span: Span, params: GenParams,
                          on_text: OnText, *, base: str | None = None,
                          findings: list[Finding] | None = None,
                          strict: bool = False, language: str = "English") -> RewriteOutcome:
        """Ask the model, check its answer, repair once with the problems fed back.

        `base`: the code the model starts from (the span's, or ruff's fixed version);
        `findings`: what it is asked to improve; `strict`: keep only a rewrite whose
        behaviour was checked (a general refactor with nothing specific to fix).
        """
        improvements = "\n".join(f"- {f.describe()}" for f in findings or [])
        messages = rewrite_messages(self.prompts, action, source, span, code=base,
                                    improvements=improvements, answer_language=language)
        key = await self._key(action.id, messages, params)
        hit = self._lookup(key, params)
        if hit is not None and isinstance(hit.get("code"), str):
            checked = await asyncio.to_thread(check_candidate, action, source, span,
                                              hit["code"])
            if checked.plan is not None:
                return RewriteOutcome(plan=checked.plan, cached=True, notes=checked.notes)
            log.info("cached %s result no longer fits the document: %s", action.id,
                     checked.problems)

        # a rewrite mostly copies its input: the engine may draft tokens from the prompt's
        # code (the same text as plain greedy decoding, in fewer model steps)
        params = dataclasses.replace(params, draft_from_prompt=True)
        answer = await self.worker.run(key, messages, params, on_text)
        checked, code = await asyncio.to_thread(self._check_answer, action, source, span,
                                                answer, strict)
        if checked.plan is None:
            log.info("%s answer rejected (%s); asking once more", action.id,
                     "; ".join(checked.problems))
            on_text("\n\n[qwen-lsp: the answer did not pass the checks; asking once more]\n\n")
            retry = repair_messages(self.prompts, messages, answer, checked.problems, source,
                                    span)
            retry_key = await self._key(action.id + ":repair", retry, params)
            answer = await self.worker.run(retry_key, retry, params, on_text)
            checked, code = await asyncio.to_thread(self._check_answer, action, source, span,
                                                    answer, strict)
        if checked.plan is None:
            raise ActionError("the model's answer did not pass the checks, so nothing was "
                              "applied: " + "; ".join(checked.problems))
        if not checked.plan.edits:
            return RewriteOutcome(plan=checked.plan, cached=False,
                                  notes=checked.notes or [_NO_CHANGE])
        self._store(key, {"code": code}, params)
        return RewriteOutcome(plan=checked.plan, cached=False, notes=checked.notes)

    @staticmethod
    def _check_answer(action: Action, source: Source, span: Span, answer: str,
                      strict: bool) -> tuple[Checked, str]:
        code = extract_code(answer)
        if code is None:
            return Checked(None, ["the answer held no code block"]), ""
        checked = check_candidate(action, source, span, code)
        if strict and checked.plan is not None and checked.plan.edits and \
                not checked.behaviour_checked:
            reason = checked.behaviour.reason if checked.behaviour else "it was not checked"
            log.info("a general refactor that could not be behaviour-checked (%s) is not "
                     "applied", reason)
            unchanged = check_candidate(action, source, span, span.code, behaviour=False)
            unchanged.notes = [f"{_NO_CHANGE} (the model's suggestion could not be "
                               f"behaviour-checked: {reason})"]
            return unchanged, ""
        return checked, code


def _form_labels(messages: Messages, language: str) -> list[str]:
    """The bold labels of the answer form that the prompt asks for, in their order."""
    asked = "\n".join(m["content"] for m in messages if m["role"] != "assistant")
    labels = [f"**{label}:**" for label in section_labels(language).values()]
    found = [(asked.find(label), label) for label in labels if label in asked]
    return [label for _, label in sorted(found)]


_RULES_NOTE = "refactored by ruff's rules, no model needed"
_CHECKED_LANGUAGES = frozenset({"python", "javascript", "typescript", "tsx"})
_NO_CHANGE = "no improvement found: nothing was applied"


_LABEL_LINE = re.compile(r"\n+(?=\*\*[^*\n]{1,40}:?\*\*)")


def _clean_markdown(answer: str) -> str:
    text = answer.strip()
    if text.startswith("```markdown") and text.endswith("```"):
        text = text[len("```markdown"):-3].strip()
    # "**Inputs:** ..." lines each start a paragraph (one line break renders as a space)
    return _LABEL_LINE.sub("\n\n", text)
