"""Fixtures of the team-backend tests: a real OpenAI-compatible model server, an
audited qwen-lsp process."""
