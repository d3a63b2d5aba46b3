"""Behaviour check of a Python rewrite: run both versions on the same inputs, compare."""

from __future__ import annotations

import pickle
import time

from .inputs import Case, docstrings_of, doctest_cases, file_call_cases, generated_cases, unique
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
    the first inputs. `class_name`: `name` is a method of that class (checked only when it
    does not use `self`/`cls`). Nothing runs unless every name the code uses is known to
    be pure; otherwise the report is "unchecked" with the reason.
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
        job = {"prelude": plan.prelude, "original": plan.original.code,
               "rewritten": plan.rewritten.code, "name": name, "dummy_self": plan.dummy_self,
               "params": params, "cases": [(c.args, c.kwargs, c.source) for c in cases],
               "seconds": run_seconds, "case_timeout": CASE_TIMEOUT, "max_items": MAX_ITEMS}
        wall = run_seconds + 1.0
        result = child.run(python_job(job, wall), wall)
    return interpret(result, time.perf_counter() - start)


def _cases(plan: Plan, module_source: str, name: str, method: bool, max_cases: int,
           seconds: float) -> list[Case]:
    function = plan.original.function
    trusted = unique(doctest_cases(docstrings_of(function, module_source), name, method)
                     + file_call_cases(module_source, name, method))
    trusted = [c for c in trusted if _pickles(c)][:max_cases]
    helpers = module_facts(module_source).functions
    generated = generated_cases(function, plan.params_from, max_cases - len(trusted), helpers,
                                seconds)
    return unique(trusted + generated)[:max_cases]


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
