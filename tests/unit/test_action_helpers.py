from qwen_lsp.actions.code import extract_code, reindent
from qwen_lsp.actions.language import answer_language
from qwen_lsp.actions.rewrite import _js_async_position, takes_callback


def test_extract_code_takes_the_first_fenced_block():
    answer = "Here:\n```python\ndef f():\n    return 1\n```\nand more\n```\nx\n```"
    assert extract_code(answer) == "def f():\n    return 1"
    assert extract_code("def g(): pass") == "def g(): pass"
    assert extract_code("```python\n```") is None
    assert extract_code("text ``` broken") is None
    # an unterminated block (answer cut at max tokens) still yields its code
    assert extract_code("```js\nfunction f() {}\n") == "function f() {}"


def test_reindent_restores_the_original_indentation():
    code = "def m(self):\n    if x:\n        return 1\n\n    return 2"
    assert reindent(code, "    ") == (
        "    def m(self):\n        if x:\n            return 1\n\n        return 2")
    assert reindent("  a\n  b", "") == "a\nb"


def test_answer_language_from_locale_or_setting():
    assert answer_language("auto", "zh-CN") == "Chinese (简体中文)"
    assert answer_language("auto", None) == "English"
    assert answer_language("de", "zh-CN") == "German"
    assert answer_language("auto", "eo") == "eo"


def test_js_async_keyword_position():
    assert _js_async_position("function f(a) {") == 0
    assert _js_async_position("export function f(a) {") == len("export ")
    assert _js_async_position("const f = (a) => a") == len("const f = ")
    assert _js_async_position("static load(path) {") == len("static ")
    assert _js_async_position("load(path) {") == 0


def test_completion_callbacks_are_recognised():
    assert takes_callback(("path", "callback"))
    assert takes_callback(("err", "done"))
    assert not takes_callback(("path",))
    assert not takes_callback(())


def test_explanation_labels_each_start_a_paragraph():
    from qwen_lsp.actions.runner import _clean_markdown

    text = _clean_markdown("**Purpose:** x.\n**Inputs:** a, b.\n\n\n**Notes:**\n- n\n")
    assert text == "**Purpose:** x.\n\n**Inputs:** a, b.\n\n**Notes:**\n- n"


def test_a_trailing_assistant_message_is_continued_not_closed():
    from qwen_lsp.engine.llama import format_chatml

    text = format_chatml([{"role": "user", "content": "hi"},
                          {"role": "assistant", "content": "**Purpose:**"}])
    assert text == "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n**Purpose:**"
