"""The child process of a behaviour check: runs two versions of a function on the same inputs.

Started by `sandbox.run_python_job` as `python -S -s -P _child.py` in an empty temporary
directory with an empty environment. It imports nothing but the standard library (no
qwen_lsp, no Hypothesis) so it starts in a few milliseconds. It reads one pickled job on
stdin, lowers its own resource limits, and writes one JSON object per line on what was
its stdout; the functions' own output (print) goes to /dev/null.

Lines written: {"start": i, "phase": "original"|"rewrite"} before each call, so the parent
knows which call was running if it has to kill the process; {"diff": sentence} for the
first difference (then it stops); {"error": text} when the job cannot run; and finally
{"done": ...counts...}.
"""

from __future__ import annotations

import builtins
import copy
import io
import itertools
import json
import math
import os
import pickle
import re
import reprlib
import resource
import signal
import sys
import time
import types

_SHORT = reprlib.Repr()
_SHORT.maxstring = 40
_SHORT.maxother = 40
_SHORT.maxlist = _SHORT.maxtuple = _SHORT.maxset = _SHORT.maxfrozenset = 6
_SHORT.maxdict = 4
_SHORT.maxlevel = 3
_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")
_HEX_RUN = re.compile(r"0x[0-9a-fA-F]{8,16}")
_NESTED_ITEMS = 100
_PRINTED = 10_000  # characters of printed output compared
_RAISE = re.compile(r"(^|[:;])\s*raise\b")  # a raise statement, also `if x: raise ...`
_ITER_KEY = "\x00iter"  # strategies.ITER_KEY
_LAMBDA_KEY = "\x00lambda"  # strategies.LAMBDA_KEY: checked to be safe by the parent
_INIT_KEY = "\x00init"  # inputs.INIT_KEY: the constructor's (args, kwargs) for `self`
_COMPARE_SECONDS = 0.5
_REL_TOL = 1e-9
_ABS_TOL = 1e-12


class _Timeout(BaseException):
    """Raised by the alarm: a BaseException so that `except Exception` in the code cannot
    swallow it (and the alarm repeats, so a bare `except:` cannot either)."""


class _DefineError(Exception):
    """The rewrite raised while it was being defined."""

    def __init__(self, exc: BaseException) -> None:
        super().__init__(str(exc))
        self.exc = exc


class _Incomparable(Exception):
    """Two results that cannot be compared meaningfully (e.g. two functions)."""


def _on_alarm(signum: int, frame: object) -> None:
    raise _Timeout


def _plain(value: object) -> str:
    """A short repr without memory addresses, to compare objects that have nothing else."""
    return _ADDRESS.sub("", _short(value))


def _short(value: object) -> str:
    try:
        return _SHORT.repr(value)
    except BaseException:  # a repr that fails is still something to show
        return f"<{type(value).__name__}>"


def _is_iterator(value: object) -> bool:
    if isinstance(value, (types.GeneratorType, map, filter, zip, enumerate, reversed)):
        return True
    try:
        return hasattr(value, "__next__") and iter(value) is value  # type: ignore[call-overload]
    except BaseException:
        return False


class _Items(list):
    """The first items of an iterator a function returned."""


def _call(fn: object, args: tuple, kwargs: dict, timeout: float, max_items: int) -> tuple:
    """(kind, value, seconds, accidental, printed): kind "ok" with the value, "raise" with
    "Type: message", or "timeout"; `accidental` for a raise, see _accidental; `printed`:
    what it wrote to sys.stdout (print), which is part of its behaviour too."""
    start = time.perf_counter()
    printed, real_stdout = io.StringIO(), sys.stdout
    sys.stdout = printed
    signal.setitimer(signal.ITIMER_REAL, timeout, 0.005)
    try:
        try:
            value = fn(*args, **kwargs)  # type: ignore[operator]
            if _is_iterator(value):
                value = _Items(itertools.islice(value, max_items))
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0, 0)
            sys.stdout = real_stdout
    except _Timeout:
        return ("timeout", None, time.perf_counter() - start, False, "")
    except BaseException as exc:  # SystemExit, MemoryError, RecursionError: all outcomes
        signal.setitimer(signal.ITIMER_REAL, 0, 0)
        sys.stdout = real_stdout
        message = str(exc).splitlines()[0] if str(exc) else ""
        text = type(exc).__name__ + (f": {message}" if message else "")
        return ("raise", text[:160], time.perf_counter() - start, _accidental(exc),
                printed.getvalue()[:_PRINTED])
    return ("ok", value, time.perf_counter() - start, False, printed.getvalue()[:_PRINTED])


