"""Explain through the real `qwen-lsp` process over stdio, timed from the client's side.

One server process does the warm-up, then per repetition: a cold explain, the same
explain again (a cache hit), and a prefilled explain (codeAction first, a pause, then
the command). Then that process is shut down, and per repetition a fresh process on
the same cache directory answers an explain that is already cached.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
from bench_fixtures import EXPLAIN_FILE_NAME, explain_cursor, ledger_source
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

SERVER = [sys.executable, "-m", "qwen_lsp"]
NOT_MODEL_TEXT = {"Loading model…", "Thinking…"}
# The answer's first words are written by the prompt (prompts/explain.answer.txt: a bold
# label in the answer's language and the function's name) and streamed at once: the
# first token is the first text past them.
LABEL_ONLY = re.compile(r"\s*\*\*[^*\n]+:\*\*(\s*`[^`\n]*`)?\s*")
READY_TIMEOUT = 180.0
REQUEST_TIMEOUT = 300.0
SETTLE = 0.3  # seconds of quiet between measured requests

# Distinct literals per scenario, so every cold/prefilled request is a new cache key.
WARMUP_BATCH = 900
COLD_BATCH = 1000
PREFILLED_BATCH = 2000
LONG_WAIT_BATCH = 3000
AUTOMATIC_BATCH = 4000


@dataclass
class Explained:
    """One qwenLsp.explain request as the client saw it."""

    scenario: str
    batch: int
    first_token: float | None  # seconds from sending to the first report with model text
    total: float  # seconds from sending to the response
    text_reports: int  # $/progress reports that carried model text
    cached: bool
    markdown: str
    streamed: str = ""  # the text of the last $/progress report: what the user saw stream


@dataclass
class ServerRun:
    start_to_initialized: float = 0.0  # process start -> initialize answered
    start_to_ready: float = 0.0  # process start -> qwenLsp.status says "ready"
    logged_load_seconds: float | None = None  # the server's own "loaded ... in X s"
    rss_after_load: int = 0
    rss_after_work: int = 0
    peak_rss: int | None = None
    idle_cpu_percent: float = 0.0
    code_action: list[float] = field(default_factory=list)
    explains: list[Explained] = field(default_factory=list)
    restarts: list[Explained] = field(default_factory=list)
    restart_start_to_initialized: list[float] = field(default_factory=list)
    log_errors: list[str] = field(default_factory=list)  # error-level window/logMessage
    server_cpu_seconds: float = 0.0  # CPU used by all the server processes, over their lives
    other_cpu_percent: float = 0.0  # CPU of other processes on the machine meanwhile
    log_files: list[str] = field(default_factory=list)

    def of(self, scenario: str) -> list[Explained]:
        return [e for e in self.explains + self.restarts if e.scenario == scenario]


class BenchClient:
    """A pytest-lsp client on one server process that timestamps every $/progress."""

    def __init__(self, client: LanguageClient, started: float, log_path: Path,
                 run: ServerRun) -> None:
        self.client = client
        self.started = started
        self.log_path = log_path
        self.run = run
        self.progress: list[tuple[float, dict[str, Any]]] = []
        self.versions: dict[str, int] = {}
        self.applied_edits: list[Any] = []  # workspace/applyEdit requests (all accepted)
        self._drain: asyncio.Task[None] | None = None

    @classmethod
    async def start(cls, workdir: Path, env: dict[str, str], threads: int,
                    log_path: Path, run: ServerRun,
                    cache_directory: Path | None = None) -> tuple[BenchClient, float]:
        started = time.perf_counter()
        client = await ClientServerConfig(server_command=SERVER, server_env=env).start()
        self = cls(client, started, log_path, run)
        self._capture_stderr()
        self._time_progress()
        self._accept_edits()
        results = cache_directory or workdir / "results"
        await client.initialize_session(types.InitializeParams(
            capabilities=client_capabilities("visual-studio-code"),
            root_uri=workdir.as_uri(),
            locale="en",
            initialization_options={"cache": {"directory": str(results)}, "threads": threads},
        ))
        return self, time.perf_counter() - started

    def _accept_edits(self) -> None:
        """Answer workspace/applyEdit as an editor that applied the edit (rewrites wait
        for that answer); the client's copy of the text is not changed."""

        @self.client.feature(types.WORKSPACE_APPLY_EDIT)
        def apply_edit(params: types.ApplyWorkspaceEditParams) -> types.ApplyWorkspaceEditResult:
            self.applied_edits.append(params.edit)
            return types.ApplyWorkspaceEditResult(applied=True)

    def _capture_stderr(self) -> None:
        """The server's log goes to a file, not into the benchmark's output."""
        forwarder = getattr(self.client, "_stderr_forwarder", None)
        if forwarder is not None:
            forwarder.cancel()
        stream = self.client._server.stderr if self.client._server else None
        if stream is None:
            return

        async def drain() -> None:
            with self.log_path.open("ab") as out:
                while line := await stream.readline():
                    out.write(line)
                    out.flush()

        self._drain = asyncio.ensure_future(drain())

    def _time_progress(self) -> None:
        features = self.client.protocol.fm.features
        inner = features[types.PROGRESS]

        def timed(params: types.ProgressParams) -> Any:
            value = params.value if isinstance(params.value, dict) else {}
            self.progress.append((time.perf_counter(), dict(value)))
            return inner(params)

        features[types.PROGRESS] = timed

    @property
    def process(self) -> psutil.Process:
        assert self.client._server is not None
        return psutil.Process(self.client._server.pid)

    async def command(self, command: str, argument: dict | None) -> Any:
        params = types.ExecuteCommandParams(
            command=command, arguments=[argument] if argument is not None else [])
        return await asyncio.wait_for(
            self.client.workspace_execute_command_async(params), REQUEST_TIMEOUT)

    def send_command(self, command: str, argument: dict | None,
                     msg_id: str) -> asyncio.Future[Any]:
        """Send a command under our own request id (to cancel it later); its future."""
        params = types.ExecuteCommandParams(
            command=command, arguments=[argument] if argument is not None else [])
        future = self.client.protocol.send_request(types.WORKSPACE_EXECUTE_COMMAND, params,
                                                   msg_id=msg_id)
        return asyncio.wrap_future(future)

    def cancel(self, msg_id: str) -> None:
        self.client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id=msg_id))

    async def wait_ready(self) -> float:
        """Poll qwenLsp.status until the model is loaded; seconds since process start."""
        deadline = time.perf_counter() + READY_TIMEOUT
        while time.perf_counter() < deadline:
            status = await self.command("qwenLsp.status", None)
            state = status["model"]["state"]
            if state == "ready":
                return time.perf_counter() - self.started
            if state == "error":
                raise RuntimeError(f"the model failed to load: {status['model']['error']}")
            await asyncio.sleep(0.05)
        raise RuntimeError(f"the model was not ready after {READY_TIMEOUT:.0f} s")

    def open(self, uri: str, text: str, language_id: str = "python") -> None:
        self.versions[uri] = 1
        self.client.text_document_did_open(types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(uri=uri, language_id=language_id,
                                                 version=1, text=text)))

    def replace(self, uri: str, text: str) -> None:
        """A didChange with the whole new text (full sync: the server parses it afresh)."""
        self.versions[uri] += 1
        self.client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri,
                                                                version=self.versions[uri]),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)]))

    def type(self, uri: str, line: int, character: int, text: str) -> None:
        """A didChange inserting ``text`` at (line, UTF-16 character): one keystroke."""
        self.versions[uri] += 1
        at = types.Position(line=line, character=character)
        self.client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri,
                                                                version=self.versions[uri]),
            content_changes=[types.TextDocumentContentChangePartial(
                range=types.Range(start=at, end=at), text=text)]))

    @staticmethod
    def argument(uri: str, line: int, character: int) -> dict:
        position = {"line": line, "character": character}
        return {"textDocument": {"uri": uri}, "range": {"start": position, "end": position}}

    async def code_action(self, uri: str, line: int, character: int,
                          automatic: bool = False, started: float | None = None) -> float:
        """Seconds until the actions arrive (from ``started`` if given, e.g. the keystroke
        sent just before). ``automatic``: the trigger kind an editor sends on a cursor
        move (the server may then prefill after the cursor rests); otherwise none, as
        when the user opens the menu."""
        position = types.Position(line=line, character=character)
        trigger = types.CodeActionTriggerKind.Automatic if automatic else None
        started = time.perf_counter() if started is None else started
        actions = await asyncio.wait_for(self.client.text_document_code_action_async(
            types.CodeActionParams(
                text_document=types.TextDocumentIdentifier(uri=uri),
                range=types.Range(start=position, end=position),
                context=types.CodeActionContext(diagnostics=[], trigger_kind=trigger))),
            REQUEST_TIMEOUT)
        elapsed = time.perf_counter() - started
        titles = [getattr(a, "title", "") for a in actions or []]
        if "Ask AI to explain" not in titles:
            raise RuntimeError(f"codeAction did not offer the explain action: {titles}")
        return elapsed

    async def explain(self, scenario: str, batch: int, uri: str, line: int,
                      character: int) -> Explained:
        mark = len(self.progress)
        started = time.perf_counter()
        result = await self.command("qwenLsp.explain", self.argument(uri, line, character))
        total = time.perf_counter() - started
        events = self.progress[mark:]
        texts = [t for t, v in events if v.get("kind") == "report"
                 and v.get("message") and v["message"] not in NOT_MODEL_TEXT
                 and not LABEL_ONLY.fullmatch(v["message"])]
        reports = [v["message"] for _t, v in events
                   if v.get("kind") == "report" and v.get("message")
                   and v["message"] not in NOT_MODEL_TEXT]
        return Explained(scenario=scenario, batch=batch,
                         first_token=texts[0] - started if texts else None,
                         total=total, text_reports=len(texts), cached=bool(result["cached"]),
                         markdown=str(result["markdown"]),
                         streamed=reports[-1] if reports else "")

    def logged_load_seconds(self) -> float | None:
        for message in self.client.log_messages:
            match = re.search(r"loaded .* in ([0-9.]+) s", message.message)
            if match:
                return float(match.group(1))
        return None

    def log_errors(self) -> list[str]:
        return [m.message for m in self.client.log_messages
                if m.type == types.MessageType.Error]

    async def stop(self) -> None:
        with contextlib.suppress(psutil.Error, AssertionError):
            times = self.process.cpu_times()
            self.run.server_cpu_seconds += times.user + times.system
        try:
            await asyncio.wait_for(self.client.shutdown_session(), 30)
        except Exception as exc:  # a stuck server must not hang the benchmark
            print(f"warning: shutdown failed ({exc!r}); killing the server", file=sys.stderr)
            if self.client._server is not None and self.client._server.returncode is None:
                self.client._server.kill()
        finally:
            await self.client.stop()
            if self._drain is not None:
                with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError):
                    await asyncio.wait_for(self._drain, 5)


