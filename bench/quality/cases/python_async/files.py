"""Functions that read and write files."""

import json
import os


def write_lines(path, lines):
    """Write each line followed by a newline; return how many were written."""
    with open(path, "w", encoding="utf-8") as fh:
        for line in lines:
            fh.write(line + "\n")
    return len(lines)


def read_config(path):
    """key=value lines into a dict; blank lines and # comments are skipped."""
    config = {}
    with open(path, encoding="utf-8") as fh:
        for raw in fh:
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            key, _, value = line.partition("=")
            config[key.strip()] = value.strip()
    return config


def append_log(path, message):
    """Append one line to a log file; the file's new size in bytes."""
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(message.rstrip("\n") + "\n")
    return os.path.getsize(path)


def copy_upper(src, dst):
    """Copy src to dst in upper case; the number of characters copied."""
    with open(src, encoding="utf-8") as fh:
        text = fh.read()
    with open(dst, "w", encoding="utf-8") as out:
        out.write(text.upper())
    return len(text)


def load_json_files(paths):
    """The JSON documents of several files, in order; missing files give None."""
    documents = []
    for path in paths:
        if not os.path.exists(path):
            documents.append(None)
            continue
        with open(path, encoding="utf-8") as fh:
            documents.append(json.load(fh))
    return documents


async def merged_config(paths):
    merged = {}
    for path in paths:
        merged.update(read_config(path))
    return merged


async def log_all(path, messages):
    size = 0
    for message in messages:
        size = append_log(path, message)
    return size


def config_keys(path):
    return sorted(read_config(path))
