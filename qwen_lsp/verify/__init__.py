"""Behaviour checks of model rewrites, before anything is applied.

`check_python` / `check_javascript` run the original and the rewritten function on the
same inputs in a separate, limited process and compare what they return, raise and do to
their arguments; they run nothing unless every name the code uses is known to be pure.
`undefined_names` finds names the rewrite uses but nothing defines (pyflakes);
`HOME_OF` says which standard module an unambiguous one comes from.

Self-contained: standard library, pyflakes, Hypothesis (and tree-sitter for JavaScript);
nothing from the rest of qwen_lsp.
"""

from .javascript import check_javascript
from .names import HOME_OF
from .python import check_python
from .report import BehaviourReport
from .undefined import undefined_names

__all__ = ["HOME_OF", "BehaviourReport", "check_javascript", "check_python", "undefined_names"]