def _peak_rss(pid: int) -> int | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    match = re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE)
    return int(match.group(1)) * 1024 if match else None


def _cpu_percent_over(process: psutil.Process, seconds: float) -> float:
    """Average CPU use of the process (100 = one core busy) over ``seconds``."""
    before = process.cpu_times()
    started = time.monotonic()
    time.sleep(seconds)
    after = process.cpu_times()
    used = (after.user - before.user) + (after.system - before.system)
    return 100.0 * used / (time.monotonic() - started)


async def run_server_bench(workdir: Path, env: dict[str, str], repeat: int, threads: int,
                           menu_wait: float, long_menu_wait: float,
                           progress: Any = print) -> ServerRun:
    path = workdir / EXPLAIN_FILE_NAME
    uri = path.as_uri()
    run = ServerRun()

    # -- one process: warm-up, then cold / cache hit / prefilled per repetition --------
    log_path = workdir / "server-main.log"
    run.log_files.append(str(log_path))
    bench, run.start_to_initialized = await BenchClient.start(workdir, env, threads, log_path,
                                                              run)
    try:
        run.start_to_ready = await bench.wait_ready()
        run.logged_load_seconds = bench.logged_load_seconds()
        process = bench.process
        run.rss_after_load = process.memory_info().rss
        progress(f"server ready in {run.start_to_ready:.2f} s, "
                 f"RSS {run.rss_after_load / 2**20:.0f} MiB")

        text = ledger_source(WARMUP_BATCH)
        path.write_text(text)
        line, character = explain_cursor(text)
        bench.open(uri, text)
        warm = await bench.explain("warmup", WARMUP_BATCH, uri, line, character)
        run.explains.append(warm)
        progress(f"warm-up explain: {warm.total:.2f} s")
        await asyncio.sleep(SETTLE)

        for i in range(repeat):
            cold_batch, pre_batch = COLD_BATCH + i, PREFILLED_BATCH + i

            bench.replace(uri, ledger_source(cold_batch))
            cold = await bench.explain("cold", cold_batch, uri, line, character)
            await asyncio.sleep(SETTLE)
            hit = await bench.explain("hit", cold_batch, uri, line, character)
            await asyncio.sleep(SETTLE)

            bench.replace(uri, ledger_source(pre_batch))
            run.code_action.append(await bench.code_action(uri, line, character))
            await asyncio.sleep(menu_wait)  # a person reading the menu
            pre = await bench.explain("prefilled", pre_batch, uri, line, character)
            await asyncio.sleep(SETTLE)
            # the user's flow in VS Code: the cursor rests on the function (an automatic
            # code action, as sent on cursor moves), then the command
            bench.replace(uri, ledger_source(AUTOMATIC_BATCH + i))
            run.code_action.append(await bench.code_action(uri, line, character,
                                                           automatic=True))
            await asyncio.sleep(menu_wait)
            auto = await bench.explain("automatic", AUTOMATIC_BATCH + i, uri, line, character)
            await asyncio.sleep(SETTLE)
            run.explains += [cold, hit, pre, auto]
            progress(f"rep {i + 1}/{repeat}: cold {_fmt(cold.first_token)}/{cold.total:.2f} s, "
                     f"hit {hit.total * 1000:.0f} ms, prefilled "
                     f"{_fmt(pre.first_token)}/{pre.total:.2f} s, after an automatic code "
                     f"action {_fmt(auto.first_token)}/{auto.total:.2f} s (first token/total)")

            if long_menu_wait > 0:
                bench.replace(uri, ledger_source(LONG_WAIT_BATCH + i))
                run.code_action.append(await bench.code_action(uri, line, character))
                await asyncio.sleep(long_menu_wait)
                long = await bench.explain("prefilled-long", LONG_WAIT_BATCH + i, uri, line,
                                           character)
                await asyncio.sleep(SETTLE)
                run.explains.append(long)
                progress(f"  menu open {long_menu_wait:g} s: prefilled "
                         f"{_fmt(long.first_token)}/{long.total:.2f} s")

        run.rss_after_work = process.memory_info().rss
        run.peak_rss = _peak_rss(process.pid)
        run.idle_cpu_percent = await asyncio.to_thread(_cpu_percent_over, process, 2.0)
        run.log_errors += bench.log_errors()
    finally:
        await bench.stop()

    # -- fresh processes on the same cache directory --------------------------------------
    for i in range(repeat):
        cold_batch, pre_batch = COLD_BATCH + i, PREFILLED_BATCH + i
        log_path = workdir / f"server-restart-{i + 1}.log"
        run.log_files.append(str(log_path))
        bench, started = await BenchClient.start(workdir, env, threads, log_path, run)
        run.restart_start_to_initialized.append(started)
        try:
            # right after initialize: the model is still loading
            text = ledger_source(cold_batch)
            bench.open(uri, text)
            early = await bench.explain("restart-early", cold_batch, uri, line, character)
            await bench.wait_ready()
            await asyncio.sleep(SETTLE)
            bench.replace(uri, ledger_source(pre_batch))
            loaded = await bench.explain("restart", pre_batch, uri, line, character)
            run.restarts += [early, loaded]
            run.log_errors += bench.log_errors()
            progress(f"restart {i + 1}/{repeat}: cache hit {early.total * 1000:.0f} ms while "
                     f"loading, {loaded.total * 1000:.0f} ms with the model loaded")
        finally:
            await bench.stop()
    return run


def _fmt(seconds: float | None) -> str:
    return "—" if seconds is None else f"{seconds:.2f}"
