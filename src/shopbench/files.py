"""Atomic file writing: a failed or killed step never leaves a partial output behind."""

from __future__ import annotations

import contextlib
import glob
import hashlib
import os
import secrets
from pathlib import Path
from typing import Iterator


#: Characters of a temporary file's random part (tempfile's: no dot, so the stale-file pattern
#: below matches no other target's temporary files).
_RANDOM_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789_"


def _temp_beside(target: Path, suffix: str = ".tmp") -> Path:
    """A new empty temporary file next to ``target``, after removing stale ones.

    A step killed outright (SIGKILL, power loss) cannot clean up; only one job writes a given
    target at a time, so temporary files left for it by an earlier run are removed here.

    The file is created with mode 0o666 less the umask, as ``open()`` creates files, so the
    target it is renamed onto is as readable as any other file the user writes (mkstemp's
    private 0o600 would stay on every result file after the rename).
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    for stale in glob.glob(glob.escape(str(target.parent / f".{target.name}.")) + "????????.tmp*"):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(stale)
    while True:
        random = "".join(secrets.choice(_RANDOM_CHARS) for _ in range(8))
        tmp = target.parent / f".{target.name}.{random}{suffix}"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            continue
        os.close(fd)
        return tmp


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; rename it onto ``path`` only on success."""
    target = Path(path)
    tmp_path = _temp_beside(target)
    try:
        yield tmp_path
        os.replace(tmp_path, target)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


@contextlib.contextmanager
def atomic_outputs(*paths: str | os.PathLike) -> Iterator[list[Path]]:
    """Yield temporary paths for several outputs of one step; rename them all only on success.

    A temporary path keeps its target's suffix (writers pick the format from it). If the block
    raises, every temporary file is removed and no target is touched, so a failed step leaves
    none of its outputs behind, rather than some of them.
    """
    targets = [Path(p) for p in paths]
    temps: list[Path] = []
    try:
        for target in targets:
            temps.append(_temp_beside(target, f".tmp{target.suffix}"))
        yield list(temps)
        for tmp, target in zip(temps, targets):
            os.replace(tmp, target)
    finally:
        for tmp in temps:
            if tmp.exists():
                tmp.unlink()


def write_text_atomic(path: str | os.PathLike, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_frame(df, path: str | os.PathLike) -> None:
    """Write a DataFrame atomically: parquet for ``.parquet``, else tab- or comma-separated."""
    path = Path(path)
    with atomic_path(path) as tmp:
        if path.suffix == ".parquet":
            df.to_parquet(tmp, index=False)
        elif path.suffix == ".csv":
            df.to_csv(tmp, index=False, lineterminator="\n")
        else:
            df.to_csv(tmp, index=False, sep="\t", lineterminator="\n")


def sha256_file(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(chunk), b""):
            digest.update(block)
    return digest.hexdigest()
