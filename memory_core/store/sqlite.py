"""SQLite store: one file, WAL journal, one transaction per save or batch.

Opening never writes to a file that is not already a Loci store: a corrupt
file, another application's database or a store of a newer schema is refused
with its own error before anything is changed.

The scene graph is kept in two layers. A save writes the whole graph as a *base* of
columns (a few blobs, :mod:`memory_core.store.columns`); commits after it write the
nodes and edges they change as rows, which load over the base: a row replaces the base's
node of its id, a tombstone removes one, and a node listed in ``edge_dirty`` has its
edges given by the rows alone. A store of schema 1 (rows only) is upgraded in place when
opened (older builds then refuse it: they would miss the base).
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import orjson

from memory_core.cold import LazyEdges, LazyNodes
from memory_core.errors import CorruptStoreError, ForeignStoreError, SchemaVersionError, StoreError
from memory_core.gcpause import paused_gc
from memory_core.policies import EntryMeta
from memory_core.snapshot import ChangeSet, MemorySnapshot
from memory_core.stm import ObjectState
from memory_core.store import codec, columns
from memory_core.types import SceneEdge, SceneNode

__all__ = ["APPLICATION_ID", "SCHEMA_VERSION", "SQLiteStore"]

log = logging.getLogger(__name__)

APPLICATION_ID = 0x4C4F4349  # "LOCI"
SCHEMA_VERSION = 2
PAGE_SIZE = 16384

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

_SCHEMA_2 = """
CREATE TABLE base(key TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE tombstones(id TEXT PRIMARY KEY) WITHOUT ROWID;
CREATE TABLE edge_dirty(id TEXT PRIMARY KEY) WITHOUT ROWID;
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
        elif version == 1:
            self._upgrade(conn)
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

    def _upgrade(self, conn: sqlite3.Connection) -> None:
        """Schema 1 -> 2: the base tables, empty (every node stays a row until a save)."""
        try:
            conn.executescript(
                f"BEGIN IMMEDIATE;{_SCHEMA_2}PRAGMA user_version={SCHEMA_VERSION};COMMIT;"
            )
        except sqlite3.Error as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            conn.close()
            raise StoreError(
                f"{self.path} has schema version 1 and could not be upgraded to "
                f"{SCHEMA_VERSION} (is it read-only?): {exc}"
            ) from exc
        log.info("%s: upgraded store schema 1 -> %d", self.path, SCHEMA_VERSION)

    @staticmethod
    def _create(conn: sqlite3.Connection) -> None:
        # One script, one transaction: a crash mid-creation leaves an empty file, not half a schema.
        script = (
            "BEGIN IMMEDIATE;"
            + _SCHEMA
            + _SCHEMA_2
            + f"PRAGMA application_id={APPLICATION_ID};PRAGMA user_version={SCHEMA_VERSION};COMMIT;"
        )
        try:
            conn.execute(f"PRAGMA page_size={PAGE_SIZE}")
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
        with paused_gc():
            try:
                node_cols = columns.NodeColumns.from_nodes(snapshot.nodes)
                live = set(node_cols.ids)
                if len(live) != len(node_cols):
                    raise StoreError(
                        f"{self.path}: the snapshot repeats a node id; nothing was written"
                    )
                try:
                    edge_cols = columns.EdgeColumns.from_edges(snapshot.edges, node_cols.ids)
                except KeyError as exc:
                    raise StoreError(
                        f"{self.path}: an edge names an unknown node {exc}; nothing was written"
                    ) from exc
                blobs = columns.encode_base(node_cols, edge_cols)
            except (TypeError, ValueError) as exc:
                raise StoreError(
                    f"a record could not be encoded for {self.path}; nothing was written: {exc}"
                ) from exc
            self._save(snapshot, blobs, live)

    def _save(self, snapshot: MemorySnapshot, blobs: dict[str, bytes], live: set[str]) -> None:
        with self.batch() as b:
            for table in (
                "nodes",
                "edges",
                "stm",
                "episodes",
                "events",
                "meta",
                "base",
                "tombstones",
                "edge_dirty",
            ):
                b.conn.execute(f"DELETE FROM {table}")
            b.conn.executemany("INSERT INTO base VALUES (?,?)", blobs.items())
            if self._quarantine:
                kept = {i: row for i, row in self._quarantine.items() if i not in live}
                b.conn.executemany("INSERT INTO nodes VALUES (?,?,?,?,?,?,?,?)", kept.values())
                b.conn.executemany(
                    "INSERT OR REPLACE INTO edges VALUES (?,?,?,?)",
                    [e for e in self._quarantined_edges if e[0] in kept or e[2] in kept],
                )
            b.write(
                ChangeSet(
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
                rows, quarantine = self._load_nodes(conn)
                row_edges = []
                q_edges = []
                for r in conn.execute("SELECT * FROM edges ORDER BY src, rel, dst"):
                    if r[0] in quarantine or r[2] in quarantine:
                        q_edges.append(tuple(r))
                    else:
                        row_edges.append(codec.edge_from((r[0], r[2], r[1], r[3])))
                nodes, edges = self._over_base(conn, rows, row_edges, quarantine, q_edges)
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
            nodes=nodes,
            edges=edges,
            graph_meta=meta.get("graph", {}),
            stm_entries=stm,
            stm_meta=meta.get("stm", {}),
            episodes=episodes,
            events=events,
            quarantined=tuple((i, why) for i, (_row, why) in quarantine.items()),
        )

    def _over_base(
        self,
        conn: sqlite3.Connection,
        rows: list[SceneNode],
        row_edges: list[SceneEdge],
        quarantine: dict[str, tuple[tuple[object, ...], str]],
        q_edges: list[tuple[object, ...]],
    ) -> tuple[LazyNodes, LazyEdges | tuple[SceneEdge, ...]]:
        """The base's nodes and edges with the rows laid over them (see the module doc)."""
        blobs = {str(k): bytes(v) for k, v in conn.execute("SELECT key, value FROM base")}
        if not blobs:
            return LazyNodes(None, (), tuple(rows)), tuple(row_edges)
        try:
            cols, edge_cols, intact = columns.decode_base(blobs)
        except (KeyError, TypeError, ValueError, orjson.JSONDecodeError) as exc:
            raise CorruptStoreError(f"{self.path}: the saved graph is unreadable: {exc}") from exc
        gone = {r[0] for r in conn.execute("SELECT id FROM tombstones")}
        gone.update(n.id for n in rows)
        gone.update(quarantine)
        if not intact:
            log.warning(
                "%s: the saved graph does not match its digest; checking every node", self.path
            )
            for i, node_id in enumerate(cols.ids):
                if node_id in gone:
                    continue
                why = self._base_problem(cols, i)
                if why is not None:
                    quarantine[node_id] = (cols.row(i), why)
                    gone.add(node_id)
        keep = (
            [i for i, node_id in enumerate(cols.ids) if node_id not in gone]
            if gone
            else list(range(len(cols)))
        )
        dirty = {r[0] for r in conn.execute("SELECT id FROM edge_dirty")}
        edge_keep = None
        if dirty or quarantine:
            hit_dirty = np.fromiter((n in dirty for n in cols.ids), bool, len(cols))
            hit_q = np.fromiter((n in quarantine for n in cols.ids), bool, len(cols))
            src, dst = edge_cols.src, edge_cols.dst
            stale = hit_dirty[src] | hit_dirty[dst]
            held = (hit_q[src] | hit_q[dst]) & ~stale
            # Current edges of a quarantined node: kept for it (written back as rows).
            for k in np.flatnonzero(held).tolist():
                a = edge_cols.attrs.get(k)
                q_edges.append(
                    (
                        cols.ids[int(src[k])],
                        columns.relation_of(int(edge_cols.rel[k])).value,
                        cols.ids[int(dst[k])],
                        codec.dumps(a) if a else None,
                    )
                )
            edge_keep = np.flatnonzero(~(stale | held))
        return (
            LazyNodes(cols, keep, tuple(rows)),
            edge_cols.lazy(cols.ids, edge_keep, tuple(row_edges), cols.row_of),
        )

    @staticmethod
    def _base_problem(cols: columns.NodeColumns, i: int) -> str | None:
        try:
            d = cols.record(i)
            emb = codec.decode_embedding(cols.embeddings.get(i))
        except (TypeError, ValueError) as exc:
            return f"undecodable record: {exc}"
        x, y, z = cols.position[i].tolist()
        return codec.node_problem(
            cols.ids[i], cols.layers[i].value, cols.labels[i], (x, y, z), d, emb
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
            # The base may hold them: gone from it too, with every edge they had there.
            ex("INSERT OR IGNORE INTO tombstones VALUES (?)", gone)
            ex("INSERT OR IGNORE INTO edge_dirty VALUES (?)", gone)
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
            touched = [(s,) for s in c.edge_nodes]
            ex("DELETE FROM edges WHERE src = ?", touched)
            ex("DELETE FROM edges WHERE dst = ?", touched)
            ex("INSERT OR IGNORE INTO edge_dirty VALUES (?)", touched)
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
