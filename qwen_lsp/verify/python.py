"""Behaviour check of a Python rewrite: run both versions on the same inputs, compare."""

from __future__ import annotations

import ast
import pickle
import time

from .inputs import (
    INIT_KEY,
    Case,
    constructor_cases,
    docstrings_of,
    doctest_cases,
    file_call_cases,
    generated_cases,
    receiver_cases,
    unique,
)
from .names import Plan, Unsafe, module_facts, plan_python
from .report import BehaviourReport, unchecked
from .sandbox import ChildResult, python_job, start_python

CASE_TIMEOUT = 0.05   # seconds the original may take on one input before it is skipped
MAX_ITEMS = 100       # items of a returned iterator that are compared
START_COST = 0.01     # seconds to hand the job over (the child started earlier)
GENERATION_SHARE = 0.5  # of the budget, at most, for drawing inputs
# The generator missed the function's domain when the original raised on more than this
# share of the generated inputs and returned on fewer than MIN_RETURNED of them.
DOMAIN_MISS = 0.9
MIN_RETURNED = 10


def check_python(module_source: str, original: str, rewritten: str, name: str, *,
                 class_name: str | None = None, budget_seconds: float = 0.5,
                 max_cases: int = 300) -> BehaviourReport:
    """Run `original` and `rewritten` (full definitions of `name`, dedented) on the same
    inputs in a limited child process and compare results, exceptions and argument
    mutations. `module_source` is the whole file before the edit: its imports, literal
    constants and helper functions go along; its doctests and literal calls of `name` are
    the first inputs. `class_name`: `name` is a method of that class; one that uses its
    `self`/`cls` is checked as its whole class (the rewrite's with the method replaced),
    called on instances its constructor builds from the file's `Class(...)` calls and
    generated arguments, and the instance's state afterwards is compared too. Nothing
    runs unless every name the code uses is known to be pure; otherwise the report is
    "unchecked" with the reason.
    """
    start = time.perf_counter()
    try:
        plan = plan_python(module_source, original, rewritten, name, class_name)
    except Unsafe as exc:
        return unchecked(str(exc), time.perf_counter() - start)
    with start_python() as child:  # it starts up while the inputs are drawn
        cases = _cases(plan, module_source, name, class_name is not None, max_cases,
                       GENERATION_SHARE * budget_seconds)
        if not cases:
            return unchecked("no inputs could be made for it", time.perf_counter() - start)
        run_seconds = max(0.1, budget_seconds - (time.perf_counter() - start) - START_COST)
        args = plan.original.function.args
        params = [a.arg for a in [*args.posonlyargs, *args.args]][plan.params_from:]
        receiver = plan.receiver
        if receiver is not None and receiver.kind in ("self", "property"):
            params = ["self", *params]  # the first argument holds the constructor's
        job = {"prelude": plan.prelude, "original": plan.original.code,
               "rewritten": plan.rewritten.code, "name": name, "dummy_self": plan.dummy_self,
               "receiver": None if receiver is None else {
                   "class": receiver.class_name, "method": receiver.method,
                   "kind": receiver.kind},
               "params": params, "cases": [(c.args, c.kwargs, c.source) for c in cases],
               "seconds": run_seconds, "case_timeout": CASE_TIMEOUT, "max_items": MAX_ITEMS}
        wall = run_seconds + 1.0
        result = child.run(python_job(job, wall), wall)
    return interpret(result, time.perf_counter() - start)


def _cases(plan: Plan, module_source: str, name: str, method: bool, max_cases: int,
           seconds: float) -> list[Case]:
    if plan.receiver is not None:
        return _receiver_cases(plan, module_source, max_cases, seconds)
    function = plan.original.function
    trusted = unique(doctest_cases(docstrings_of(function, module_source), name, method)
                     + file_call_cases(module_source, name, method))
    trusted = [c for c in trusted if _pickles(c)][:max_cases]
    helpers = module_facts(module_source).functions
    generated = generated_cases(function, plan.params_from, max_cases - len(trusted), helpers,
                                seconds)
    return unique(trusted + generated)[:max_cases]


