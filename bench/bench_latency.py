"""Latency and memory through the real `qwen-lsp` process over stdio, beyond the explain path.

One server process (A, its own result cache) answers, in this order:

1. `textDocument/codeAction` (automatic trigger, as VS Code sends on every cursor move)
   at many positions inside functions of 1k / 5k / 20k-line Python files;
2. one keystroke (`didChange` with a one-character range) then `codeAction` at the
   cursor, on 5k lines, typing `(` and then `)` at a new spot in turn, so every other
   keystroke leaves a syntax error, as typing does; interleaved with the same keystrokes
   on a copy sent as the whole text (full sync: the server parses it afresh);
3. code actions and keystrokes with the server idle, then the same while it generates
   explanations (one command at a time, started again until enough samples were taken);
4. after each of those explanations, the same code in another file (another name, in
   another directory): it must be a cache hit;
5. `$/cancelRequest` of an explain while its prompt is being evaluated and while it
   streams: time to the `RequestCancelled` response, and to the server's CPU going quiet;
6. refactor (Python, ruff's findings left for the model) and convert to async
   (JavaScript with `.then()` chains, which only the model converts) of ~30-line
   functions: total time, streamed text, whether an edit was applied.

Then a second server (B, its own cache) is started beside A, loads the model and
explains once (so its weights are read through its mapping), and the PSS and USS
(`memory_full_info()`) of both are taken: B's private memory is what it adds.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
from bench_fixtures import explain_cursor, large_python_file, ledger_source
from bench_server import LABEL_ONLY, NOT_MODEL_TEXT, BenchClient, Explained, ServerRun
from pygls.exceptions import JsonRpcException

from qwen_lsp.syntax.document import SyntaxDocument
from qwen_lsp.syntax.languages import language_for

SIZES = (1000, 5000, 20000)
KEYSTROKE_LINES = 5000
PACE = 0.01  # seconds between two measured requests (the previous one has been answered)
BUSY_PACE = 0.02
QUIET_WINDOW = 0.1  # seconds; the server counts as quiet below QUIET_SHARE of a core
QUIET_SHARE = 0.15
CANCEL_DURING_PROMPT = 0.4  # seconds after the command: the ~300-token prompt takes ~1.5 s
REQUEST_CANCELLED = -32800

# Distinct variants of the explain fixture (bench_fixtures.ledger_source), so that every
# generation here is a new cache key; the latency server has its own cache directory.
WARMUP_BATCH = 6000
BUSY_BATCH = 6100
CANCEL_BATCH = 6200
SECOND_SERVER_BATCH = 6300
REFACTOR_BATCH = 100
CONVERT_BATCH = 200

REFACTOR_FILE_NAME = "grades.py"
CONVERT_FILE_NAME = "orders.js"
OTHER_FILE = Path("elsewhere") / "accounts.py"

# A 31-line function that ruff and qwen-lsp's own patterns find much to improve in,
# with little that ruff can fix itself: the model is asked for the rest.
_REFACTOR = '''\
"""Exam scores (benchmark fixture)."""


def grade_report(scores, passing=50, curve=0):
    # grading batch {batch}
    """Curve the scores, count who passed, and total the points per grade."""
    if passing < 0:
        raise ValueError("passing must not be negative")
    names = list(scores)
    curved = {}
    for i in range(len(names)):
        name = names[i]
        curved[name] = min(100, scores[name] + curve)
    total = 0
    for name in curved:
        total += curved[name]
    per_grade = {}
    for name in curved:
        grade = "pass" if curved[name] >= passing else "fail"
        if grade in per_grade:
            per_grade[grade] = per_grade[grade] + curved[name]
        else:
            per_grade[grade] = curved[name]
    anyone_perfect = False
    for name in curved:
        if curved[name] == 100:
            anyone_perfect = True
            break
    average = total / len(curved) if curved else 0.0
    return {
        "average": round(average, 2),
        "per_grade": per_grade,
        "perfect": anyone_perfect,
    }
'''

# A 30-line JavaScript function built on .then()/.catch() chains: the rules cannot
# convert those, the model is asked to.
_CONVERT = """\
'use strict';

