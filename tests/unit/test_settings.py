from qwen_lsp.settings import Settings, parse_settings


def test_defaults_match_the_interface():
    s = Settings()
    assert (s.model_path, s.context_size, s.max_output_tokens, s.temperature) == ("", 4096, 768,
                                                                                0.0)
    assert (s.explanation_display, s.explanation_language, s.confirm_edits) == (
        "server", "auto", True)
    assert (s.cache_enabled, s.cache_max_megabytes, s.max_span_lines, s.max_file_bytes) == (
        True, 256, 400, 5_000_000)
    assert s.threads >= 1


def test_nested_and_dotted_cache_keys_are_both_read():
    nested, problems = parse_settings({"cache": {"enabled": False, "maxMegabytes": 10}})
    dotted, problems2 = parse_settings({"cache.enabled": False, "cache.maxMegabytes": 10})
    assert problems == problems2 == []
    assert nested == dotted
    assert nested.cache_enabled is False and nested.cache_max_megabytes == 10


def test_bad_values_keep_the_default_and_say_why():
    s, problems = parse_settings({"threads": "many", "temperature": 5, "contextSize": 4096.0,
                                  "explanationDisplay": "popup", "confirmEdits": 1})
    assert s.threads == Settings().threads and s.temperature == 0.0
    assert s.context_size == 4096
    assert s.explanation_display == "server" and s.confirm_edits is True
    assert len(problems) == 4
    assert any("qwenLsp.threads" in p and "expected an integer" in p for p in problems)


def test_unknown_keys_are_logged_and_a_non_object_is_refused(caplog):
    s, problems = parse_settings({"modelPth": "/x"})
    assert s == Settings() and problems == []
    assert "unknown setting qwenLsp.modelPth" in caplog.text
    s, problems = parse_settings(["x"])
    assert s == Settings() and "must be an object" in problems[0]


def test_changes_merge_over_the_current_settings():
    base, _ = parse_settings({"maxSpanLines": 50})
    s, _ = parse_settings({"temperature": 0.5}, base)
    assert s.max_span_lines == 50 and s.temperature == 0.5
    s, _ = parse_settings({"maxSpanLines": None}, base)
    assert s.max_span_lines == 400
