"""Tests that drive real editors (headless) against the real `qwen-lsp` server."""
