"""The on-disk store cache: a map loaded (and validated) once, then opened in a fraction of a second at every start.

A loaded map is written into a pyoxigraph on-disk store (RocksDB) in a folder of the cache named by a **key**: the
SHA-256 of the content of the map's files (with their names, which decide their named graphs), of the vocabulary
files, of the base IRI, of the package and pyoxigraph versions and of this module's format version. A changed file
gives another key, so the map is loaded again; nothing else decides whether an entry is used.

- **Never half-built.** An entry is built in a folder of its own (``building-<key>-<pid>``) and renamed to its key
  only when complete; a build killed midway leaves a ``building-`` folder that the next start removes (when its
  process is gone) and never opens. Two servers building the same key at once: the first rename wins, the second
  discards its copy and opens the winner's.
- **Bounded.** At most ``keep`` entries stay; the least recently opened beyond that are removed.
- **Only the files' content.** A write to the opened store (the living map's changes, EvidenceMap.changed) marks
  its entry modified: it no longer holds what its key says, so the next start builds it again from the files (the
  living map's journal then replays onto it) instead of opening it.
- **Derived state beside it.** What is computed from the map and costly to compute again (the SHACL validation
  result, the facet index) is kept in the entry's ``derived/`` folder under the same key (:meth:`CacheEntry.save`),
  so a second start neither parses, validates nor indexes.
- **Hashing without reading.** Hashing the files of a 100,000-study map (2.8 GB) takes seconds; a file whose
  size, modification time and inode are those recorded when it was last hashed keeps its recorded digest
  (``digests.json``). Editing a file changes its modification time, so it is hashed again.

Derived state is stored with :mod:`pickle`, which runs code when read: the cache folder is created readable and
writable by its owner only (0700), the same trust as the user's own files.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import pickle
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from evidencemap import __version__

log = logging.getLogger("evidencemap.store")

FORMAT_VERSION = 1  # bump when what an entry holds, or how, changes
BUILDING = "building-"
STALE = "stale-"
MODIFIED = "modified"
DIGESTS = "digests.json"
STORE = "store"
DERIVED = "derived"
USED = "last-used"


def default_root() -> Path:
    """``$XDG_CACHE_HOME/evidencemap``, else ``~/.cache/evidencemap``."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "evidencemap"


@dataclass(frozen=True)
class CacheEntry:
    """One complete entry of the cache: the on-disk store of one key, and what is derived from it."""

    folder: Path
    key: str

    @property
    def store_path(self) -> Path:
        return self.folder / STORE

    def mark_modified(self) -> None:
        """Record that the store was written to: its derived structures are dropped, and the next start does not
        open this entry (it is built again from the files)."""
        with contextlib.suppress(OSError):
            (self.folder / MODIFIED).touch()
        shutil.rmtree(self.folder / DERIVED, ignore_errors=True)

    def saved(self, name: str) -> object | None:
        """The derived structure ``name`` saved in this entry; None when there is none (or it cannot be read)."""
        path = self.folder / DERIVED / f"{name}.pickle"
        try:
            with path.open("rb") as file:
                value: object = pickle.load(file)
                return value
        except FileNotFoundError:
            return None
        except Exception as exc:  # a file from an interrupted write or an older format: computed again
            log.warning("cannot read %s (%s); it is computed again", path, exc)
            return None

    def save(self, name: str, value: object) -> None:
        """Keep ``value`` as the derived structure ``name`` (written whole, then renamed into place)."""
        folder = self.folder / DERIVED
        folder.mkdir(exist_ok=True)
        partial = folder / f".{name}.{os.getpid()}.partial"
        try:
            with partial.open("wb") as file:
                pickle.dump(value, file, protocol=pickle.HIGHEST_PROTOCOL)
            partial.replace(folder / f"{name}.pickle")
        except OSError as exc:  # a read-only or full cache: the server still runs, the next start recomputes
            log.warning("cannot save %s in %s: %s", name, folder, exc)
            partial.unlink(missing_ok=True)


def file_digest(path: Path, memo: dict[str, list[object]]) -> str:
    """SHA-256 of ``path``'s content; taken from ``memo`` (updated) when its size, mtime and inode are unchanged."""
    stat = path.stat()
    fingerprint: list[object] = [stat.st_size, stat.st_mtime_ns, stat.st_ino]
    name = str(path.resolve())
    known = memo.get(name)
    if known is not None and known[:3] == fingerprint and isinstance(known[3], str):
        return known[3]
    with path.open("rb") as file:
        digest = hashlib.file_digest(file, "sha256").hexdigest()
    memo[name] = [*fingerprint, digest]
    return digest


