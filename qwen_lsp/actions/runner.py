"""Run an action: cache lookup, model call, checks, one repair, cache store.

Used by the language server and by the one-shot CLI alike, so both take the
same path. Nothing here knows about LSP.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from qwen_lsp.actions.action import Action
from qwen_lsp.actions.asyncify import rule_based_async
from qwen_lsp.actions.code import extract_code
from qwen_lsp.actions.errors import ActionError
from qwen_lsp.actions.messages import (
    Messages,
    answer_start,
    explain_messages,
    repair_messages,
    rewrite_messages,
)
from qwen_lsp.actions.prompts import PromptStore
from qwen_lsp.actions.rewrite import Plan, plan_rewrite
from qwen_lsp.actions.span import Source, Span
from qwen_lsp.cache import ResultCache, cache_key
from qwen_lsp.engine.base import GenParams
from qwen_lsp.engine.worker import EngineWorker

log = logging.getLogger(__name__)

# Bump when the meaning of a cached value changes.
RESULT_FORMAT = "1"

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

    async def explain(self, source: Source, span: Span, language: str, params: GenParams,
                      on_text: OnText) -> ExplainOutcome:
        messages = explain_messages(self.prompts, source, span, language)
        key = await self._key(Action.EXPLAIN.id, messages, params)
        hit = self._lookup(key, params)
        if hit is not None and isinstance(hit.get("markdown"), str):
            return ExplainOutcome(markdown=hit["markdown"], cached=True)
        start = answer_start(messages)
        if start:
            on_text(start)
        answer = await self.worker.run(key, messages, params, on_text)
        markdown = _clean_markdown(start + answer)
        if not markdown:
            raise ActionError("the model returned an empty explanation; try again, or select "
                              "less code")
        self._store(key, {"markdown": markdown}, params)
        return ExplainOutcome(markdown=markdown, cached=False)

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
                      on_text: OnText) -> RewriteOutcome:
        code = rule_based_async(source, span) if action is Action.CONVERT_TO_ASYNC else None
        if code is not None:
            plan, problems = await asyncio.to_thread(plan_rewrite, action, source, span, code)
            if plan is not None:
                notes = ["converted by exact rules (time.sleep -> await asyncio.sleep): "
                         "no model needed", *plan.notes]
                return RewriteOutcome(plan=plan, cached=False, notes=notes)
            log.warning("rule-based async conversion failed its checks (%s); asking the model",
                        problems)
        messages = rewrite_messages(self.prompts, action, source, span)
        key = await self._key(action.id, messages, params)
        hit = self._lookup(key, params)
        if hit is not None and isinstance(hit.get("code"), str):
            plan, problems = await asyncio.to_thread(plan_rewrite, action, source, span,
                                                     hit["code"])
            if plan is not None:
                return RewriteOutcome(plan=plan, cached=True, notes=plan.notes)
            log.info("cached %s result no longer fits the document: %s", action.id, problems)

        answer = await self.worker.run(key, messages, params, on_text)
        plan, problems, code = await asyncio.to_thread(self._check, action, source, span,
                                                       answer, True)
        if plan is None:
            log.info("%s answer rejected (%s); asking once more", action.id, "; ".join(problems))
            on_text("\n\n[qwen-lsp: the answer did not pass the checks; asking once more]\n\n")
            retry = repair_messages(self.prompts, messages, answer, problems, source, span)
            retry_key = await self._key(action.id + ":repair", retry, params)
            answer = await self.worker.run(retry_key, retry, params, on_text)
            plan, problems, code = await asyncio.to_thread(self._check, action, source, span,
                                                           answer, False)
        if plan is None:
            raise ActionError("the model's answer did not pass the checks, so nothing was "
                              "applied: " + "; ".join(problems))
        self._store(key, {"code": code}, params)
        return RewriteOutcome(plan=plan, cached=False, notes=plan.notes)

    @staticmethod
    def _check(action: Action, source: Source, span: Span, answer: str,
               first: bool) -> tuple[Plan | None, list[str], str]:
        """Plan the answer's edits; on the first try an unchanged answer is sent back."""
        code = extract_code(answer)
        if code is None:
            return None, ["the answer held no code block"], ""
        plan, problems = plan_rewrite(action, source, span, code)
        if first and plan is not None and not plan.edits:
            return None, ["it is the original code, unchanged: apply the improvements"], code
        return plan, problems, code


_LABEL_LINE = re.compile(r"\n+(?=\*\*[^*\n]{1,40}:?\*\*)")


def _clean_markdown(answer: str) -> str:
    text = answer.strip()
    if text.startswith("```markdown") and text.endswith("```"):
        text = text[len("```markdown"):-3].strip()
    # "**Inputs:** ..." lines each start a paragraph (one line break renders as a space)
    return _LABEL_LINE.sub("\n\n", text)
