"""SQLite store: one file, WAL journal, one transaction per save or batch.

Opening never writes to a file that is not already a Loci store: a corrupt
file, another application's database or a store of a newer schema is refused
with its own error before anything is changed.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from memory_core.errors import CorruptStoreError, ForeignStoreError, SchemaVersionError, StoreError
from memory_core.gcpause import paused_gc
from memory_core.policies import EntryMeta
from memory_core.snapshot import ChangeSet, MemorySnapshot
from memory_core.stm import ObjectState
from memory_core.store import codec
from memory_core.types import SceneNode

__all__ = ["APPLICATION_ID", "SCHEMA_VERSION", "SQLiteStore"]

log = logging.getLogger(__name__)

APPLICATION_ID = 0x4C4F4349  # "LOCI"
SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE nodes(id TEXT PRIMARY KEY, layer TEXT NOT NULL, label TEXT NOT NULL,
                   x REAL NOT NULL, y REAL NOT NULL, z REAL NOT NULL,
                   data TEXT NOT NULL, embedding BLOB) WITHOUT ROWID;
CREATE TABLE edges(src TEXT NOT NULL, rel TEXT NOT NULL, dst TEXT NOT NULL, attrs TEXT,
                   PRIMARY KEY(src, rel, dst)) WITHOUT ROWID;
CREATE TABLE stm(object_id TEXT PRIMARY KEY, data TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE episodes(id TEXT PRIMARY KEY, data TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE events(seq INTEGER PRIMARY KEY, t REAL NOT NULL, episode_id TEXT NOT NULL,
                    data TEXT NOT NULL);
CREATE INDEX events_t ON events(t);
"""