def _receiver_cases(plan: Plan, module_source: str, max_cases: int,
                    seconds: float) -> list[Case]:
    """Cases for a method that uses `self`/`cls`. For `self` (and a property) the first
    argument is {INIT_KEY: (args, kwargs)} of the constructor that builds the instance:
    the file's own `Class(...).method(...)` calls and doctests first, then generated
    constructor arguments paired with generated method arguments."""
    receiver = plan.receiver
    assert receiver is not None
    helpers = module_facts(module_source).functions
    function = plan.original.function
    if receiver.kind == "init":
        trusted = unique(constructor_cases(docstrings_of(function, module_source) + [
            module_source], receiver.class_name))
        trusted = [c for c in trusted if _pickles(c)][:max_cases]
        return unique(trusted + generated_cases(function, 1, max_cases - len(trusted),
                                                helpers, seconds))[:max_cases]
    trusted = unique(receiver_cases(docstrings_of(function, module_source) + [module_source],
                                    receiver.class_name, receiver.method,
                                    receiver.kind == "property"))
    if receiver.kind == "cls":
        trusted = [Case(c.args[1:], c.kwargs, c.source) for c in trusted
                   if c.args and c.args[0] is None]
    else:  # `Class.method(...)` passes its own first argument: not an instance we build
        trusted = [c for c in trusted if c.args and c.args[0] is not None]
    trusted = [c for c in trusted if _pickles(c)][:max_cases]
    count = max_cases - len(trusted)
    if receiver.kind == "property":
        method_cases = [Case((), {}, "generated")]
    else:
        method_cases = generated_cases(function, 1, count, helpers, seconds / 2) or [
            Case((), {}, "generated")]
    if receiver.kind == "cls":
        return unique(trusted + method_cases)[:max_cases]
    init = receiver.init
    init_cases = (generated_cases(init, 1, count, helpers, seconds / 2)
                  if init is not None and _takes_arguments(init) else []) or [
        Case((), {}, "generated")]
    paired = [Case(({INIT_KEY: (init_cases[i % len(init_cases)].args,
                                init_cases[i % len(init_cases)].kwargs)},
                    *method_cases[i % len(method_cases)].args),
                   method_cases[i % len(method_cases)].kwargs, "generated")
              for i in range(min(count, max(len(init_cases), len(method_cases))))]
    return unique(trusted + paired)[:max_cases]


def _takes_arguments(function: ast.FunctionDef) -> bool:
    args = function.args
    return len([*args.posonlyargs, *args.args]) > 1 or bool(
        args.kwonlyargs or args.vararg or args.kwarg)


def _pickles(case: Case) -> bool:
    try:
        pickle.dumps((case.args, case.kwargs))
    except Exception:
        return False
    return True


def interpret(result: ChildResult, seconds: float) -> BehaviourReport:
    """The report a child's output amounts to."""
    for line in result.lines:
        if "error" in line:
            return unchecked(line["error"], seconds)
        if "diff" in line:
            return BehaviourReport("different", cases=line.get("cases", 0),
                                   counterexample=line["diff"], seconds=seconds,
                                   raised=line.get("raised", 0),
                                   widened=line.get("widened", 0),
                                   widened_example=line.get("widened_example"))
        if "done" in line:
            return _judge(line, seconds)
    running = result.running()
    lines = [line.strip() for line in result.stderr.splitlines() if line.strip()]
    error = next((line for line in lines if "out of memory" in line.lower()), None) or (
        lines[-1] if lines else f"exit status {result.returncode}")
    ending = ("does not finish (it was stopped)" if result.killed
              else f"crashes the checking process ({error[:120]})")
    if running is not None and running["phase"] == "rewrite":
        return BehaviourReport(
            "different", cases=max(running["start"], 0), seconds=seconds,
            counterexample=f"for {running['call']} the original {running['original']}; "
                           f"the rewrite {ending}")
    if running is not None:
        return unchecked(f"on {running['call']} the original {ending}", seconds)
    return unchecked(f"the check's process failed ({error[:120]})", seconds)


def _judge(done: dict, seconds: float) -> BehaviourReport:
    cases, raised = done["cases"], done["raised"]
    generated, generated_raised = done["generated"], done["generated_raised"]
    error = done.get("first_error") or "an exception"
    if cases == 0:
        why = (f"the original was too slow on all {done['slow']} inputs tried"
               if done["slow"] else "no input could be compared")
        return unchecked(why, seconds)
    if raised == cases:
        return unchecked(f"the original raised on every input tried ({error})", seconds)
    if done["slow"] and cases - raised < MIN_RETURNED:
        return unchecked(f"the original does not finish within {CASE_TIMEOUT} s on "
                         f"{done['slow']} of the inputs tried (and returned on only "
                         f"{cases - raised})", seconds)
    if generated and generated_raised > DOMAIN_MISS * generated and (
            generated - generated_raised < MIN_RETURNED):
        trusted, trusted_raised = cases - generated, raised - generated_raised
        if trusted > trusted_raised:  # the file's own examples still count
            return BehaviourReport("same", cases=trusted, raised=trusted_raised,
                                   seconds=seconds)  # the generated ones do not count
        return unchecked(f"the generated inputs do not suit it: the original raised on "
                         f"{generated_raised} of {generated} ({error})", seconds)
    return BehaviourReport("same", cases=cases, raised=raised, seconds=seconds,
                           widened=done.get("widened", 0),
                           widened_example=done.get("widened_example"))
