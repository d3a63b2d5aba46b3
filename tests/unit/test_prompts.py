from qwen_lsp.actions.prompts import PromptStore, fill


def test_fill_is_one_pass_plain_substitution():
    # a value is never scanned again, unknown names and code braces stay as written
    out = fill("A {code} B {unknown} {x}", {"code": "{x} {__import__('os')}", "x": "1"})
    assert out == "A {x} {__import__('os')} B {unknown} 1"


def test_every_shipped_template_exists_and_fills():
    store = PromptStore()
    for name in ("system", "explain.user", "explain.answer", "refactor.user",
                 "refactor.findings", "refactor.general", "async.user",
                 "async.rules.python", "async.rules.javascript", "repair.user"):
        assert store.get(name).strip()
    assert "{code}" in store.get("explain.user")


def test_user_directory_overrides_file_by_file(tmp_path):
    (tmp_path / "explain.user.txt").write_text("Mine: {code}\n")
    store = PromptStore(str(tmp_path))
    assert store.render("explain.user", {"code": "x = 1"}) == "Mine: x = 1"
    assert store.get("refactor.user") == PromptStore().get("refactor.user")


def test_an_edited_user_template_is_read_again(tmp_path):
    import os

    path = tmp_path / "explain.user.txt"
    path.write_text("first {code}")
    store = PromptStore(str(tmp_path))
    assert store.render("explain.user", {"code": "x"}) == "first x"
    path.write_text("second {code}")
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 1_000_000))
    assert store.render("explain.user", {"code": "x"}) == "second x"
    path.unlink()  # removed: back to the shipped one
    assert store.get("explain.user") == PromptStore().get("explain.user")


def test_a_user_template_with_an_unknown_placeholder_is_not_sent_and_warns(tmp_path):
    (tmp_path / "explain.user.txt").write_text("Explain this: {cod}\n")
    warnings: list[str] = []
    store = PromptStore(str(tmp_path), on_warning=warnings.append)
    out = store.render("explain.user", {"code": "x = 1", "fence": "python"})
    assert "{cod}" not in out and "x = 1" in out  # the shipped template was used
    assert len(warnings) == 1
    assert "explain.user.txt" in warnings[0] and "{cod}" in warnings[0]
    store.render("explain.user", {"code": "x = 1", "fence": "python"})
    assert len(warnings) == 1  # once per version of the file


def test_the_shipped_templates_are_found_from_a_source_checkout_and_installed():
    from qwen_lsp.actions.prompts import shipped_template

    assert "{code}" in shipped_template("refactor.user.txt")