_SOURCES: dict[str, list[str]] = {}  # "<file>"/"<function>" -> the original's lines


def _accidental(exc: BaseException) -> bool:
    """A TypeError or AttributeError that no `raise` of the checked code wrote: an input
    of a type the code never meant to take, not a check it makes."""
    if not isinstance(exc, (TypeError, AttributeError)):
        return False
    tb = exc.__traceback__
    last = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename in _SOURCES:
            last = tb
        tb = tb.tb_next
    if last is None:
        return True
    lines = _SOURCES[last.tb_frame.f_code.co_filename]
    number = last.tb_lineno
    line = lines[number - 1] if 0 < number <= len(lines) else ""
    return _RAISE.search(line) is None


def _same(a: object, b: object, depth: int = 0) -> bool:
    """Equal as results: floats within a tolerance (NaN equals NaN), containers item by
    item, types kept apart (1 is not 1.0, a list is not a tuple)."""
    if a is b:  # also a function passed in, which deepcopy does not copy
        return True
    if depth > 50:
        raise _Incomparable
    if isinstance(a, float) and isinstance(b, float):
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return math.isclose(a, b, rel_tol=_REL_TOL, abs_tol=_ABS_TOL)
    if isinstance(a, complex) and isinstance(b, complex):
        return _same(a.real, b.real) and _same(a.imag, b.imag)
    if isinstance(a, dict) and isinstance(b, dict):
        if a.keys() != b.keys():
            _by_identity(a.keys() ^ b.keys())
            return False
        return all(_same(a[k], b[k], depth + 1) for k in a)
    if isinstance(a, _Items) != isinstance(b, _Items):
        return False
    if _is_iterator(a) or _is_iterator(b):  # an iterator inside a result: its items
        if not (_is_iterator(a) and _is_iterator(b)):
            return False
        return _same(list(itertools.islice(a, _NESTED_ITEMS)),  # type: ignore[call-overload]
                     list(itertools.islice(b, _NESTED_ITEMS)), depth + 1)  # type: ignore[call-overload]
    twins = type(a) is not type(b) and _twins(type(a), type(b))
    if type(a) is not type(b) and not twins:
        return False
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y, depth + 1) for x, y in zip(a, b, strict=True))  # type: ignore[arg-type]
    if isinstance(a, str):  # a repr inside a result names an address: not behaviour
        if a == b or _ADDRESS.sub("", a) == _ADDRESS.sub("", b):  # type: ignore[arg-type]
            return True
        if _HEX_RUN.sub("", a) == _HEX_RUN.sub("", b):  # type: ignore[arg-type]
            raise _Incomparable  # an address in some other form (quoted, escaped): skip
        return False
    if isinstance(a, (set, frozenset)):
        if a == b:
            return True
        _by_identity(a ^ b)  # type: ignore[operator]
        return False
    if isinstance(a, (bytes, int, bool, type(None), range, bytearray)):
        return a == b
    if callable(a):
        raise _Incomparable
    if twins:  # instances of a same-file class, defined once for each version
        try:
            return _same(vars(a), vars(b), depth + 1)
        except TypeError:
            return _plain(a) == _plain(b)
    try:
        if a == b:
            return True
    except BaseException:
        raise _Incomparable from None
    if type(a).__eq__ is object.__eq__:  # identity equality: compare the contents
        try:
            return _same(vars(a), vars(b), depth + 1)
        except TypeError:
            return _plain(a) == _plain(b)
    return False


def _by_identity(keys: object) -> None:
    """Dict keys or set items that differ only because each version made its own object
    (an iterator, an instance with no __eq__, a NaN): equal by identity, so not
    comparable."""
    if any(type(k).__hash__ is object.__hash__ or (isinstance(k, float) and math.isnan(k))
           for k in keys):  # type: ignore[attr-defined]
        raise _Incomparable  # NaN too: each version's nan is a key of its own


def _plain_instance(value: object) -> bool:
    """An instance of a class of the file that prints only as its address."""
    klass = type(value)
    return klass.__module__ == "__verify__" and klass.__repr__ is object.__repr__


def _twins(a: type, b: type) -> bool:
    """The same class from the file, defined separately in each version's namespace."""
    return (a.__qualname__ == b.__qualname__ and a.__module__ == b.__module__ == "__verify__")