class SQLiteStore:
    def __init__(self, path: str | Path, synchronous: str = "NORMAL") -> None:
        self.path = Path(path)
        self._conn = self._open(synchronous)
        self._quarantine: dict[str, tuple[object, ...]] = {}
        """Node rows the last load could not use, by id: a save writes them back unless
        the memory has a node of that id again, so loading never loses them."""
        self._quarantined_edges: list[tuple[object, ...]] = []

    # ------------------------------------------------------------------ opening
    def _open(self, synchronous: str) -> sqlite3.Connection:
        # Only a file this store creates gets the schema: an existing file that is not a
        # Loci store (even an empty or 1-byte one) is someone else's and is left alone.
        existed = self.path.exists()
        if existed and not self.path.is_file():
            raise StoreError(f"{self.path} is not a file")
        try:
            conn = sqlite3.connect(self.path, isolation_level=None, timeout=30.0)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open store {self.path}: {exc}") from exc
        try:
            app_id = conn.execute("PRAGMA application_id").fetchone()[0]
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise CorruptStoreError(
                f"{self.path} is not a readable SQLite database: {exc}"
            ) from exc
        if app_id != APPLICATION_ID:
            if tables:
                conn.close()
                raise ForeignStoreError(
                    f"{self.path} is a SQLite database of another application "
                    f"(application_id={app_id:#x}); refusing to touch it"
                )
            if existed:
                conn.close()
                raise ForeignStoreError(
                    f"{self.path} exists but is not a Loci store (an empty file, or one that "
                    "is not a database); refusing to write into it: remove it or choose "
                    "another path"
                )
            self._create(conn)
        elif version != SCHEMA_VERSION:
            conn.close()
            newer = "newer" if version > SCHEMA_VERSION else "older"
            raise SchemaVersionError(
                f"{self.path} has schema version {version}, {newer} than this Loci "
                f"(reads version {SCHEMA_VERSION})"
            )
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(f"PRAGMA synchronous={synchronous}")
        conn.execute("PRAGMA foreign_keys=OFF")
        try:
            # Rewiring a node's edges deletes by target too: without this index every
            # commit scanned the whole edge table (stores made before it get it here; an
            # index changes no row, so older builds read the file as before).
            conn.execute("CREATE INDEX IF NOT EXISTS edges_dst ON edges(dst)")
        except sqlite3.OperationalError as exc:  # a read-only file: slower, not wrong
            log.info("%s: no index on edge targets (%s)", self.path, exc)
        return conn

    @staticmethod
    def _create(conn: sqlite3.Connection) -> None:
        # One script, one transaction: a crash mid-creation leaves an empty file, not half a schema.
        script = (
            "BEGIN IMMEDIATE;"
            + _SCHEMA
            + f"PRAGMA application_id={APPLICATION_ID};PRAGMA user_version={SCHEMA_VERSION};COMMIT;"
        )
        try:
            conn.executescript(script)
        except sqlite3.Error:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        log.info("created Loci store schema v%d", SCHEMA_VERSION)

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> SQLiteStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ transactions
    @contextmanager
    def batch(self) -> Iterator[_Batch]:
        """One transaction: everything written inside commits together or not at all."""
        conn = self._conn
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"cannot start a transaction on {self.path}: {exc}") from exc
        try:
            yield _Batch(conn)
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            _rollback(conn)
            raise StoreError(f"write to {self.path} failed and was rolled back: {exc}") from exc
        except (TypeError, ValueError) as exc:
            # orjson/sqlite3 refuse a value (a lone surrogate, a foreign type): nothing was
            # written. Value types validate text, so this is a bug or a hand-built record.
            _rollback(conn)
            raise StoreError(
                f"a record could not be encoded for {self.path}; nothing was written: {exc}"
            ) from exc
        except BaseException:
            _rollback(conn)
            raise

    def write(self, changes: ChangeSet) -> None:
        with self.batch() as b:
            b.write(changes)

    def save(self, snapshot: MemorySnapshot) -> None:
        with paused_gc(), self.batch() as b:
            for table in ("nodes", "edges", "stm", "episodes", "events", "meta"):
                b.conn.execute(f"DELETE FROM {table}")
            if self._quarantine:
                live = {n.id for n in snapshot.nodes}
                kept = {i: row for i, row in self._quarantine.items() if i not in live}
                b.conn.executemany("INSERT INTO nodes VALUES (?,?,?,?,?,?,?,?)", kept.values())
                b.conn.executemany(
                    "INSERT OR REPLACE INTO edges VALUES (?,?,?,?)",
                    [e for e in self._quarantined_edges if e[0] in kept or e[2] in kept],
                )
            b.write(
                ChangeSet(
                    nodes=snapshot.nodes,
                    edges=snapshot.edges,
                    episodes=snapshot.episodes,
                    events=snapshot.events,
                    graph_meta=snapshot.graph_meta,
                    stm_entries=snapshot.stm_entries,
                    stm_meta=snapshot.stm_meta,
                )
            )

    def load(self) -> MemorySnapshot:
        with paused_gc():
            return self._load()

    def _load(self) -> MemorySnapshot:
        conn = self._conn
        try:
            conn.execute("BEGIN")
            try:
                meta = {
                    k: codec.loads_revived(v)
                    for k, v in conn.execute("SELECT key, value FROM meta")
                }
                nodes, quarantine = self._load_nodes(conn)
                edges = []
                q_edges = []
                for r in conn.execute("SELECT * FROM edges ORDER BY src, rel, dst"):
                    if r[0] in quarantine or r[2] in quarantine:
                        q_edges.append(tuple(r))
                    else:
                        edges.append(codec.edge_from((r[0], r[2], r[1], r[3])))
                stm = self._load_stm(conn)
                episodes = tuple(
                    codec.episode_from(r[0], codec.loads(r[1]))
                    for r in conn.execute("SELECT id, data FROM episodes ORDER BY id")
                )
                events = tuple(
                    codec.event_from(r[0], r[1], r[2], codec.loads(r[3]))
                    for r in conn.execute(
                        "SELECT seq, t, episode_id, data FROM events ORDER BY seq"
                    )
                )
            finally:
                conn.execute("COMMIT")
        except sqlite3.DatabaseError as exc:
            raise CorruptStoreError(f"cannot read {self.path}: {exc}") from exc
        except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
            raise CorruptStoreError(f"{self.path} holds a malformed record: {exc!r}") from exc
        self._quarantine = {i: row for i, (row, _why) in quarantine.items()}
        self._quarantined_edges = q_edges
        for node_id, (_row, why) in quarantine.items():
            log.warning(
                "%s: node %r quarantined (not loaded, kept in the store): %s",
                self.path,
                node_id,
                why,
            )
        return MemorySnapshot(
            nodes=tuple(nodes),
            edges=tuple(edges),
            graph_meta=meta.get("graph", {}),
            stm_entries=stm,
            stm_meta=meta.get("stm", {}),
            episodes=episodes,
            events=events,
            quarantined=tuple((i, why) for i, (_row, why) in quarantine.items()),
        )

    @staticmethod
    def _load_nodes(
        conn: sqlite3.Connection,
    ) -> tuple[list[SceneNode], dict[str, tuple[tuple[object, ...], str]]]:
        nodes: list[SceneNode] = []
        quarantine: dict[str, tuple[tuple[object, ...], str]] = {}
        for r in conn.execute("SELECT * FROM nodes ORDER BY id"):
            pos = (r[3], r[4], r[5])
            try:
                d = codec.loads(r[6])
                emb = codec.decode_embedding(r[7])
            except (TypeError, ValueError) as exc:
                quarantine[str(r[0])] = (tuple(r), f"undecodable record: {exc}")
                continue
            why = codec.node_problem(r[0], r[1], r[2], pos, d, emb)
            if why is not None:
                quarantine[str(r[0])] = (tuple(r), why)
                continue
            nodes.append(codec.node_from(r[0], r[1], r[2], pos, d, emb))
        return nodes, quarantine

    def _load_stm(self, conn: sqlite3.Connection) -> tuple[tuple[ObjectState, EntryMeta], ...]:
        # The STM is a bounded cache refilled by observation: an entry that cannot be read
        # is dropped (and said), not allowed to make the whole memory unloadable.
        out = []
        for r in conn.execute("SELECT object_id, data FROM stm ORDER BY object_id"):
            try:
                out.append(codec.stm_from(r[0], codec.loads(r[1])))
            except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
                log.warning("%s: short-term entry %r dropped: %s", self.path, r[0], exc)
        return tuple(out)

    def integrity_check(self) -> str:
        return str(self._conn.execute("PRAGMA integrity_check").fetchone()[0])