/** The open orders of a user, summed up (benchmark fixture). */
function orderReport(baseUrl, userId) {
  // report batch {batch}
  return fetch(baseUrl + '/users/' + userId)
    .then((response) => {
      if (!response.ok) {
        throw new Error('user ' + userId + ': HTTP ' + response.status);
      }
      return response.json();
    })
    .then((user) => {
      return fetch(baseUrl + '/orders?user=' + user.id)
        .then((response) => response.json())
        .then((orders) => {
          const open = orders.filter((order) => order.status === 'open');
          const total = open.reduce((sum, order) => sum + order.amount, 0);
          const largest = open.reduce((max, order) => Math.max(max, order.amount), 0);
          return {
            name: user.name,
            open: open.length,
            total: Math.round(total * 100) / 100,
            largest: largest,
          };
        });
    })
    .catch((error) => {
      console.error('order report failed', error);
      return null;
    });
}

module.exports = { orderReport };
"""


def refactor_source(batch: int) -> str:
    return _REFACTOR.replace("{batch}", str(batch))


def convert_source(batch: int) -> str:
    return _CONVERT.replace("{batch}", str(batch))


def rewrite_cursor(text: str) -> tuple[int, int]:
    """(line, character) on the fixture's batch comment, inside the function."""
    for number, line in enumerate(text.splitlines()):
        if " batch " in line and line.lstrip().startswith(("#", "//")):
            return number, len(line) - len(line.lstrip())
    raise ValueError("the fixture lost its batch comment")


def function_length(text: str) -> int:
    """Lines of a rewrite fixture's function: from its `def`/`function` line to its
    closing `}` (JavaScript) or to the end of the file (Python: the function is last)."""
    lines = text.rstrip("\n").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(("def ", "function ")))
    end = next((i for i in range(start + 1, len(lines)) if lines[i] == "}"), len(lines) - 1)
    return end - start + 1


@dataclass
class Rewrite:
    """One refactor / convert-to-async command as the client saw it."""

    action: str  # "refactor" | "convert to async"
    batch: int
    total: float  # seconds from sending to the response
    first_token: float | None  # to the first $/progress report with model text
    streamed: str  # the last report's text: the model's answer(s) as streamed
    applied: bool  # the server sent workspace/applyEdit
    cached: bool
    repaired: bool  # the first answer failed the checks; the model was asked once more
    notes: list[str] = field(default_factory=list)
    error: str | None = None


@dataclass
class Cancel:
    phase: str  # "prompt" (cancelled while the prompt is evaluated) | "streaming"
    response: float | None  # seconds from sending $/cancelRequest to the response
    quiet: float | None  # seconds from the cancel to the server's CPU going quiet
    code: int | None  # the response's error code (RequestCancelled = -32800)
    note: str = ""


