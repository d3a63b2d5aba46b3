"""tree-sitter only: languages, incremental trees, targets, context, validation (no pygls here)."""

from .context import CallSite, Context, call_sites, context_for
from .document import SyntaxDocument
from .languages import LANGUAGES, LanguageSpec, language_for, new_parser
from .targets import Target, find_target
from .validate import has_syntax_errors, validate_replacement

__all__ = [
    "LANGUAGES",
    "CallSite",
    "Context",
    "LanguageSpec",
    "SyntaxDocument",
    "Target",
    "call_sites",
    "context_for",
    "find_target",
    "has_syntax_errors",
    "language_for",
    "new_parser",
    "validate_replacement",
]
