from qwen_lsp.actions.prompts import PromptStore, fill


def test_fill_is_one_pass_plain_substitution():
    # a value is never scanned again, unknown names and code braces stay as written
    out = fill("A {code} B {unknown} {x}", {"code": "{x} {__import__('os')}", "x": "1"})
    assert out == "A {x} {__import__('os')} B {unknown} 1"


def test_every_shipped_template_exists_and_fills():
    store = PromptStore()
    for name in ("explain.system", "explain.user", "refactor.system", "refactor.user",
                 "async.system", "async.user", "async.rules.python", "async.rules.javascript",
                 "repair.user"):
        assert store.get(name).strip()
    assert "{code}" in store.get("explain.user")


def test_user_directory_overrides_file_by_file(tmp_path):
    (tmp_path / "explain.user.txt").write_text("Mine: {code}\n")
    store = PromptStore(str(tmp_path))
    assert store.render("explain.user", {"code": "x = 1"}) == "Mine: x = 1"
    assert store.get("refactor.user") == PromptStore().get("refactor.user")