@dataclass
class LatencyRun:
    code_action: dict[int, list[float]] = field(default_factory=dict)  # lines -> seconds
    keystroke: list[float] = field(default_factory=list)  # didChange (range) -> codeAction
    keystroke_error: list[bool] = field(default_factory=list)  # it left a syntax error
    keystroke_full: list[float] = field(default_factory=list)  # the same, full-text sync
    keystroke_fixture_ok: bool = False  # `(` does leave an error, `)` removes it
    idle_code_action: list[float] = field(default_factory=list)
    idle_keystroke: list[float] = field(default_factory=list)
    busy_code_action: list[float] = field(default_factory=list)  # during a generation
    busy_keystroke: list[float] = field(default_factory=list)
    busy_generations: list[Explained] = field(default_factory=list)
    other_file: list[Explained] = field(default_factory=list)  # same code, another file
    cancels: list[Cancel] = field(default_factory=list)
    rewrites: list[Rewrite] = field(default_factory=list)
    rss_first: int = 0  # A, after its work
    pss_first_alone: int = 0  # A before B started
    pss_first_beside: int = 0  # A with B loaded beside it
    pss_second: int = 0
    uss_second: int = 0
    rss_second: int = 0
    rss_anon_second: int = 0  # of that RSS: anonymous memory (/proc/PID/status RssAnon)
    rss_file_second: int = 0  # file-backed (RssFile): the mmap'ed model, shareable
    second_ready: float = 0.0  # B: process start -> model ready
    log_errors: list[str] = field(default_factory=list)
    log_files: list[str] = field(default_factory=list)
    server_cpu_seconds: float = 0.0

    @property
    def memory_added(self) -> int:
        """What starting B added to the machine's memory: its private pages (USS).

        The sum of PSS over all processes is the memory in use; pages B shares with A
        (the mapped model) only move PSS from A to B. PSS(A) + PSS(B) − PSS(A alone)
        would be the same, were no other process mapping the model file: another
        program's server of the same GGUF gives up PSS to B too, so that sum says less.
        """
        return self.uss_second


# -- helpers -------------------------------------------------------------------------------


def _cpu(process: psutil.Process) -> float:
    times = process.cpu_times()
    return times.user + times.system


async def wait_quiet(process: psutil.Process, timeout: float = 60.0) -> bool:
    """Wait until the server uses less than QUIET_SHARE of a core for 0.3 s (a prefill
    the last code action scheduled, say, has finished); False on timeout."""
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        before = _cpu(process)
        await asyncio.sleep(0.3)
        if _cpu(process) - before < QUIET_SHARE * 0.3:
            return True
    return False


class CpuSampler:
    """Samples the server's CPU time every 10 ms, to see when the model stopped."""

    def __init__(self, process: psutil.Process) -> None:
        self.process = process
        self.samples: list[tuple[float, float]] = []
        self._task: asyncio.Task[None] | None = None

    def start(self, seconds: float = 2.0) -> None:
        async def sample() -> None:
            end = time.perf_counter() + seconds
            while time.perf_counter() < end:
                self.samples.append((time.perf_counter(), _cpu(self.process)))
                await asyncio.sleep(0.01)

        self._task = asyncio.ensure_future(sample())

    async def quiet_after(self, since: float) -> float | None:
        """Seconds from ``since`` to the start of the first QUIET_WINDOW with little CPU."""
        if self._task is not None:
            await self._task
        samples = [s for s in self.samples if s[0] >= since]
        for i, (t, cpu) in enumerate(samples):
            later = next(((t2, c2) for t2, c2 in samples[i:] if t2 - t >= QUIET_WINDOW), None)
            if later is None:
                return None
            if (later[1] - cpu) / (later[0] - t) < QUIET_SHARE:
                return t - since
        return None


def function_positions(text: str, count: int) -> list[tuple[int, int]]:
    """``count`` positions spread over the file, each inside a function or class body."""
    inside = [i for i, line in enumerate(text.splitlines())
              if line.startswith("    ") and line.strip()]
    return [(inside[(k * 7919) % len(inside)], 4) for k in range(count)]