def _describe(outcome: tuple, limit: float) -> str:
    kind, value = outcome[0], outcome[1]
    if kind == "ok":
        if isinstance(value, _Items):
            return f"returns an iterator yielding {_short(list(value))}"
        if _plain_instance(value):
            return f"returns a `{type(value).__name__}` holding {_short(_state(value))}"
        return f"returns {_short(value)}"
    if kind == "raise":
        return f"raises {value}"
    return f"does not finish within {limit:.2f} s"


def _is_iter_input(value: object) -> bool:
    return type(value) is dict and len(value) == 1 and _ITER_KEY in value


def _is_lambda_input(value: object) -> bool:
    return type(value) is dict and len(value) == 1 and _LAMBDA_KEY in value


class _Init:
    """The constructor's arguments of the instance a method is called on."""

    def __init__(self, args: tuple, kwargs: dict) -> None:
        self.args, self.kwargs = args, kwargs


def _is_init_input(value: object) -> bool:
    return type(value) is dict and len(value) == 1 and _INIT_KEY in value


def _live(args: tuple, kwargs: dict) -> tuple[tuple, dict]:
    """Inputs as the function gets them: iterator markers become iterators, lambda
    markers functions, a constructor marker an _Init of live arguments."""
    def one(value: object) -> object:
        if _is_init_input(value):
            return _Init(*_live(*value[_INIT_KEY]))  # type: ignore[index]
        if _is_iter_input(value):
            return iter(list(value[_ITER_KEY]))  # type: ignore[index]
        if _is_lambda_input(value):
            source = value[_LAMBDA_KEY]  # type: ignore[index]
            return eval(compile(source, "<input>", "eval"), {"__builtins__": builtins})
        return value
    return tuple(one(a) for a in args), {k: one(v) for k, v in kwargs.items()}


def _shown_input(value: object) -> str:
    if _is_iter_input(value):
        return f"iter({_short(value[_ITER_KEY])})"  # type: ignore[index]
    if _is_lambda_input(value):
        return f"({value[_LAMBDA_KEY]})"  # type: ignore[index]
    return _short(value)


def _call_text(name: str, args: tuple, kwargs: dict, receiver: dict | None = None) -> str:
    if receiver is not None and receiver["kind"] in ("self", "property") and args and \
            _is_init_input(args[0]):
        built = _call_text(receiver["class"], *args[0][_INIT_KEY])
        if receiver["kind"] == "property":
            return f"{built}.{receiver['method']}"
        return f"{built}.{_call_text(receiver['method'], args[1:], kwargs)}"
    if receiver is not None:
        name = (receiver["class"] if receiver["kind"] == "init"
                else f"{receiver['class']}.{receiver['method']}")
    parts = [_shown_input(a) for a in args] + [f"{k}={_shown_input(v)}"
                                               for k, v in kwargs.items()]
    return f"{name}({', '.join(parts)})"


def _state(obj: object) -> dict:
    """An instance's attributes (its __dict__, or its slots)."""
    try:
        return dict(vars(obj))
    except TypeError:
        missing = "<unset>"
        return {slot: getattr(obj, slot, missing) for klass in type(obj).__mro__
                for slot in getattr(klass, "__slots__", ()) if isinstance(slot, str)}


def _on_receiver(cls: type, receiver: dict, built: list) -> object:
    """A callable running the method of `cls` the way a caller does: on an instance built
    by the constructor (kept in `built`, to compare its state afterwards), on the class
    (a classmethod), or the constructor itself."""
    method, kind = receiver["method"], receiver["kind"]

    def call(*args: object, **kwargs: object) -> object:
        built.clear()
        if kind == "cls":
            return getattr(cls, method)(*args, **kwargs)
        if kind == "init":
            obj = cls(*args, **kwargs)
            built.append(obj)
            return None
        init = args[0]
        obj = cls(*init.args, **init.kwargs)  # type: ignore[attr-defined]
        built.append(obj)
        if kind == "property":
            return getattr(obj, method)
        return getattr(obj, method)(*args[1:], **kwargs)
    return call


