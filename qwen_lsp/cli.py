"""Command line: the server, and one-shot actions on the same code path."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import logging
import os
import sys
from pathlib import Path

from qwen_lsp import __version__
from qwen_lsp.actions.action import Action

_ACTION_HELP = {
    Action.EXPLAIN: "print an explanation (Markdown) of the code there",
    Action.REFACTOR: "print a unified diff of an AI refactor",
    Action.CONVERT_TO_ASYNC: "print a unified diff converting the function to async",
}


def _settings(args: argparse.Namespace):
    from qwen_lsp.settings import Settings

    settings = Settings()
    if getattr(args, "model", None):
        settings = dataclasses.replace(settings, model_path=args.model)
    if getattr(args, "no_cache", False):
        settings = dataclasses.replace(settings, cache_enabled=False)
    team = {attr: getattr(args, flag) for flag, attr in _TEAM_FLAGS.items()
            if getattr(args, flag, None)}
    if team:
        settings = dataclasses.replace(settings, **team)
    return settings


# --backend and the openai.* settings, for the one-shot commands (the server reads them
# from the editor's settings)
_TEAM_FLAGS = {"backend": "backend", "base_url": "openai_base_url",
               "served_model": "openai_model", "api_key_env": "openai_api_key_env"}


def _setup_logging(verbose: bool, server: bool = False) -> None:
    """Warnings to stderr (everything with -v); the server also logs INFO to the editor."""
    stderr = logging.StreamHandler(sys.stderr)
    stderr.setLevel(logging.DEBUG if verbose else logging.WARNING)
    stderr.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(stderr)
    root.setLevel(logging.INFO if verbose or server else logging.WARNING)
    if not verbose:
        logging.getLogger("pygls").setLevel(logging.WARNING)


# -- serve -----------------------------------------------------------------------------


def serve(args: argparse.Namespace) -> int:
    _setup_logging(args.verbose, server=True)
    from qwen_lsp.app import create_server

    server = create_server(args.model)
    if args.tcp:
        server.start_tcp("127.0.0.1", args.port)
        return 0
    # stdout is the JSON-RPC channel: give it to pygls alone, and point fd 1 (which
    # llama.cpp or any library could write to) at stderr.
    rpc_out = os.fdopen(os.dup(1), "wb")  # pygls flushes after every message
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    server.start_io(sys.stdin.buffer, rpc_out)
    # LSP: `exit` after `shutdown` ends with 0, an `exit` (or end of input) without it, 1
    return 0 if server.protocol.shut_down else 1


# -- one-shot actions ------------------------------------------------------------------


def _parse_place(place: str) -> tuple[Path, int, int]:
    parts = place.rsplit(":", 2)
    try:
        if len(parts) == 3 and parts[1].isdigit() and parts[2].isdigit():
            return Path(parts[0]), int(parts[1]), int(parts[2])
        path, line = place.rsplit(":", 1)
        return Path(path), int(line), 1
    except ValueError:
        raise SystemExit(f"qwen-lsp: expected FILE:LINE[:COL] (1-based), got {place!r}") \
            from None


def run_action(args: argparse.Namespace) -> int:
    _setup_logging(args.verbose)
    from qwen_lsp.actions.errors import ActionError
    from qwen_lsp.actions.language import answer_language
    from qwen_lsp.actions.runner import ExplainOutcome
    from qwen_lsp.documents import OpenDocument
    from qwen_lsp.edits import apply_edits, unified_diff
    from qwen_lsp.engine.base import EngineError
    from qwen_lsp.requests import Request, execute, prepare
    from qwen_lsp.runtime import Runtime

    path, line, col = _parse_place(args.place)
    try:
        text = path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        print(f"qwen-lsp: cannot read {path} as UTF-8 text: {exc}", file=sys.stderr)
        return 2
    action = Action.from_id(args.command)
    settings = _settings(args)
    uri = path.resolve().as_uri()
    doc = OpenDocument.open(uri, str(path), "", None, text, settings.max_file_bytes)
    position = (max(0, line - 1), max(0, col - 1))
    request = Request(action, uri, None, position + position)
    stream = sys.stdout if action is Action.EXPLAIN else sys.stderr

    def on_text(piece: str) -> None:
        stream.write(piece)
        stream.flush()

    async def main() -> int:
        runtime = Runtime(settings)
        runtime.start_model()
        try:
            prepared = prepare(request, doc, "utf-32", settings.max_span_lines)
            language = answer_language(settings.explanation_language, _locale())
            outcome = await execute(runtime, prepared, language, on_text)
            if isinstance(outcome, ExplainOutcome):
                if outcome.cached:
                    sys.stdout.write(outcome.markdown)
                sys.stdout.write("\n")
                return 0
            stream.write("\n")
            new = apply_edits(doc.text, outcome.plan.edits)
            sys.stdout.write(unified_diff(str(path), doc.text, new))
            for note in outcome.notes:
                print(f"note: {note}", file=sys.stderr)
            if args.write and new != doc.text:
                if path.read_bytes() != doc.text:
                    raise ActionError(f"{path} changed while the model was working; "
                                      "not written")
                path.write_bytes(new)
                print(f"qwen-lsp: wrote {path}", file=sys.stderr)
            return 0
        except (ActionError, EngineError) as exc:
            print(f"\nqwen-lsp: {exc}", file=sys.stderr)
            return 1
        finally:
            runtime.shutdown()

    return asyncio.run(main())


def _locale() -> str | None:
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(name, "").split(".")[0]
        if value:
            return value
    return None


# -- model and cache -------------------------------------------------------------------


def model_command(args: argparse.Namespace) -> int:
    _setup_logging(args.verbose)
    from qwen_lsp.engine.model import ModelError, model_info, resolve_model

    try:
        path = resolve_model(args.model or None)
        info = model_info(path)
    except ModelError as exc:
        print(f"qwen-lsp: {exc}", file=sys.stderr)
        return 1
    report = {"path": str(path), "sha256": info["sha256"], "size": info["size"]}
    try:
        from qwen_lsp.engine.llama import LlamaEngine

        settings = _settings(args)
        LlamaEngine(path, n_threads=settings.threads, n_ctx=512)
        report["loads"] = True
    except Exception as exc:
        report["loads"] = False
        report["error"] = str(exc)
    print(json.dumps(report, indent=2))
    return 0 if report["loads"] else 1


def cache_command(args: argparse.Namespace) -> int:
    _setup_logging(args.verbose)
    from qwen_lsp.runtime import open_cache

    cache = open_cache(dataclasses.replace(_settings(args), cache_enabled=True))
    assert cache is not None
    if args.cache_command == "clear":
        before = cache.info()
        cache.clear()
        print(f"cleared {before['entries']} entries ({before['bytes']} bytes) "
              f"from {before['path']}")
    else:
        print(json.dumps(cache.info(), indent=2))
    return 0


# -- parser ----------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    # Accepted before and after the subcommand; SUPPRESS keeps a subcommand's missing
    # option from overwriting one given before it.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--model", metavar="PATH", default=argparse.SUPPRESS,
                        help="a GGUF file instead of the embedded model (same as the "
                        "modelPath setting)")
    common.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS,
                        help="log everything to stderr")
    common.add_argument("--backend", choices=["embedded", "openai"], default=argparse.SUPPRESS,
                        help="where answers come from (setting backend)")
    common.add_argument("--base-url", metavar="URL", default=argparse.SUPPRESS,
                        help="the OpenAI-compatible server, e.g. http://gpu-box:8000/v1 "
                        "(setting openai.baseUrl)")
    common.add_argument("--served-model", metavar="ID", default=argparse.SUPPRESS,
                        help="the served model id; default: the first the server lists")
    common.add_argument("--api-key-env", metavar="NAME", default=argparse.SUPPRESS,
                        help="the environment variable holding the API key "
                        "(default QWEN_LSP_API_KEY)")

    parser = argparse.ArgumentParser(prog="qwen-lsp", parents=[common], description=(
        "A local AI code assistant as a language server. Without a command: the server "
        "on stdio."))
    parser.add_argument("--version", action="version", version=f"qwen-lsp {__version__}")
    sub = parser.add_subparsers(dest="command")

    p = sub.add_parser("serve", parents=[common], help="run the language server")
    p.add_argument("--stdio", action="store_true", help="LSP over stdio (the default)")
    p.add_argument("--tcp", action="store_true", help="LSP over TCP on 127.0.0.1")
    p.add_argument("--port", type=int, default=2087)

    for action in Action:
        p = sub.add_parser(action.id, parents=[common], help=_ACTION_HELP[action])
        p.add_argument("place", metavar="FILE:LINE[:COL]", help="1-based line and column")
        p.add_argument("--no-cache", action="store_true", help="do not use the result cache")
        if action.rewrites:
            p.add_argument("--write", action="store_true", help="apply the diff to the file")

    sub.add_parser("model", parents=[common],
                   help="where the model is, its sha256, its size, whether it loads")
    p = sub.add_parser("cache", parents=[common], help="the result cache")
    p.add_argument("cache_command", choices=["info", "clear"])
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    args.model = getattr(args, "model", None)
    args.verbose = getattr(args, "verbose", False)
    command = args.command or "serve"
    if command == "serve":
        if not hasattr(args, "tcp"):
            args.tcp = False
        return serve(args)
    if command in {action.id for action in Action}:
        return run_action(args)
    if command == "model":
        return model_command(args)
    return cache_command(args)
