"""The team backend next to the embedded model, side by side in one run.

    /path/to/venv/bin/python bench/bench_team.py [--repeat 3] [--threads 2]

The same explain (the 30-line function of bench_fixtures.py) and the same refactor
(a 15-line function) go through the real `qwen-lsp` process over stdio twice: with
`backend: "embedded"` (the resident model), and with `backend: "openai"` pointed at
`python -m llama_cpp.server` serving the same GGUF on 127.0.0.1 with the same number
of threads. So the difference is what the HTTP hop costs (a second process, JSON
and SSE per token, the server's own prompt handling), not a different model or
machine. A real team server would be a bigger model on a GPU: these figures say
what the plumbing costs, not what such a server gains.

Every measured request is cold: the result cache is off, and each run changes a
number in a comment on the function's first body line, so both engines reuse only
the prompt's prefix up to there (both keep a KV cache of the previous prompt). A
warm-up explain and refactor per backend come first and are not counted. The two
backends' requests alternate (one at a time), so that a shared machine's noise
falls on both alike; both qwen-lsp processes and the model server stay up. *First
token* = from sending the command to the first `$/progress` report carrying
model-written text; *total* = to the response. Medians of N runs, with the range.

`--engines` adds the same comparison one layer down, without qwen-lsp's server or
checks: LlamaEngine in this process against OpenAIEngine on llama_cpp.server, the
same explain messages, greedy, alternating, so that what remains is the HTTP hop.

Needs the test extras (pytest-lsp) and `llama-cpp-python[server]`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

import psutil  # noqa: E402
from bench_fixtures import explain_cursor, ledger_source  # noqa: E402
from lsprotocol import types  # noqa: E402
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities  # noqa: E402

from qwen_lsp.engine.model import resolve_model  # noqa: E402
from tests.e2e.team.model_server import ModelServer  # noqa: E402

SERVER = [sys.executable, "-m", "qwen_lsp"]
KEY_ENV = "QWEN_LSP_BENCH_KEY"
NOT_MODEL_TEXT = {"Loading model…", "Thinking…"}
# The answer's first words (a bold label, prompts/explain.answer.txt) are written by the
# prompt and streamed at once: a report holding only such a label is not model text.
LABEL_ONLY = re.compile(r"\s*\*\*[^*\n]+:\*\*(\s*`[^`\n]*`)?\s*")  # label and name
TIMEOUT = 300.0

WORDS = '''\
"""Word statistics (benchmark fixture)."""


def count_words(text, ignore=()):
    # word count batch {batch}
    """Count how often each word occurs, case-insensitively."""
    counts = {{}}
    for word in text.split():
        word = word.strip(".,;:!?").lower()
        if word == "" or word in ignore:
            continue
        if word in counts:
            counts[word] = counts[word] + 1
        else:
            counts[word] = 1
    return counts
'''


@dataclass
class Timing:
    backend: str
    action: str
    first_token: float | None
    total: float
    ok: bool
    note: str = ""
    characters: int = 0  # of streamed model text (the last progress report)


class Session:
    """One qwen-lsp process, with every $/progress report timestamped."""

    def __init__(self, client: LanguageClient) -> None:
        self.client = client
        self.progress: list[tuple[float, dict[str, Any]]] = []
        features = client.protocol.fm.features
        inner = features[types.PROGRESS]

        def timed(params: types.ProgressParams) -> Any:
            value = params.value if isinstance(params.value, dict) else {}
            self.progress.append((time.perf_counter(), dict(value)))
            return inner(params)

        features[types.PROGRESS] = timed
        self.versions: dict[str, int] = {}

    @classmethod
    async def start(cls, workdir: Path, env: dict[str, str], options: dict) -> Session:
        client = await ClientServerConfig(server_command=SERVER, server_env=env).start()
        session = cls(client)

        @client.feature(types.WORKSPACE_APPLY_EDIT)
        def apply_edit(params: types.ApplyWorkspaceEditParams) -> types.ApplyWorkspaceEditResult:
            return types.ApplyWorkspaceEditResult(applied=True)

        await client.initialize_session(types.InitializeParams(
            capabilities=client_capabilities("visual-studio-code"), root_uri=workdir.as_uri(),
            locale="en", initialization_options=options))
        return session

    async def command(self, command: str, argument: dict | None) -> Any:
        params = types.ExecuteCommandParams(
            command=command, arguments=[argument] if argument is not None else [])
        return await asyncio.wait_for(self.client.workspace_execute_command_async(params),
                                      TIMEOUT)

    async def wait_ready(self) -> dict:
        deadline = time.perf_counter() + 180
        while time.perf_counter() < deadline:
            status = await self.command("qwenLsp.status", None)
            if status["model"]["state"] == "ready":
                return status
            if status["model"]["state"] == "error":
                raise RuntimeError(f"the model is not available: {status['model']['error']}")
            await asyncio.sleep(0.05)
        raise RuntimeError("the model was not ready after 180 s")

    def show(self, uri: str, text: str) -> None:
        """Open the document, or replace its whole text (a new version)."""
        if uri not in self.versions:
            self.versions[uri] = 1
            self.client.text_document_did_open(types.DidOpenTextDocumentParams(
                text_document=types.TextDocumentItem(uri=uri, language_id="python", version=1,
                                                     text=text)))
            return
        self.versions[uri] += 1
        self.client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri,
                                                                version=self.versions[uri]),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)]))

    async def timed(self, backend: str, action: str, command: str, uri: str,
                    position: tuple[int, int]) -> Timing:
        line, character = position
        at = {"line": line, "character": character}
        argument = {"textDocument": {"uri": uri}, "range": {"start": at, "end": at}}
        mark = len(self.progress)
        started = time.perf_counter()
        try:
            result = await self.command(command, argument)
            ok, note = True, ""
        except Exception as exc:  # a rejected rewrite is a measurement too
            result, ok, note = None, False, str(exc)[:120]
        total = time.perf_counter() - started
        texts = [(t, v["message"]) for t, v in self.progress[mark:]
                 if v.get("kind") == "report" and v.get("message")
                 and v["message"] not in NOT_MODEL_TEXT
                 and not LABEL_ONLY.fullmatch(v["message"])]
        if result is not None and result.get("cached"):
            ok, note = False, "cached (not a cold request)"
        return Timing(backend, action, texts[0][0] - started if texts else None, total, ok,
                      note, len(texts[-1][1]) if texts else 0)

    def rss(self) -> int:
        """Resident memory of the qwen-lsp process (bytes)."""
        assert self.client._server is not None
        return int(psutil.Process(self.client._server.pid).memory_info().rss)

    async def stop(self) -> None:
        try:
            await asyncio.wait_for(self.client.shutdown_session(), 30)
        finally:
            await self.client.stop()


async def bench_backends(workdir: Path, env: dict[str, str], options: dict[str, dict],
                         repeat: int, memory: dict[str, int]) -> list[Timing]:
    """Both backends, interleaved request by request, so that the machine's noise (it
    is shared) falls on both alike. Run 0 is the warm-up."""
    sessions: dict[str, Session] = {}
    timings: list[Timing] = []
    try:
        for backend, settings in options.items():
            sessions[backend] = await Session.start(workdir, env, settings)
            status = await sessions[backend].wait_ready()
            print(f"# {backend}: model {status['model'].get('name')} ready", file=sys.stderr)
        for run in range(repeat + 1):
            for action in ("explain", "refactor"):
                for backend, session in sessions.items():
                    t = await _one(session, backend, action, workdir, run)
                    if run:
                        timings.append(t)
                    print(f"#   run {run}{' (warm-up)' if not run else ''} {backend} {action}: "
                          f"first {_s(t.first_token)}, total {_s(t.total)}, "
                          f"{t.characters} chars"
                          f"{' ' + t.note if t.note else ''}", file=sys.stderr)
        for backend, session in sessions.items():
            memory[backend] = session.rss()
    finally:
        for session in sessions.values():
            await session.stop()
    return timings


async def _one(session: Session, backend: str, action: str, workdir: Path, run: int
               ) -> Timing:
    if action == "explain":
        uri = (workdir / f"ledger_{backend}.py").as_uri()
        text = ledger_source(4000 + run)
        session.show(uri, text)
        return await session.timed(backend, action, "qwenLsp.explain", uri,
                                   explain_cursor(text))
    uri = (workdir / f"words_{backend}.py").as_uri()
    session.show(uri, WORDS.format(batch=5000 + run))
    return await session.timed(backend, action, "qwenLsp.refactor", uri, (7, 4))


def _s(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f} s"


def _cell(values: list[float]) -> str:
    if not values:
        return "—"
    median = statistics.median(values)
    return f"{median:.2f} s ({min(values):.2f}–{max(values):.2f})"


def table(timings: list[Timing], repeat: int) -> str:
    lines = ["| action | backend | first token | total | streamed characters | runs ok |",
             "| --- | --- | --- | --- | --- | --- |"]
    medians: dict[tuple[str, str], tuple[float | None, float | None]] = {}
    for action in ("explain", "refactor"):
        for backend in ("embedded", "openai"):
            rows = [t for t in timings if t.action == action and t.backend == backend]
            firsts = [t.first_token for t in rows if t.first_token is not None]
            totals = [t.total for t in rows]
            medians[(action, backend)] = (statistics.median(firsts) if firsts else None,
                                          statistics.median(totals) if totals else None)
            label = "HTTP (llama_cpp.server)" if backend == "openai" else "embedded"
            chars = [t.characters for t in rows]
            lines.append(f"| {action} | {label} | {_cell(firsts)} | {_cell(totals)} | "
                         f"{statistics.median(chars) if chars else 0:.0f} | "
                         f"{sum(t.ok for t in rows)}/{repeat} |")
    lines += ["", "| action | first token HTTP / embedded | total HTTP / embedded |",
              "| --- | --- | --- |"]
    for action in ("explain", "refactor"):
        (ef, et), (of, ot) = medians[(action, "embedded")], medians[(action, "openai")]
        first = f"{of / ef:.2f}×" if of and ef else "—"
        total = f"{ot / et:.2f}×" if ot and et else "—"
        lines.append(f"| {action} | {first} | {total} |")
    return "\n".join(lines)


def bench_engines(model: str, server: ModelServer, key: str, threads: int, repeat: int
                  ) -> str:
    """LlamaEngine vs OpenAIEngine on the same messages, alternating; a Markdown table."""
    import threading

    from qwen_lsp.engine.base import GenParams
    from qwen_lsp.engine.llama import LlamaEngine
    from qwen_lsp.engine.openai import OpenAIEngine

    os.environ[KEY_ENV] = key
    engines = {"embedded (LlamaEngine)": LlamaEngine(model, n_threads=threads, n_ctx=4096),
               "HTTP (OpenAIEngine)": OpenAIEngine(server.base_url, api_key_env=KEY_ENV)}
    rows: dict[str, list[tuple[float, float, int]]] = {name: [] for name in engines}
    try:
        for run in range(repeat + 1):  # run 0 is the warm-up
            code = ledger_source(6000 + run)
            messages = [{"role": "system", "content": "You explain code briefly."},
                        {"role": "user", "content": f"Explain this function:\n```python\n"
                                                    f"{code}```"}]
            for name, engine in engines.items():
                first: list[float] = []
                started = time.perf_counter()

                def on_text(_piece: str, first: list[float] = first,
                            started: float = started) -> None:
                    if not first:
                        first.append(time.perf_counter() - started)

                text = engine.generate(messages, GenParams(max_tokens=160), on_text,
                                       threading.Event())
                total = time.perf_counter() - started
                if run:
                    rows[name].append((first[0] if first else total, total, len(text)))
                print(f"#   engines run {run} {name}: first {_s(first[0] if first else None)}, "
                      f"total {total:.2f} s, {len(text)} chars", file=sys.stderr)
    finally:
        for engine in engines.values():
            engine.close()
    lines = ["| engine | first token | total | characters | characters/s after the first |",
             "| --- | --- | --- | --- | --- |"]
    for name, values in rows.items():
        rate = [c / (t - f) for f, t, c in values if t > f]
        lines.append(f"| {name} | {_cell([f for f, _, _ in values])} | "
                     f"{_cell([t for _, t, _ in values])} | "
                     f"{statistics.median(c for _, _, c in values):.0f} | "
                     f"{statistics.median(rate):.0f} |")
    return "\n".join(lines)


async def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", "-n", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--engines", action="store_true",
                        help="also compare the two engines in-process (no server, no checks)")
    parser.add_argument("--engines-only", action="store_true",
                        help="only the in-process engine comparison")
    args = parser.parse_args(argv)
    model = str(resolve_model(None))
    with tempfile.TemporaryDirectory(prefix="qwen-bench-team-") as tmp:
        workdir = Path(tmp)
        key = os.urandom(12).hex()
        env = dict(os.environ, XDG_CACHE_HOME=str(workdir / "xdg"), QWEN_LSP_MODEL=model,
                   **{KEY_ENV: key})
        base = {"cache": {"enabled": False}, "threads": args.threads}
        server = ModelServer(model, key, workdir / "llama-server.log", threads=args.threads)
        started = time.perf_counter()
        server.start()
        print(f"# llama_cpp.server ready in {time.perf_counter() - started:.1f} s",
              file=sys.stderr)
        memory: dict[str, int] = {}
        timings: list[Timing] = []
        engines = ""
        try:
            if not args.engines_only:
                remote = dict(base, backend="openai",
                              openai={"baseUrl": server.base_url, "apiKeyEnv": KEY_ENV})
                timings = await bench_backends(workdir, env,
                                               {"embedded": base, "openai": remote},
                                               args.repeat, memory)
                memory["llama_cpp.server"] = int(server.process.memory_info().rss)
            if args.engines or args.engines_only:
                engines = bench_engines(model, server, key, args.threads, args.repeat)
        finally:
            server.stop()
    print(f"Team backend vs embedded, {args.repeat} runs each, {args.threads} threads each, "
          f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.1f}\n")
    if timings:
        print(table(timings, args.repeat))
    if engines:
        print("\nIn-process engines, the same explain messages (max 160 tokens):\n")
        print(engines)
    if memory:
        print("\n| process after the runs | RSS |\n| --- | --- |")
    for name, label in (("embedded", "qwen-lsp, embedded backend"),
                        ("openai", "qwen-lsp, HTTP backend"),
                        ("llama_cpp.server", "llama_cpp.server (the model server)")):
        if name in memory:
            print(f"| {label} | {memory[name] / 2**20:.0f} MB |")
    failed = [t for t in timings if not t.ok]
    for t in failed:
        print(f"\nnot ok: {t.backend} {t.action}: {t.note}")
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
