"""Lifecycle and settings: initialize, initialized, configuration changes."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from lsprotocol import types

from qwen_lsp.settings import Settings, parse_settings

if TYPE_CHECKING:
    from qwen_lsp.server import QwenServer

log = logging.getLogger(__name__)


def _settings_object(raw: Any) -> Any:
    """initializationOptions may carry the settings directly or under ``qwenLsp``."""
    if isinstance(raw, dict) and isinstance(raw.get("qwenLsp"), dict):
        return raw["qwenLsp"]
    return raw


def apply(ls: QwenServer, raw: Any) -> None:
    """Client settings over those of initializationOptions: a key the client no
    longer sends goes back to its initial value, without a restart."""
    new, problems = parse_settings(_settings_object(raw), ls.init_settings)
    for problem in problems:
        ls.notify_user("qwen-lsp: " + problem, types.MessageType.Warning)
    ls.runtime.apply_settings(new)
    for doc in ls.documents.values():
        doc.set_max_file_bytes(new.max_file_bytes)


async def pull_configuration(ls: QwenServer) -> None:
    caps = ls.client_capabilities.workspace
    if not (caps and caps.configuration):
        return
    try:
        result = await ls.workspace_configuration_async(
            types.ConfigurationParams(items=[types.ConfigurationItem(section="qwenLsp")]))
    except Exception as exc:  # a client that fails this request must not stop us
        log.warning("workspace/configuration failed: %s", exc)
        return
    if result and result[0] is not None:
        apply(ls, result[0])


def register(server: QwenServer) -> None:
    @server.feature(types.INITIALIZE)
    def initialize(ls: QwenServer, params: types.InitializeParams) -> None:
        if getattr(ls, "_initialize_seen", False):
            # LSP allows one initialize; a second one must not build a second runtime
            # (its worker thread and cache connection would leak, one per request)
            log.warning("initialize received again: ignored (the session keeps its settings)")
            return
        ls._initialize_seen = True  # type: ignore[attr-defined]
        ls.client_locale = params.locale
        options = params.initialization_options
        settings, problems = parse_settings(_settings_object(options), Settings())
        for problem in problems:
            ls.notify_user("qwen-lsp: " + problem, types.MessageType.Warning)
        ls.init_settings = settings
        ls.loop_ref = asyncio.get_running_loop()
        ls.start_runtime(settings)

    @server.feature(types.INITIALIZED)
    async def initialized(ls: QwenServer, params: types.InitializedParams) -> None:
        await pull_configuration(ls)  # first: a modelPath may come only from there
        if not ls.runtime.model_started:  # a command may have started it meanwhile
            ls.runtime.start_model()

    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    async def did_change_configuration(ls: QwenServer,
                                       params: types.DidChangeConfigurationParams) -> None:
        caps = ls.client_capabilities.workspace
        if caps and caps.configuration:
            await pull_configuration(ls)
        elif isinstance(params.settings, dict) and "qwenLsp" in params.settings:
            apply(ls, params.settings["qwenLsp"])

    @server.feature(types.SHUTDOWN)
    def shutdown(ls: QwenServer, *args: Any) -> None:
        # Answered at once, before any `exit`: the engine's thread is told to stop and
        # given a moment (it is a daemon thread; exit ends it anyway).
        ls.runtime.shutdown(timeout=0.5)
