"""Writing outputs so that a reader never sees half a file, and a command leaves all its outputs or none.

A command that writes several files (a JSON result and an HTML report, a dbt schema
and its macros) checks every output path before any work (:func:`check_outputs`),
renders everything in memory, then hands the lot to :func:`commit_outputs`: each file
goes to a temporary file beside its target, and only when every temporary file is
written are they all renamed into place. On any failure the temporary files (and any
folder made for them) are removed, so bad input leaves nothing behind.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from airflow_provider_parity.exceptions import ConfigurationError

Output = str | bytes
"""A file's content: text is written as UTF-8."""

PathT = TypeVar("PathT", bound="str | os.PathLike[str]")


def _existing_ancestor(target: Path) -> Path:
    parent = target.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    return parent


def check_output(path: str | os.PathLike[str]) -> Path:
    """Refuse an output path that cannot be written, before any work is done.

    Raises:
        ConfigurationError: the path is a directory, sits under a file, or its folder is not writable.
    """
    target = Path(path)
    shown = os.fspath(path)
    if not shown:
        raise ConfigurationError("an output path is empty")
    if target.is_dir():
        raise ConfigurationError(f"{shown}: is a directory, expected a file path")
    folder = _existing_ancestor(target)
    if not folder.is_dir():
        raise ConfigurationError(f"{shown}: {folder} is a file, not a directory")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ConfigurationError(f"{shown}: cannot write into {folder} (permission denied)")
    return target


def check_outputs(*paths: str | os.PathLike[str] | None,
                  inputs: Iterable[str | os.PathLike[str] | None] = ()) -> list[Path]:
    """:func:`check_output` for every path given (``None``: an output not asked for).

    Two outputs naming one file, or an output that is (or lies inside) one of the
    command's local ``inputs``, are refused too: the command would overwrite what it reads.

    Raises:
        ConfigurationError: a path cannot be written, or clashes with another.
    """
    given = [p for p in paths if p is not None and p != ""]
    targets = [check_output(p) for p in given]
    seen: dict[Path, str] = {}
    for shown, target in zip(given, targets, strict=True):
        resolved = target.resolve()
        if resolved in seen:
            raise ConfigurationError(f"{shown}: the same file as the output {seen[resolved]}")
        seen[resolved] = str(shown)
    for source in inputs:
        if source is None or "://" in str(source) or not os.path.exists(source):
            continue
        root = Path(source).resolve()
        for resolved, shown in seen.items():
            if resolved == root or root in resolved.parents:
                raise ConfigurationError(f"{shown}: would overwrite the input {source}")
    return targets


def _make_parents(folder: Path, made: list[Path]) -> None:
    missing = []
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    for part in reversed(missing):
        part.mkdir()
        made.append(part)


def _write_temp(target: Path, data: bytes) -> Path:
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return Path(tmp)


def _undo(temps: list[Path], made: list[Path]) -> None:
    for tmp in temps:
        tmp.unlink(missing_ok=True)
    for folder in reversed(made):
        try:
            folder.rmdir()
        except OSError:  # something else wrote into it meanwhile: not ours to remove
            pass


def commit_outputs(files: Mapping[PathT, Output]) -> list[Path]:
    """Write every file of ``files`` or none of them.

    Every file is first written to a temporary file in its target's folder; the
    renames happen only once all are written. A failure (a folder that cannot be
    written, a full disk) removes the temporary files and the folders made for
    them, and names the path as given, never the temporary file.

    Args:
        files: target path -> content (text is written as UTF-8).

    Returns:
        The paths written, in the order given.

    Raises:
        ConfigurationError: a path cannot be written.

    Example:
        >>> commit_outputs({"out/r.json": json_text({"ok": True}), "out/r.html": "<p>ok</p>"})
        [PosixPath('out/r.json'), PosixPath('out/r.html')]
    """
    targets = [(str(path), check_output(path)) for path in files]
    temps: list[Path] = []
    made: list[Path] = []
    current = ""  # the path as the user gave it, for the message
    try:
        for (shown, target), data in zip(targets, files.values(), strict=True):
            current = shown
            _make_parents(target.parent, made)
            temps.append(_write_temp(target, data.encode("utf-8") if isinstance(data, str) else data))
        # Renames within one folder do not fail once the temporary file is there.
        for (shown, target), tmp in zip(targets, temps, strict=True):
            current = shown
            os.replace(tmp, target)
    except OSError as exc:
        _undo(temps, made)
        raise ConfigurationError(f"{current}: cannot write: {exc.strerror or exc}") from None
    except BaseException:
        _undo(temps, made)
        raise
    return [target for _, target in targets]


def json_text(payload: Any) -> str:
    """The project's JSON file format: indented, sorted keys, strict (no NaN or infinity)."""
    return json.dumps(payload, indent=2, sort_keys=True, allow_nan=False) + "\n"


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary file and a rename.

    A crash or an error mid-write leaves the previous file (or none) in place,
    never a truncated one.
    """
    return commit_outputs({path: data})[0]


def atomic_write_text(path: str | os.PathLike[str], text: str) -> Path:
    return commit_outputs({path: text})[0]


def atomic_write_json(path: str | os.PathLike[str], payload: Any) -> Path:
    return commit_outputs({path: json_text(payload)})[0]