class _Runner:
    def __init__(self, job: dict, out: object) -> None:
        self.job = job
        self.out = out
        self.params: list[str] = job["params"]
        self.built: tuple[list, list] = ([], [])  # the instance each version ran on

    def emit(self, **fields: object) -> None:
        self.out.write(json.dumps(fields) + "\n")  # type: ignore[attr-defined]
        self.out.flush()  # type: ignore[attr-defined]

    def load_versions(self) -> tuple[object, object]:
        """The original and the rewrite as callables taking a case's arguments."""
        receiver = self.job.get("receiver")
        name = self.job["name"] if receiver is None else receiver["class"]
        original = self.load(self.job["original"], name)
        try:
            rewrite = self.load(self.job["rewritten"], name)
        except BaseException as exc:
            raise _DefineError(exc) from None
        if receiver is None:
            return original, rewrite
        return (_on_receiver(original, receiver, self.built[0]),  # type: ignore[arg-type]
                _on_receiver(rewrite, receiver, self.built[1]))  # type: ignore[arg-type]

    def load(self, code: str, name: str) -> object:
        """The function, defined with the file's prelude in a fresh module of its own (a
        real module: dataclasses and others look their class's module up)."""
        module = types.ModuleType("__verify__")
        sys.modules["__verify__"] = module
        namespace = module.__dict__
        exec(compile(self.job["prelude"], "<file>", "exec"), namespace)
        exec(compile(code, "<function>", "exec"), namespace)
        return namespace[name]

    def arg_name(self, index: int) -> str:
        return self.params[index] if index < len(self.params) else f"#{index + 1}"

    def mutation(self, args_a: tuple, kwargs_a: dict, args_b: tuple, kwargs_b: dict,
                 before: tuple) -> str | None:
        """How the rewrite changes its arguments differently, or None."""
        for i, (a, b) in enumerate(zip(args_a, args_b, strict=True)):
            if _is_lambda_input(before[0][i]):  # a function we passed: nothing to compare
                continue
            if _is_init_input(before[0][i]):  # the instance's state is compared instead
                continue
            if not _same(a, b):
                return self.mutation_text(self.arg_name(i), before[0][i], a, b)
        for key in kwargs_a:
            if _is_lambda_input(before[1][key]):
                continue
            if not _same(kwargs_a[key], kwargs_b.get(key)):
                return self.mutation_text(key, before[1][key], kwargs_a[key], kwargs_b.get(key))
        return None

    def verdict(self, a: tuple, b: tuple, limit: float, after_a: tuple, after_b: tuple,
                before: tuple) -> str | None:
        """How the rewrite's outcome differs from the original's, or None."""
        both_raise = a[0] == "raise" and b[0] == "raise"
        if not both_raise and not (a[0] == "ok" and b[0] == "ok" and _same(a[1], b[1])):
            return f"the original {_describe(a, limit)}; the rewrite {_describe(b, limit)}"
        both = "raise" if both_raise else _describe(a, limit).replace("returns", "return", 1)
        if a[4] != b[4]:
            return (f"both {both}, but the original prints {_short(a[4])} and the rewrite "
                    f"prints {_short(b[4])}")
        changed = None if both_raise else self.mutation(*after_a, *after_b, before)
        if changed is None and not both_raise and self.built[0] and self.built[1]:
            state_a, state_b = _state(self.built[0][0]), _state(self.built[1][0])
            if not _same(state_a, state_b):
                changed = (f"afterwards the original's instance holds {_short(state_a)} "
                           f"and the rewrite's {_short(state_b)}")
        return None if changed is None else f"both {both}, but {changed}"

    @staticmethod
    def mutation_text(arg: str, before: object, a: object, b: object) -> str:
        if _is_iter_input(before):
            return f"the two take a different number of items from the iterator `{arg}`"
        if _same(a, before):
            return (f"the rewrite changes its argument `{arg}` to {_short(b)} "
                    "(the original leaves it as it was)")
        if _same(b, before):
            return (f"the original changes its argument `{arg}` to {_short(a)}; "
                    "the rewrite leaves it as it was")
        return (f"the original changes its argument `{arg}` to {_short(a)}; "
                f"the rewrite changes it to {_short(b)}")

    def run(self) -> None:
        job = self.job
        try:
            original, rewrite = self.load_versions()
        except _DefineError as failed:
            exc = failed.exc
            self.emit(diff=f"the rewrite fails as soon as it is defined: "
                           f"{type(exc).__name__}: {exc}")
            return
        except BaseException as exc:
            self.emit(error=f"the original cannot be defined here: {type(exc).__name__}: {exc}")
            return
        _SOURCES["<file>"] = job["prelude"].splitlines()
        _SOURCES["<function>"] = job["original"].splitlines()
        _seal()
        dummy = (None,) if job["dummy_self"] else ()
        deadline = time.perf_counter() + job["seconds"]
        case_timeout: float = job["case_timeout"]
        max_items: int = job["max_items"]
        counts = {"cases": 0, "raised": 0, "generated": 0, "generated_raised": 0,
                  "skipped": 0, "slow": 0, "widened": 0}
        first_error = widened = None
        for index, (args, kwargs, source) in enumerate(job["cases"]):
            if time.perf_counter() > deadline:
                break
            shown = _call_text(job["name"], args, kwargs, job.get("receiver"))
            args_a, kwargs_a = _live(*copy.deepcopy((args, kwargs)))
            self.emit(start=index, phase="original", call=shown)
            a = _call(original, dummy + args_a, kwargs_a, case_timeout, max_items)
            if a[0] == "timeout":
                counts["slow"] += 1
                continue
            limit = max(0.2, 20 * a[2] + 0.05)
            args_b, kwargs_b = _live(*copy.deepcopy((args, kwargs)))
            self.emit(start=index, phase="rewrite", limit=limit, call=shown,
                      original=_describe(a, limit))
            b = _call(rewrite, dummy + args_b, kwargs_b, limit, max_items)
            try:
                # comparing may run the code too (iterators in a result, __eq__): timed
                signal.setitimer(signal.ITIMER_REAL, _COMPARE_SECONDS, 0.005)
                try:
                    verdict = self.verdict(a, b, limit, (args_a, kwargs_a),
                                           (args_b, kwargs_b), (args, kwargs))
                finally:
                    signal.setitimer(signal.ITIMER_REAL, 0, 0)
            except BaseException:  # _Incomparable, _Timeout, or the code raising
                counts["skipped"] += 1
                continue
            counts["cases"] += 1
            if source == "generated":
                counts["generated"] += 1
            if a[0] == "raise":
                counts["raised"] += 1
                first_error = first_error or a[1]
                if source == "generated":
                    counts["generated_raised"] += 1
            if verdict is not None and source == "generated" and a[0] == "raise" and a[3] \
                    and b[0] == "ok":
                # the rewrite works where the original fails by accident of type: noted,
                # not a difference
                counts["widened"] += 1
                widened = widened or f"for {shown} {verdict}"
                verdict = None
            if verdict is not None:
                self.emit(diff=f"for {shown} {verdict}", widened_example=widened, **counts)
                return
        self.emit(done=True, first_error=first_error, widened_example=widened, **counts)