class Typist:
    """Keystrokes on one document: `(` before a `0`, then `)` after it, at a new spot
    each pair. The client keeps its own copy of the text (for full sync)."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines(keepends=True)
        self.spots = [(i, line.index("= 0") + 2) for i, line in enumerate(self.lines)
                      if line.strip().startswith("total_") and line.rstrip().endswith("= 0")]
        self.step = 0

    def next(self) -> tuple[int, int, str, bool]:
        """(line, character, text, leaves a syntax error) of the next keystroke."""
        line, column = self.spots[(self.step // 2 * 37) % len(self.spots)]
        opening = self.step % 2 == 0
        # `(`: `total_7 = (0`, an unclosed parenthesis; `)`: `total_7 = (0)`, valid again
        # (at a spot typed at before, the parentheses nest: `((0))`)
        char = "(" if opening else ")"
        at = column if opening else self.lines[line].index("0", column) + 1
        self.lines[line] = self.lines[line][:at] + char + self.lines[line][at:]
        self.step += 1
        return line, at, char, opening

    @property
    def text(self) -> str:
        return "".join(self.lines)


def _check_typist(text: str) -> bool:
    """The keystroke fixture does what it says: `(` leaves an error, `)` clears it."""
    spec = language_for("python", "typing.py")
    assert spec is not None
    typist = Typist(text)
    results = []
    for _ in range(4):
        typist.next()
        results.append(SyntaxDocument(spec, typist.text.encode()).tree.root_node.has_error)
    return results == [True, False, True, False]


# -- the measurements ----------------------------------------------------------------------


async def _code_actions(bench: BenchClient, workdir: Path, lat: LatencyRun, requests: int,
                        progress: Any) -> None:
    for lines in SIZES:
        text = large_python_file(lines)
        path = workdir / f"big_{lines}.py"
        path.write_text(text)
        uri = path.as_uri()
        bench.open(uri, text)
        positions = function_positions(text, requests + 5)
        times = []
        for k, (line, character) in enumerate(positions):
            elapsed = await bench.code_action(uri, line, character, automatic=True)
            if k >= 5:  # the first few warm the server's code paths up
                times.append(elapsed)
            await asyncio.sleep(PACE)
        lat.code_action[lines] = times
        await wait_quiet(bench.process)
        progress(f"codeAction on {lines:,} lines: median {_ms(_median(times))}, "
                 f"max {_ms(max(times))} over {len(times)}")


async def _keystroke(bench: BenchClient, uri: str, typist: Typist) -> tuple[float, bool]:
    line, character, char, error = typist.next()
    started = time.perf_counter()
    bench.type(uri, line, character, char)
    return await bench.code_action(uri, line, character + 1, automatic=True,
                                   started=started), error


async def _full_keystroke(bench: BenchClient, uri: str, typist: Typist) -> float:
    line, character, _char, _error = typist.next()
    started = time.perf_counter()
    bench.replace(uri, typist.text)
    return await bench.code_action(uri, line, character + 1, automatic=True, started=started)


async def _keystrokes(bench: BenchClient, workdir: Path, lat: LatencyRun, keystrokes: int,
                      progress: Any) -> tuple[str, Typist]:
    text = large_python_file(KEYSTROKE_LINES)
    lat.keystroke_fixture_ok = _check_typist(text)
    uri, full_uri = (workdir / "typing.py").as_uri(), (workdir / "typing_full.py").as_uri()
    bench.open(uri, text)
    bench.open(full_uri, text)
    typist, full_typist = Typist(text), Typist(text)
    for k in range(keystrokes + 4):
        elapsed, error = await _keystroke(bench, uri, typist)
        await asyncio.sleep(PACE)
        full = await _full_keystroke(bench, full_uri, full_typist)
        await asyncio.sleep(PACE)
        if k >= 4:
            lat.keystroke.append(elapsed)
            lat.keystroke_error.append(error)
            lat.keystroke_full.append(full)
    await wait_quiet(bench.process)
    progress(f"keystroke + codeAction on {KEYSTROKE_LINES:,} lines: median "
             f"{_ms(_median(lat.keystroke))} (full sync {_ms(_median(lat.keystroke_full))}) "
             f"over {len(lat.keystroke)}")
    return uri, typist


async def _sample(bench: BenchClient, uri: str, typist: Typist, positions: list[tuple[int, int]],
                  k: int) -> tuple[str, float]:
    """Sample k: a code action at a position, or (odd k) a keystroke and a code action."""
    if k % 2 == 0:
        line, character = positions[(k // 2) % len(positions)]
        return "action", await bench.code_action(uri, line, character, automatic=True)
    elapsed, _error = await _keystroke(bench, uri, typist)
    return "keystroke", elapsed


async def _explain_at(bench: BenchClient, scenario: str, batch: int, uri: str) -> Explained:
    text = ledger_source(batch)
    if uri in bench.versions:
        bench.replace(uri, text)
    else:
        bench.open(uri, text)
    line, character = explain_cursor(text)
    return await bench.explain(scenario, batch, uri, line, character)


async def _idle_and_busy(bench: BenchClient, workdir: Path, lat: LatencyRun, uri: str,
                         typist: Typist, samples: int, generation_count: int,
                         batch: int, progress: Any) -> int:
    """Idle samples, then as many during generations; returns the next batch number."""
    positions = function_positions(large_python_file(KEYSTROKE_LINES), 64)
    ledger = (workdir / "ledger.py").as_uri()
    other = (workdir / OTHER_FILE)
    other.parent.mkdir(parents=True, exist_ok=True)
    for k in range(samples):
        kind, elapsed = await _sample(bench, uri, typist, positions, k)
        (lat.idle_code_action if kind == "action" else lat.idle_keystroke).append(elapsed)
        await asyncio.sleep(BUSY_PACE)
    await wait_quiet(bench.process)

    k = 0
    generations = 0
    while k < samples or generations < generation_count:
        task = asyncio.ensure_future(_explain_at(bench, "busy", batch, ledger))
        await asyncio.sleep(0.05)  # the command has reached the server
        while not task.done() and k < samples:
            kind, elapsed = await _sample(bench, uri, typist, positions, k)
            if task.done():
                break  # answered after the generation ended: not a sample of a busy server
            (lat.busy_code_action if kind == "action" else lat.busy_keystroke).append(elapsed)
            k += 1
            await asyncio.sleep(BUSY_PACE)
        explained = await task
        lat.busy_generations.append(explained)
        generations += 1
        # the same code in another file: the answer is cached already
        other.write_text(ledger_source(batch))
        lat.other_file.append(await _explain_at(bench, "other-file", batch, other.as_uri()))
        batch += 1
        await asyncio.sleep(0.3)
    await wait_quiet(bench.process)
    progress(f"during {generations} generations: codeAction median "
             f"{_ms(_median(lat.busy_code_action))} (idle {_ms(_median(lat.idle_code_action))}),"
             f" keystroke + codeAction {_ms(_median(lat.busy_keystroke))} (idle "
             f"{_ms(_median(lat.idle_keystroke))}); same code in another file: "
             + ", ".join(f"{'hit' if e.cached else 'MISS'} {_ms(e.total)}"
                         for e in lat.other_file))
    return batch


async def _cancel(bench: BenchClient, uri: str, phase: str, batch: int) -> Cancel:
    text = ledger_source(batch)
    bench.replace(uri, text)
    line, character = explain_cursor(text)
    mark = len(bench.progress)
    msg_id = f"bench-cancel-{batch}"
    future = bench.send_command("qwenLsp.explain", bench.argument(uri, line, character), msg_id)

    def streaming() -> bool:  # model-written text has arrived (not just the label)
        return any(v.get("kind") == "report" and v.get("message")
                   and v["message"] not in NOT_MODEL_TEXT
                   and not LABEL_ONLY.fullmatch(v["message"])
                   for _t, v in bench.progress[mark:])

    if phase == "prompt":
        await asyncio.sleep(CANCEL_DURING_PROMPT)
    else:
        deadline = time.perf_counter() + 120
        while not streaming() and not future.done() and time.perf_counter() < deadline:
            await asyncio.sleep(0.02)
    note = ""
    if phase == "prompt" and streaming():
        note = "model text had already arrived"
    if future.done():
        with contextlib.suppress(Exception):
            future.result()
        return Cancel(phase, None, None, None, "the explain finished before the cancel")
    sampler = CpuSampler(bench.process)
    sampler.start()
    sent = time.perf_counter()
    bench.cancel(msg_id)
    code: int | None = None
    try:
        await asyncio.wait_for(future, 60)
        note = note or "the explain completed instead of being cancelled"
    except JsonRpcException as exc:
        code = exc.code
    except asyncio.TimeoutError:
        return Cancel(phase, None, None, None, "no response within 60 s of the cancel")
    response = time.perf_counter() - sent
    quiet = await sampler.quiet_after(sent)
    await wait_quiet(bench.process)
    return Cancel(phase, response, quiet, code, note)


FLOW_REST = 1.5  # seconds between the automatic code action and the command (as 1e)


async def rewrite(bench: BenchClient, action: str, command: str, batch: int, uri: str,
                  text: str, language_id: str, flow: bool = False) -> Rewrite:
    """``flow``: as a user does it — the cursor rests on the function (an automatic
    code action, which lets the server prefill), FLOW_REST s, then the command."""
    if uri in bench.versions:
        bench.replace(uri, text)
    else:
        bench.open(uri, text, language_id)
    line, character = rewrite_cursor(text)
    if flow:
        await bench.code_action(uri, line, character, automatic=True)
        await asyncio.sleep(FLOW_REST)
    mark, edits = len(bench.progress), len(bench.applied_edits)
    started = time.perf_counter()
    error, result = None, {}
    try:
        result = await bench.command(command, bench.argument(uri, line, character)) or {}
    except Exception as exc:  # a refused rewrite is a measurement too
        error = str(exc)[:300]
    total = time.perf_counter() - started
    reports = [(t, v["message"]) for t, v in bench.progress[mark:]
               if v.get("kind") == "report" and v.get("message")
               and v["message"] not in NOT_MODEL_TEXT]
    streamed = reports[-1][1] if reports else ""
    return Rewrite(action=action, batch=batch, total=total,
                   first_token=reports[0][0] - started if reports else None,
                   streamed=streamed, applied=len(bench.applied_edits) > edits,
                   cached=bool(result.get("cached")), repaired="asking once more" in streamed,
                   notes=[str(n) for n in result.get("notes", [])], error=error)


async def _rewrites(bench: BenchClient, workdir: Path, lat: LatencyRun, repeat: int,
                    progress: Any) -> None:
    refactor_uri = (workdir / REFACTOR_FILE_NAME).as_uri()
    convert_uri = (workdir / CONVERT_FILE_NAME).as_uri()
    for i in range(repeat):
        for action, command, batch, uri, text, language in (
                ("refactor", "qwenLsp.refactor", REFACTOR_BATCH + i, refactor_uri,
                 refactor_source(REFACTOR_BATCH + i), "python"),
                ("convert to async", "qwenLsp.convertToAsync", CONVERT_BATCH + i, convert_uri,
                 convert_source(CONVERT_BATCH + i), "javascript")):
            for flow in (False, True):
                name = f"{action} (flow)" if flow else action
                text_now = text.replace(f"batch {batch}", f"batch {batch + 50}") if flow \
                    else text
                done = await rewrite(bench, name, command, batch + 50 * flow, uri, text_now,
                                     language, flow=flow)
                lat.rewrites.append(done)
                progress(f"rep {i + 1}/{repeat}: {name} {done.total:.2f} s, "
                         f"{'applied' if done.applied else 'not applied'}"
                         + (", repaired once" if done.repaired else "")
                         + (f" ({done.error[:80]})" if done.error else ""))
                await wait_quiet(bench.process)


def _rss_parts(pid: int) -> tuple[int, int]:
    """(RssAnon, RssFile) in bytes: private heap and copies vs pages of mapped files."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0, 0
    values = {}
    for name in ("RssAnon", "RssFile"):
        match = re.search(rf"^{name}:\s+(\d+) kB", status, re.MULTILINE)
        values[name] = int(match.group(1)) * 1024 if match else 0
    return values["RssAnon"], values["RssFile"]


