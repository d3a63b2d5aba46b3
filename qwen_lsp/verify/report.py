"""The outcome of a behaviour check, and the line shown to the user."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Status = Literal["same", "different", "unchecked"]


@dataclass(frozen=True)
class BehaviourReport:
    """What running the original and the rewrite on the same inputs showed.

    `cases` counts the inputs on which both ran and were compared; `raised` how many of
    those made the original raise (the rewrite had to raise too, or, for `widened`, it
    returned instead); `seconds` is the wall-clock time of the whole check.
    """

    status: Status
    cases: int = 0
    counterexample: str | None = None  # for "different": one readable sentence
    reason: str | None = None          # for "unchecked": why not
    raised: int = 0
    seconds: float = 0.0
    # Inputs on which the original failed with a TypeError/AttributeError no `raise` of its
    # own wrote (an input of a type it never meant to take) while the rewrite returned:
    # not counted as a difference; one example, in the counterexample's form.
    widened: int = 0
    widened_example: str | None = None

    def note(self) -> str:
        """The line for the user."""
        if self.status == "same":
            plural = "" if self.cases == 1 else "s"
            both = self.raised - self.widened
            tail = f" ({both} of them raise in both)" if both else ""
            wider = (f"; it also works where the original fails by type: "
                     f"{self.widened_example}" if self.widened_example else "")
            return (f"behaviour-checked on {self.cases} input{plural}: same results{tail}"
                    f"{wider}")
        if self.status == "different":
            return f"behaviour changed: {self.counterexample}"
        return f"not behaviour-checked: {self.reason}"


def unchecked(reason: str, seconds: float = 0.0) -> BehaviourReport:
    return BehaviourReport("unchecked", reason=reason, seconds=seconds)
