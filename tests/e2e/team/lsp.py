"""Start the real qwen-lsp (audited) over stdio for the team-backend tests."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from tests.e2e.conftest import init_options
from tests.e2e.helpers import install_apply_edit_handler

AUDITED = Path(__file__).with_name("audited_server.py")
ROOT = Path(__file__).resolve().parents[3]


async def start_audited(tmp_path: Path, env: dict[str, str], audit: Path,
                        **options: object) -> LanguageClient:
    """The server process with its network audit log at ``audit``, initialized with
    VS Code's capabilities and the given settings."""
    env = dict(env, QWEN_LSP_NET_AUDIT=str(audit),
               PYTHONPATH=str(ROOT) + (":" + env["PYTHONPATH"] if env.get("PYTHONPATH") else ""))
    config = ClientServerConfig(server_command=[sys.executable, str(AUDITED)], server_env=env)
    client = await config.start()
    install_apply_edit_handler(client)
    await client.initialize_session(types.InitializeParams(
        capabilities=client_capabilities("visual-studio-code"),
        root_uri=tmp_path.as_uri(), locale="en",
        initialization_options=init_options(tmp_path, **options)))
    return client


def network_events(audit: Path) -> list[dict]:
    if not audit.exists():
        return []
    return [json.loads(line) for line in audit.read_text().splitlines() if line.strip()]