def _pss(process: psutil.Process) -> tuple[int, int]:
    info = process.memory_full_info()
    return int(getattr(info, "pss", 0)), int(getattr(info, "uss", 0))


async def run_latency_bench(workdir: Path, env: dict[str, str], repeat: int, threads: int,
                            requests: int, keystrokes: int, samples: int,
                            progress: Any = print) -> LatencyRun:
    lat = LatencyRun()
    counters = ServerRun()  # collects the servers' CPU time
    log_path = workdir / "server-latency.log"
    lat.log_files.append(str(log_path))
    cache = workdir / "results-latency"
    bench, _started = await BenchClient.start(workdir, env, threads, log_path, counters,
                                              cache_directory=cache)
    try:
        await bench.wait_ready()
        ledger = (workdir / "ledger.py")
        ledger.write_text(ledger_source(WARMUP_BATCH))
        warm = await _explain_at(bench, "warmup", WARMUP_BATCH, ledger.as_uri())
        progress(f"latency server ready; warm-up explain {warm.total:.2f} s")
        await wait_quiet(bench.process)

        await _code_actions(bench, workdir, lat, requests, progress)
        uri, typist = await _keystrokes(bench, workdir, lat, keystrokes, progress)
        await _idle_and_busy(bench, workdir, lat, uri, typist, samples, repeat, BUSY_BATCH,
                             progress)

        for i in range(repeat):
            for phase in ("prompt", "streaming"):
                batch = CANCEL_BATCH + 2 * i + (phase == "streaming")
                done = await _cancel(bench, ledger.as_uri(), phase, batch)
                lat.cancels.append(done)
                when = "the prompt is evaluated" if phase == "prompt" else "streaming"
                progress(f"cancel while {when}: response {_ms(done.response)}, "
                         f"CPU quiet {_ms(done.quiet)}, "
                         f"code {done.code}" + (f" ({done.note})" if done.note else ""))

        await _rewrites(bench, workdir, lat, repeat, progress)

        # -- a second server beside the first --------------------------------------------
        process = bench.process
        lat.rss_first = process.memory_info().rss
        lat.pss_first_alone, _ = _pss(process)
        second_log = workdir / "server-second.log"
        lat.log_files.append(str(second_log))
        second, _ = await BenchClient.start(workdir, env, threads, second_log, counters,
                                            cache_directory=workdir / "results-second")
        try:
            lat.second_ready = await second.wait_ready()
            other = workdir / "second.py"
            other.write_text(ledger_source(SECOND_SERVER_BATCH))
            await _explain_at(second, "second-server", SECOND_SERVER_BATCH, other.as_uri())
            lat.pss_second, lat.uss_second = _pss(second.process)
            lat.rss_second = second.process.memory_info().rss
            lat.rss_anon_second, lat.rss_file_second = _rss_parts(second.process.pid)
            lat.pss_first_beside, _ = _pss(process)
            lat.log_errors += second.log_errors()
        finally:
            await second.stop()
        progress(f"second server: PSS {lat.pss_second / 2**20:.0f} MiB, private (USS) "
                 f"{lat.uss_second / 2**20:.0f} MiB, RssAnon {lat.rss_anon_second / 2**20:.0f}"
                 f" / RssFile {lat.rss_file_second / 2**20:.0f} MiB; the first's PSS "
                 f"{lat.pss_first_alone / 2**20:.0f} → {lat.pss_first_beside / 2**20:.0f} MiB")
        lat.log_errors += bench.log_errors()
    finally:
        await bench.stop()
    lat.server_cpu_seconds = counters.server_cpu_seconds
    return lat


def _median(values: list[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[len(ordered) // 2]


def _ms(seconds: float | None) -> str:
    return "—" if seconds is None else f"{seconds * 1000:.1f} ms"
