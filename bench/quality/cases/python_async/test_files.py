import json

import files
from _bench import run


def test_write_lines_writes_and_counts(tmp_path):
    path = tmp_path / "out.txt"
    assert run(files.write_lines(path, ["a", "bé", ""])) == 3
    assert path.read_text(encoding="utf-8") == "a\nbé\n\n"
    assert run(files.write_lines(path, [])) == 0
    assert path.read_text() == ""


def test_read_config_parses(tmp_path):
    path = tmp_path / "app.cfg"
    path.write_text("# comment\nname = demo\n\nport=8080\nurl = a=b\n", encoding="utf-8")
    assert run(files.read_config(path)) == {"name": "demo", "port": "8080", "url": "a=b"}


def test_read_config_via_async_caller(tmp_path):
    a, b = tmp_path / "a.cfg", tmp_path / "b.cfg"
    a.write_text("x=1\ny=2\n")
    b.write_text("y=3\n")
    assert run(files.merged_config([a, b])) == {"x": "1", "y": "3"}
    assert files.read_config is not None


def test_append_log_grows(tmp_path):
    path = tmp_path / "log.txt"
    assert run(files.append_log(path, "one")) == 4
    assert run(files.append_log(path, "two\n")) == 8
    assert path.read_text() == "one\ntwo\n"


def test_append_log_via_async_caller(tmp_path):
    path = tmp_path / "log.txt"
    assert run(files.log_all(path, ["a", "bb"])) == 5
    assert path.read_text() == "a\nbb\n"
    assert files.append_log is not None


def test_copy_upper_copies(tmp_path):
    src, dst = tmp_path / "s.txt", tmp_path / "d.txt"
    src.write_text("Hello, wörld\n", encoding="utf-8")
    assert run(files.copy_upper(src, dst)) == 13
    assert dst.read_text(encoding="utf-8") == "HELLO, WÖRLD\n"


def test_load_json_files_in_order(tmp_path):
    a = tmp_path / "a.json"
    a.write_text(json.dumps({"k": [1, 2]}))
    b = tmp_path / "b.json"
    b.write_text("3")
    assert run(files.load_json_files([a, tmp_path / "nope.json", b])) == [{"k": [1, 2]}, None, 3]
    assert run(files.load_json_files([])) == []


def test_configkeys(tmp_path):
    path = tmp_path / "c.cfg"
    path.write_text("b=1\na=2\n")
    assert run(files.config_keys(path)) == ["a", "b"]