def _rollback(conn: sqlite3.Connection) -> None:
    """Roll back the open transaction; SQLite has already done so after some errors (a
    full disk), and a second rollback would raise instead of the error that matters."""
    if conn.in_transaction:
        conn.execute("ROLLBACK")


class _Batch:
    """Writes inside an open transaction (see :meth:`SQLiteStore.batch`)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def write(self, c: ChangeSet) -> None:
        ex = self.conn.executemany
        if c.removed_nodes:
            gone = [(i,) for i in c.removed_nodes]
            ex("DELETE FROM nodes WHERE id = ?", gone)
            ex("DELETE FROM edges WHERE src = ?", gone)
            ex("DELETE FROM edges WHERE dst = ?", gone)
        ex(
            "INSERT OR REPLACE INTO nodes VALUES (?,?,?,?,?,?,?,?)",
            [
                (
                    n.id,
                    n.layer.value,
                    n.label,
                    *n.position,
                    codec.dumps(codec.node_to(n)),
                    codec.embedding_blob(n.embedding),
                )
                for n in c.nodes
            ],
        )
        if c.edge_nodes:
            ex("DELETE FROM edges WHERE src = ?", [(s,) for s in c.edge_nodes])
            ex("DELETE FROM edges WHERE dst = ?", [(s,) for s in c.edge_nodes])
        ex(
            "INSERT OR REPLACE INTO edges(src, dst, rel, attrs) VALUES (?,?,?,?)",
            [codec.edge_to(e) for e in c.edges],
        )
        ex(
            "INSERT OR REPLACE INTO episodes VALUES (?,?)",
            [(e.episode_id, codec.dumps(codec.episode_to(e))) for e in c.episodes],
        )
        ex(
            "INSERT INTO events VALUES (?,?,?,?)",
            [(e.seq, e.t, e.episode_id, codec.dumps(codec.event_to(e))) for e in c.events],
        )
        meta: list[tuple[str, str]] = []
        if c.graph_meta is not None:
            meta.append(("graph", codec.dumps(c.graph_meta)))
        if c.stm_entries is not None:
            self.conn.execute("DELETE FROM stm")
            ex(
                "INSERT INTO stm VALUES (?,?)",
                [(s.object_id, codec.dumps(codec.stm_to(s, m))) for s, m in c.stm_entries],
            )
        if c.stm_meta is not None:
            meta.append(("stm", codec.dumps(c.stm_meta)))
        ex("INSERT OR REPLACE INTO meta VALUES (?,?)", meta)
