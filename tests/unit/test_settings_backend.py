"""The team-backend settings, and how the runtime swaps engines when they change.

Runtime tests use FakeEngine (named as fake) behind the runtime's two factories: the
embedded one must not be reached at all while the backend is "openai".
"""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

import pytest

import qwen_lsp
from qwen_lsp import runtime as runtime_module
from qwen_lsp.actions.errors import ActionError
from qwen_lsp.engine.base import EngineError
from qwen_lsp.engine.fake import FakeEngine
from qwen_lsp.engine.openai import ServedModel
from qwen_lsp.runtime import Runtime
from qwen_lsp.settings import Settings, parse_settings

MESSAGES = [{"role": "user", "content": "hello"}]


# -- parsing ------------------------------------------------------------------------------


def test_defaults_match_the_interface():
    s = Settings()
    assert (s.backend, s.openai_base_url, s.openai_model) == ("embedded", "", "")
    assert (s.openai_api_key_env, s.openai_timeout_seconds, s.prefill) == (
        "QWEN_LSP_API_KEY", 60.0, "idle")


def test_openai_keys_are_read_nested_and_dotted():
    values = {"baseUrl": "http://gpu-box:8000/v1", "model": "Qwen/Qwen2.5-Coder-7B-Instruct",
              "apiKeyEnv": "TEAM_KEY", "timeoutSeconds": 30}
    nested, problems = parse_settings({"backend": "openai", "openai": values})
    dotted, problems2 = parse_settings({"backend": "openai",
                                        **{f"openai.{k}": v for k, v in values.items()}})
    assert problems == problems2 == []
    assert nested == dotted
    assert (nested.backend, nested.openai_base_url, nested.openai_model) == (
        "openai", "http://gpu-box:8000/v1", "Qwen/Qwen2.5-Coder-7B-Instruct")
    assert (nested.openai_api_key_env, nested.openai_timeout_seconds) == ("TEAM_KEY", 30.0)


def test_prefill_takes_its_three_values():
    for value in ("idle", "menu", "off"):
        assert parse_settings({"prefill": value}) == (Settings(prefill=value), [])
    s, problems = parse_settings({"prefill": "always"})
    assert s.prefill == "idle"
    assert problems == ['setting qwenLsp.prefill = \'always\' is not valid (expected "idle", '
                        '"menu" or "off"); using the default \'idle\'']


def test_bad_backend_values_keep_the_default_and_say_why():
    s, problems = parse_settings({"backend": "vllm", "openai.baseUrl": "gpu-box:8000",
                                  "openai.timeoutSeconds": 0, "openai.model": 7})
    assert (s.backend, s.openai_base_url, s.openai_timeout_seconds, s.openai_model) == (
        "embedded", "", 60.0, "")
    assert len(problems) == 4
    assert any("qwenLsp.backend = 'vllm'" in p and '"embedded" or "openai"' in p
               for p in problems)
    assert any("qwenLsp.openai.baseUrl" in p and "http:// or https://" in p for p in problems)
    assert any("qwenLsp.openai.timeoutSeconds" in p and "from 1 to 3600" in p for p in problems)


def test_a_key_given_where_a_variable_name_belongs_is_never_repeated():
    s, problems = parse_settings({"openai": {"apiKeyEnv": "sk-live-abc123"}})
    assert s.openai_api_key_env == "QWEN_LSP_API_KEY"
    assert len(problems) == 1 and "sk-live-abc123" not in problems[0]
    assert "qwenLsp.openai.apiKeyEnv" in problems[0] and "NAME of an environment" in problems[0]


def test_a_key_given_as_a_setting_is_refused_with_a_hint_and_not_repeated():
    s, problems = parse_settings({"openai": {"apiKey": "sk-live-abc123"}})
    assert s == Settings()
    assert len(problems) == 1 and "sk-live-abc123" not in problems[0]
    assert "never read from the settings" in problems[0] and "apiKeyEnv" in problems[0]


def test_removed_backend_keys_go_back_to_their_defaults():
    base, _ = parse_settings({"backend": "openai", "openai.baseUrl": "http://h:1/v1"})
    s, _ = parse_settings({"backend": None, "openai": {"baseUrl": None}}, base)
    assert (s.backend, s.openai_base_url) == ("embedded", "")


# -- the runtime: choosing and swapping engines ------------------------------------------------


class Factories:
    """Both engine factories, faked: they record what they were asked to make."""

    def __init__(self) -> None:
        self.embedded: list[Path] = []
        self.remote: list[Settings] = []
        self.remote_error: Exception | None = None

    def make_embedded(self, path: Path, settings: Settings) -> FakeEngine:
        self.embedded.append(path)
        return FakeEngine(answer="embedded answer")

    def make_remote(self, settings: Settings) -> tuple[FakeEngine, ServedModel]:
        self.remote.append(settings)
        if self.remote_error is not None:
            raise self.remote_error
        served = ServedModel(settings.openai_base_url, settings.openai_model or "first",
                             "f1ngerpr1nt")
        return FakeEngine(answer=f"remote answer from {served.name}"), served