class StoreCache:
    """The cache folder: finds, builds, opens and bounds its entries."""

    def __init__(self, root: Path, keep: int = 3) -> None:
        self.root = root
        self.keep = max(1, keep)

    def key(self, files: Sequence[Path], vocabulary: Sequence[Path], base_iri: str) -> str:
        """The key of a map made of ``files`` and ``vocabulary`` served under ``base_iri``."""
        memo = self._read_digests()
        parts = [f"format {FORMAT_VERSION}", f"evidencemap {__version__}", f"pyoxigraph {ox.__version__}",
                 f"base {base_iri}"]
        parts += [f"vocabulary {p.name} {file_digest(p, memo)}" for p in vocabulary]
        parts += [f"data {p.name} {file_digest(p, memo)}" for p in files]
        self._write_digests(memo)
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:32]

    def open(self, key: str, build: Callable[[], ox.Store]) -> tuple[ox.Store, CacheEntry, bool]:
        """The on-disk store of ``key``, built from the in-memory store ``build`` returns when there is none yet.

        :returns: the opened store, its entry, and whether it was built now.
        :raises: whatever ``build`` raises (nothing is kept then).
        """
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._remove_abandoned()
        entry = CacheEntry(self.root / key, key)
        built = False
        if (entry.folder / MODIFIED).exists():  # written to since it was built: set aside, built again
            with contextlib.suppress(OSError):
                entry.folder.rename(self.root / f"{STALE}{key}-{os.getpid()}")
            self._remove_abandoned()
        if not entry.store_path.is_dir():
            self._build(entry, build)
            built = True
        store = _open_store(entry.store_path)
        with contextlib.suppress(OSError):
            (entry.folder / USED).touch()
        self._bound(keep=entry)
        return store, entry, built

    def entries(self) -> list[Path]:
        """The complete entries, the most recently opened first."""
        if not self.root.is_dir():
            return []
        found = [p for p in self.root.iterdir() if p.is_dir() and not p.name.startswith((BUILDING, STALE))
                 and (p / STORE).is_dir()]
        return sorted(found, key=_last_used, reverse=True)

    # -- building -----------------------------------------------------------------------------------------------

    def _build(self, entry: CacheEntry, build: Callable[[], ox.Store]) -> None:
        started = time.perf_counter()
        staging = self.root / f"{BUILDING}{entry.key}-{os.getpid()}"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(mode=0o700)
        try:
            phases = _write_store(build, staging)
            (staging / USED).touch()
            try:
                staging.rename(entry.folder)
            except OSError:  # another process finished the same key first: use its entry
                if not entry.store_path.is_dir():
                    raise
                shutil.rmtree(staging, ignore_errors=True)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        log.info("map written to the store cache %s in %.1f s (%s)", entry.folder, time.perf_counter() - started,
                 ", ".join(f"{name} {seconds:.1f} s" for name, seconds in phases.items()))

    def _remove_abandoned(self) -> None:
        """Remove ``building-`` folders whose process is gone (a build that was killed), and set-aside entries."""
        for folder in [*self.root.glob(f"{BUILDING}*"), *self.root.glob(f"{STALE}*")]:
            pid = folder.name.rsplit("-", 1)[-1]
            if not (pid.isdigit() and _alive(int(pid))):
                shutil.rmtree(folder, ignore_errors=True)

    def _bound(self, keep: CacheEntry) -> None:
        for folder in self.entries()[self.keep:]:
            if folder != keep.folder:
                shutil.rmtree(folder, ignore_errors=True)

    # -- file digests -------------------------------------------------------------------------------------------

    def _read_digests(self) -> dict[str, list[object]]:
        try:
            memo = json.loads((self.root / DIGESTS).read_text())
        except (OSError, ValueError):
            return {}
        return memo if isinstance(memo, dict) else {}

    def _write_digests(self, memo: dict[str, list[object]]) -> None:
        try:
            self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
            partial = self.root / f".{DIGESTS}.{os.getpid()}"
            partial.write_text(json.dumps(memo))
            partial.replace(self.root / DIGESTS)
        except OSError as exc:
            log.warning("cannot record file digests in %s: %s", self.root, exc)


def _write_store(build: Callable[[], ox.Store], staging: Path) -> dict[str, float]:
    """Write the in-memory store ``build`` returns into the on-disk store ``staging/store``, closed when this returns;
    the seconds each phase took (logged: what a first start spends is read from the log).

    ``bulk_extend`` over the in-memory store's quads. Measured against pyoxigraph's own path (an N-Quads dump bulk
    loaded from a file, no Python object per quad) in turns on the same store at 10,000 studies: 42 s and 53 s
    against 41 s and 74 s on a loaded machine, so no gain, and the dump needs a temporary file as large as the map
    (4.6 GB at 100,000 studies) and 58 s to write it there (docs/benchmarks.md, start-up section). Writing RocksDB
    is the cost, as ``oxigraph load`` of the same file shows.
    """
    phases: dict[str, float] = {}
    started = time.perf_counter()
    memory = build()
    phases["parse and materialise"] = time.perf_counter() - started
    started = time.perf_counter()
    disk = ox.Store(str(staging / STORE))
    disk.bulk_extend(memory.quads_for_pattern(None, None, None, None))
    del memory
    disk.flush()
    phases["write"] = time.perf_counter() - started
    started = time.perf_counter()
    disk.optimize()
    phases["optimize"] = time.perf_counter() - started
    del disk  # closes the store: its files are complete before the rename
    return phases


def _open_store(path: Path) -> ox.Store:
    """The store at ``path``, read-write; read-only when another process holds it open for writing (a second
    server on the same cache)."""
    try:
        return ox.Store(str(path))
    except OSError as exc:
        log.info("store %s is in use by another process (%s); opened read-only", path, exc)
        return ox.Store.read_only(str(path))


def _last_used(folder: Path) -> float:
    try:
        return (folder / USED).stat().st_mtime
    except OSError:
        return 0.0


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


__all__ = ["CacheEntry", "StoreCache", "default_root", "file_digest"]