def _limit(which: int, soft: int) -> None:
    try:
        _, hard = resource.getrlimit(which)
        if hard != resource.RLIM_INFINITY:
            soft = min(soft, hard)
        resource.setrlimit(which, (soft, hard))
    except (ValueError, OSError):  # not lowerable here: the other limits still hold
        pass


def _seal() -> None:
    """After the code is defined (its imports done): no new files, no new processes."""
    lowest_free = os.dup(0)
    os.close(lowest_free)
    _limit(resource.RLIMIT_NOFILE, lowest_free)  # every descriptor below it is in use
    _limit(resource.RLIMIT_NPROC, 0)  # ignored for root; then the process group is killed


def main() -> None:
    if sys.path and sys.path[0] == os.path.dirname(os.path.abspath(__file__)):
        del sys.path[0]
    job = pickle.loads(sys.stdin.buffer.read())
    out = os.fdopen(os.dup(1), "w")
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    os.close(devnull)
    signal.signal(signal.SIGALRM, _on_alarm)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past RLIMIT_FSIZE fails instead
    _limit(resource.RLIMIT_AS, job["memory_bytes"])
    _limit(resource.RLIMIT_CPU, job["cpu_seconds"])
    _limit(resource.RLIMIT_FSIZE, 0)
    _limit(resource.RLIMIT_CORE, 0)
    sys.setrecursionlimit(2000)
    try:
        _Runner(job, out).run()
    except BaseException as exc:  # a fault of the check itself, not of the checked code
        where = exc.__traceback__
        while where is not None and where.tb_next is not None:
            where = where.tb_next
        line = where.tb_lineno if where is not None else 0
        out.write(json.dumps({"error": f"the check itself failed ({type(exc).__name__}: "
                                       f"{exc}, _child.py line {line})"}) + "\n")
    out.flush()
    os._exit(0)  # no atexit handlers or finalizers of the checked code


if __name__ == "__main__":
    main()