@pytest.fixture
def gguf(tmp_path: Path) -> Path:
    path = tmp_path / "model.gguf"
    path.write_bytes(b"GGUF" + b"\0" * 60)
    return path


REMOTE = Settings(backend="openai", openai_base_url="http://gpu-box:8000/v1",
                  openai_model="coder-7b")


async def _answer(runtime: Runtime) -> str:
    await runtime.worker.wait_ready()
    return await runtime.worker.run(await runtime.model_id(), MESSAGES, runtime.gen_params())


async def test_the_openai_backend_never_resolves_the_embedded_model(monkeypatch):
    def no_model(*_args: object) -> Path:
        raise AssertionError("the embedded model was resolved")

    monkeypatch.setattr(runtime_module, "resolve_model", no_model)
    fakes = Factories()
    runtime = Runtime(REMOTE, engine_factory=fakes.make_embedded,
                      remote_factory=fakes.make_remote)
    try:
        runtime.start_model()
        assert await runtime.model_id() == "openai|http://gpu-box:8000/v1|coder-7b|f1ngerpr1nt"
        assert await _answer(runtime) == "remote answer from coder-7b"
        assert fakes.embedded == []
        model = runtime.status()["model"]
        assert runtime.status()["version"] == qwen_lsp.__version__  # which server answers
        assert model["backend"] == "openai" and model["name"] == "coder-7b"
        assert model["baseUrl"] == "http://gpu-box:8000/v1" and model["state"] == "ready"
        assert model["path"] is None and model["sha256"] is None
    finally:
        runtime.shutdown()


async def test_switching_backend_and_openai_settings_applies_without_a_restart(gguf):
    fakes = Factories()
    runtime = Runtime(Settings(model_path=str(gguf)), engine_factory=fakes.make_embedded,
                      remote_factory=fakes.make_remote)
    try:
        runtime.start_model()
        embedded_id = await runtime.model_id()
        assert len(embedded_id) == 64  # the GGUF's sha256, as before: old caches stay valid
        assert runtime.status()["model"]["backend"] == "embedded"
        assert await _answer(runtime) == "embedded answer"

        runtime.apply_settings(REMOTE)
        assert await _answer(runtime) == "remote answer from coder-7b"
        remote_id = await runtime.model_id()

        runtime.apply_settings(dataclasses.replace(REMOTE, openai_model="coder-32b"))
        assert await _answer(runtime) == "remote answer from coder-32b"
        assert await runtime.model_id() not in (embedded_id, remote_id)

        # the embedded model's own settings do not matter to the server backend...
        runtime.apply_settings(dataclasses.replace(REMOTE, openai_model="coder-32b",
                                                   threads=1, context_size=2048))
        assert len(fakes.remote) == 2
        # ...and back to the embedded model, whose id has not changed
        runtime.apply_settings(Settings(model_path=str(gguf)))
        assert await _answer(runtime) == "embedded answer"
        assert await runtime.model_id() == embedded_id
        assert len(fakes.embedded) == 2
    finally:
        runtime.shutdown()


async def test_openai_settings_do_not_reload_the_embedded_model(gguf):
    fakes = Factories()
    runtime = Runtime(Settings(model_path=str(gguf)), engine_factory=fakes.make_embedded,
                      remote_factory=fakes.make_remote)
    try:
        runtime.start_model()
        await _answer(runtime)
        runtime.apply_settings(Settings(model_path=str(gguf), openai_model="x",
                                        openai_base_url="http://h:1/v1"))
        await _answer(runtime)
        assert len(fakes.embedded) == 1 and fakes.remote == []
    finally:
        runtime.shutdown()


async def test_an_unreachable_server_is_an_error_and_the_next_request_asks_again():
    fakes = Factories()
    fakes.remote_error = EngineError("cannot reach the model server at http://gpu-box:8000/v1")
    runtime = Runtime(REMOTE, remote_factory=fakes.make_remote)
    shown: list[str] = []
    runtime.on_model_error = shown.append
    try:
        runtime.start_model()
        with pytest.raises(ActionError, match="cannot reach the model server"):
            await runtime.model_id()
        await asyncio.sleep(0.05)
        assert runtime.status()["model"]["state"] == "error"
        assert len(shown) == 1  # the load failure was shown once, not per retry
        fakes.remote_error = None  # the server is back: no restart, no settings change
        assert await runtime.model_id() == "openai|http://gpu-box:8000/v1|coder-7b|f1ngerpr1nt"
        assert await _answer(runtime) == "remote answer from coder-7b"
        assert len(shown) == 1
    finally:
        runtime.shutdown()
