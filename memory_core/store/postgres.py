"""PostgreSQL store (psycopg 3): one memory shared by a fleet of robots.

Several robots (processes, machines) write one memory at once, each through its own
store object named by its robot id. What they share is the scene graph: every node row
carries the robot and the time of the belief it holds (the later of the node's last
sighting and last change), and a write replaces a row only with a belief at least as
recent (ties: the larger robot id), so concurrent writers converge to the latest
observation whatever order their transactions commit in. Every node a batch writes is
also kept as a *sighting* (robot, time, place, label; append-only): who saw what, when
(:meth:`PostgresStore.provenance`). What is a robot's own stays its own: its episodes and
events (what it did), its short-term memory and its graph meta (the id counter; room
polygons are shared on load). Loading gives the fleet's scene graph with the robot's own
episodic and short-term memory.

Robots must mint distinct ids for new things (``SceneGraphConfig.id_namespace``: the
robot id), or two robots' ``Apple#3`` would be taken for one apple.

Each write is one transaction. A connection lost mid-write (a server restart) is
reconnected and the batch retried until ``reconnect_s`` passes; retrying is safe because
every statement is idempotent (upserts; events and sightings keyed by robot and sequence,
and by batch id). Semantic search over node embeddings runs in SQL with pgvector where
the server has the extension (:meth:`PostgresStore.nearest`); without it the store works
the same and says so when asked to search.

Opening never writes into a schema that is not a Loci store: a ``loci`` schema holding
other tables, or one of a newer version, is refused before anything is changed.
"""

from __future__ import annotations

import importlib
import logging
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from memory_core.errors import (
    EmbeddingsUnavailableError,
    ForeignStoreError,
    SchemaVersionError,
    StoreError,
)
from memory_core.gcpause import paused_gc
from memory_core.policies import EntryMeta
from memory_core.snapshot import ChangeSet, MemorySnapshot
from memory_core.stm import ObjectState
from memory_core.store import codec
from memory_core.types import SceneEdge, SceneNode, Vec3, check_text

__all__ = ["SCHEMA_VERSION", "PostgresStore", "Sighting"]

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
_APPLICATION = "loci"
_STORE = ""  # the meta rows of the store itself, not of a robot
_LOCK = 0x4C4F4349  # advisory lock held while a schema is created: "LOCI"
_T = TypeVar("_T")
_CONNECT_WAIT_S = 10.0


@dataclass(frozen=True, slots=True)
class Sighting:
    """One robot's belief about one node, as a batch wrote it."""

    robot: str
    node_id: str
    t: float
    """The belief's time: the later of the node's last sighting and last change."""
    position: Vec3
    label: str
    present: bool
    won: bool
    """Whether it became the fleet's belief when written (a later one may have been held)."""


def _tables(s: str) -> list[str]:
    return [
        f"CREATE TABLE {s}.meta(robot TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,"
        " PRIMARY KEY(robot, key))",
        f"CREATE TABLE {s}.nodes(id TEXT PRIMARY KEY, layer TEXT NOT NULL, label TEXT NOT NULL,"
        " x DOUBLE PRECISION NOT NULL, y DOUBLE PRECISION NOT NULL, z DOUBLE PRECISION NOT NULL,"
        " data TEXT NOT NULL, embedding BYTEA, robot TEXT NOT NULL,"
        " belief_t DOUBLE PRECISION NOT NULL)",
        f"CREATE INDEX nodes_label ON {s}.nodes(label)",
        f"CREATE TABLE {s}.edges(src TEXT NOT NULL, rel TEXT NOT NULL, dst TEXT NOT NULL,"
        " attrs TEXT, PRIMARY KEY(src, rel, dst))",
        f"CREATE INDEX edges_dst ON {s}.edges(dst)",
        f"CREATE TABLE {s}.stm(robot TEXT NOT NULL, object_id TEXT NOT NULL, data TEXT NOT NULL,"
        " PRIMARY KEY(robot, object_id))",
        f"CREATE TABLE {s}.episodes(robot TEXT NOT NULL, id TEXT NOT NULL, data TEXT NOT NULL,"
        " PRIMARY KEY(robot, id))",
        f"CREATE TABLE {s}.events(robot TEXT NOT NULL, seq BIGINT NOT NULL,"
        " t DOUBLE PRECISION NOT NULL, episode_id TEXT NOT NULL, data TEXT NOT NULL,"
        " PRIMARY KEY(robot, seq))",
        f"CREATE TABLE {s}.sightings(batch UUID NOT NULL, node_id TEXT NOT NULL,"
        " robot TEXT NOT NULL, t DOUBLE PRECISION NOT NULL, x DOUBLE PRECISION NOT NULL,"
        " y DOUBLE PRECISION NOT NULL, z DOUBLE PRECISION NOT NULL, label TEXT NOT NULL,"
        " present BOOLEAN NOT NULL, won BOOLEAN NOT NULL,"
        " written_at TIMESTAMPTZ NOT NULL DEFAULT now(), PRIMARY KEY(batch, node_id))",
        f"CREATE INDEX sightings_node ON {s}.sightings(node_id, t)",
    ]


def _write_function(s: str, vector: bool) -> str:
    """``{s}.write_batch``: one batch as one statement (one round trip; a statement is a
    transaction of its own). Its steps run in order and see each other's effects: the
    nodes' upsert decides which beliefs won; the sightings record every one; edges are
    rewired only for nodes whose belief won (one that lost keeps the edges of the belief
    that won)."""
    vec_col, vec_val, vec_set = (
        (", vec", ", r.vec::vector", ", vec = excluded.vec") if vector else ("", "", "")
    )
    return f"""
CREATE FUNCTION {s}.write_batch(
    p_robot TEXT, p_batch UUID, p_removed TEXT[],
    n_id TEXT[], n_layer TEXT[], n_label TEXT[], n_x FLOAT8[], n_y FLOAT8[], n_z FLOAT8[],
    n_data TEXT[], n_emb BYTEA[], n_t FLOAT8[], n_present BOOL[], n_vec TEXT[],
    p_rewired TEXT[], e_src TEXT[], e_dst TEXT[], e_rel TEXT[], e_attrs TEXT[],
    ep_id TEXT[], ep_data TEXT[], ev_seq BIGINT[], ev_t FLOAT8[], ev_episode TEXT[],
    ev_data TEXT[], p_stm BOOL, stm_id TEXT[], stm_data TEXT[], m_key TEXT[], m_value TEXT[]
) RETURNS VOID LANGUAGE plpgsql AS $$
DECLARE
    v_lost TEXT[];
BEGIN
    IF cardinality(p_removed) > 0 THEN
        DELETE FROM {s}.nodes WHERE id = ANY(p_removed);
        DELETE FROM {s}.edges WHERE src = ANY(p_removed) OR dst = ANY(p_removed);
    END IF;
    WITH up AS (
        INSERT INTO {s}.nodes AS n (id, layer, label, x, y, z, data, embedding, robot,
                                   belief_t{vec_col})
        SELECT r.id, r.layer, r.label, r.x, r.y, r.z, r.data, r.emb, p_robot, r.t{vec_val}
        FROM unnest(n_id, n_layer, n_label, n_x, n_y, n_z, n_data, n_emb, n_t, n_vec)
             AS r(id, layer, label, x, y, z, data, emb, t, vec)
        ON CONFLICT (id) DO UPDATE SET layer = excluded.layer, label = excluded.label,
            x = excluded.x, y = excluded.y, z = excluded.z, data = excluded.data,
            embedding = excluded.embedding, robot = excluded.robot,
            belief_t = excluded.belief_t{vec_set}
        WHERE (n.belief_t, n.robot) <= (excluded.belief_t, excluded.robot)
        RETURNING n.id
    ), seen AS (
        INSERT INTO {s}.sightings(batch, node_id, robot, t, x, y, z, label, present, won)
        SELECT p_batch, r.id, p_robot, r.t, r.x, r.y, r.z, r.label, r.present,
               r.id IN (SELECT id FROM up)
        FROM unnest(n_id, n_t, n_x, n_y, n_z, n_label, n_present)
             AS r(id, t, x, y, z, label, present)
        ON CONFLICT DO NOTHING
    )
    SELECT coalesce(array_agg(b.id), '{{}}') INTO v_lost
    FROM unnest(n_id) AS b(id) WHERE b.id NOT IN (SELECT id FROM up);
    IF cardinality(p_rewired) > 0 THEN
        DELETE FROM {s}.edges
        WHERE (src = ANY(p_rewired) AND NOT src = ANY(v_lost))
           OR (dst = ANY(p_rewired) AND NOT dst = ANY(v_lost));
    END IF;
    INSERT INTO {s}.edges(src, dst, rel, attrs)
    SELECT e.src, e.dst, e.rel, e.attrs FROM unnest(e_src, e_dst, e_rel, e_attrs)
        AS e(src, dst, rel, attrs)
    WHERE NOT e.src = ANY(v_lost) AND NOT e.dst = ANY(v_lost)
    ON CONFLICT (src, rel, dst) DO UPDATE SET attrs = excluded.attrs;
    INSERT INTO {s}.episodes SELECT p_robot, * FROM unnest(ep_id, ep_data)
    ON CONFLICT (robot, id) DO UPDATE SET data = excluded.data;
    INSERT INTO {s}.events SELECT p_robot, * FROM unnest(ev_seq, ev_t, ev_episode, ev_data)
    ON CONFLICT DO NOTHING;
    IF p_stm THEN
        DELETE FROM {s}.stm WHERE robot = p_robot;
        INSERT INTO {s}.stm SELECT p_robot, * FROM unnest(stm_id, stm_data);
    END IF;
    INSERT INTO {s}.meta SELECT p_robot, * FROM unnest(m_key, m_value)
    ON CONFLICT (robot, key) DO UPDATE SET value = excluded.value;
END
$$"""


_WRITE_TYPES = (
    *("text", "uuid", "text[]"),  # robot, batch, removed
    *("text[]", "text[]", "text[]", "float8[]", "float8[]", "float8[]"),  # nodes
    *("text[]", "bytea[]", "float8[]", "bool[]", "text[]"),
    *("text[]", "text[]", "text[]", "text[]", "text[]"),  # edges
    *("text[]", "text[]"),  # episodes
    *("int8[]", "float8[]", "text[]", "text[]"),  # events
    *("bool", "text[]", "text[]"),  # short-term memory
    *("text[]", "text[]"),  # meta
)
"""``write_batch``'s parameter types, in order."""


def _psycopg() -> Any:
    try:
        return importlib.import_module("psycopg")
    except ImportError as exc:
        raise StoreError(
            f"a PostgreSQL store needs psycopg: pip install -e '.[postgres]' ({exc})"
        ) from exc


def _belief_t(n: SceneNode) -> float:
    return max(n.last_seen, n.last_changed)


class PostgresStore:
    """The fleet's memory in PostgreSQL, written as robot ``robot`` (see the module)."""

    def __init__(
        self,
        url: str,
        robot: str = "robot",
        schema: str = "loci",
        reconnect_s: float = 30.0,
    ) -> None:
        self.url = url
        self.robot = check_text("robot id", robot, empty_ok=False)
        if not schema.isidentifier() or not schema.islower():
            raise StoreError(f"schema name must be a lower-case identifier, got {schema!r}")
        self.schema = schema
        self.reconnect_s = reconnect_s
        self._pg = _psycopg()
        self._conn: Any = self._connect()
        self.vector = False
        """Whether the server has pgvector and the nodes table its column."""
        self._prepare()

    # ------------------------------------------------------------------ opening
    def _connect(self) -> Any:
        """A connection; a server that refuses or drops it (one restarting) is asked again
        for up to 10 s (at most ``reconnect_s``). A URL libpq cannot parse fails at once."""
        deadline = time.monotonic() + min(self.reconnect_s, _CONNECT_WAIT_S)
        pause = 0.05
        while True:
            try:
                return self._pg.connect(self.url, autocommit=True, connect_timeout=10)
            except self._pg.OperationalError as exc:
                if time.monotonic() + pause > deadline:
                    raise StoreError(f"cannot connect to {self._where()}: {exc}") from exc
                time.sleep(pause)
                pause = min(1.0, pause * 2)
            except self._pg.Error as exc:
                raise StoreError(f"cannot connect to {self._where()}: {exc}") from exc

    def _where(self) -> str:
        # The URL without a password, for messages.
        try:
            info = self._pg.conninfo.conninfo_to_dict(self.url)
        except self._pg.Error:
            return "the PostgreSQL server"
        info.pop("password", None)
        return " ".join(f"{k}={v}" for k, v in sorted(info.items()))

    def _prepare(self) -> None:
        """Check (or, in an empty schema, create) the Loci schema, in one transaction under
        an advisory lock: two robots starting at once create it once."""

        def check(conn: Any) -> bool:
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK,))
            tables = {
                r[0]
                for r in conn.execute(
                    "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
                    (self.schema,),
                )
            }
            if not tables:
                return self._create(conn)
            if "meta" not in tables:
                raise ForeignStoreError(
                    f"schema {self.schema!r} at {self._where()} holds tables of another "
                    f"application ({', '.join(sorted(tables))}); refusing to touch it"
                )
            meta = dict(
                conn.execute(
                    f"SELECT key, value FROM {self.schema}.meta WHERE robot = %s", (_STORE,)
                ).fetchall()
            )
            if meta.get("application") != _APPLICATION:
                raise ForeignStoreError(
                    f"schema {self.schema!r} at {self._where()} is not a Loci store; "
                    "refusing to touch it"
                )
            version = int(meta.get("schema_version", "0"))
            if version != SCHEMA_VERSION:
                newer = "newer" if version > SCHEMA_VERSION else "older"
                raise SchemaVersionError(
                    f"the store at {self._where()} has schema version {version}, {newer} "
                    f"than this Loci (reads version {SCHEMA_VERSION})"
                )
            return meta.get("vector") == "1"

        self.vector = self._run("open the store", check)

    def _create(self, conn: Any) -> bool:
        """The schema, in the open transaction; whether the server has pgvector."""
        s = self.schema
        conn.execute(f"CREATE SCHEMA IF NOT EXISTS {s}")
        for statement in _tables(s):
            conn.execute(statement)
        vector = False
        try:
            with conn.transaction():  # a savepoint: no pgvector must not undo the schema
                conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
                conn.execute(f"ALTER TABLE {s}.nodes ADD COLUMN vec vector")
            vector = True
        except self._pg.Error as exc:
            log.info("no pgvector on %s (%s): semantic search stays in process", self._where(), exc)
        conn.execute(_write_function(s, vector))
        conn.cursor().executemany(
            f"INSERT INTO {s}.meta VALUES (%s, %s, %s)",
            [
                (_STORE, "application", _APPLICATION),
                (_STORE, "schema_version", str(SCHEMA_VERSION)),
                (_STORE, "vector", "1" if vector else "0"),
            ],
        )
        log.info("created Loci store schema v%d in %s", SCHEMA_VERSION, self._where())
        return vector

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> PostgresStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ transactions
    def _run(self, what: str, body: Callable[[Any], _T], single: bool = False) -> _T:
        """``body`` in one transaction (``single``: it is one statement, a transaction of
        its own, without the two round trips of begin and commit); a lost connection is
        re-made and the transaction retried until ``reconnect_s`` has passed (every write
        here is idempotent)."""
        pg = self._pg
        deadline = time.monotonic() + self.reconnect_s
        pause = 0.05
        while True:
            try:
                if single:
                    return body(self._conn)
                with self._conn.transaction():
                    return body(self._conn)
            except (pg.OperationalError, pg.InterfaceError) as exc:
                if not self._conn.broken and not self._conn.closed:
                    raise StoreError(f"cannot {what} at {self._where()}: {exc}") from exc
                if time.monotonic() > deadline:
                    raise StoreError(
                        f"cannot {what}: the connection to {self._where()} was lost and not "
                        f"regained in {self.reconnect_s:g} s ({exc})"
                    ) from exc
                log.warning("connection to %s lost (%s); reconnecting", self._where(), exc)
                time.sleep(pause)
                pause = min(1.0, pause * 2)
                try:
                    self._conn = self._pg.connect(self.url, autocommit=True, connect_timeout=5)
                except pg.OperationalError:
                    continue
            except pg.Error as exc:
                raise StoreError(
                    f"cannot {what} at {self._where()}; nothing was written: {exc}"
                ) from exc
            except (TypeError, ValueError) as exc:
                raise StoreError(
                    f"a record could not be encoded for {self._where()}; nothing was written: {exc}"
                ) from exc

    # ------------------------------------------------------------------ writing
    def write(self, changes: ChangeSet) -> None:
        batch = uuid.uuid4()  # one id for every retry of this batch: sightings once
        self._run("write a batch", lambda conn: self._write(conn, changes, batch), single=True)

    def save(self, snapshot: MemorySnapshot) -> None:
        """This robot's view into the fleet's memory: every node and edge it holds is
        written as by :meth:`write` (nothing another robot wrote is removed), and its own
        episodes, events, short-term memory and meta are replaced."""
        batch = uuid.uuid4()
        changes = ChangeSet(
            nodes=tuple(snapshot.nodes),
            edge_nodes=tuple({e.src for e in snapshot.edges} | {e.dst for e in snapshot.edges}),
            edges=tuple(snapshot.edges),
            episodes=snapshot.episodes,
            events=snapshot.events,
            graph_meta=snapshot.graph_meta,
            stm_entries=snapshot.stm_entries,
            stm_meta=snapshot.stm_meta,
        )

        def replace(conn: Any) -> None:
            for table in ("episodes", "events", "meta", "stm"):
                conn.execute(f"DELETE FROM {self.schema}.{table} WHERE robot = %s", (self.robot,))
            self._write(conn, changes, batch)

        with paused_gc():
            self._run("save", replace)

    def _write(self, conn: Any, c: ChangeSet, batch: uuid.UUID) -> None:
        """One batch: every row passed as arrays to ``write_batch`` (see
        :func:`_write_function`), one statement."""
        nodes = list({n.id: n for n in c.nodes}.values())  # one row per id per statement
        edges = {(e.src, e.relation.value, e.dst): codec.edge_to(e) for e in c.edges}
        episodes = {e.episode_id: codec.dumps(codec.episode_to(e)) for e in c.episodes}
        stm = {st.object_id: codec.dumps(codec.stm_to(st, m)) for st, m in c.stm_entries or ()}
        meta: dict[str, str] = {}
        if c.graph_meta is not None:
            meta["graph"] = codec.dumps(c.graph_meta)
        if c.stm_meta is not None:
            meta["stm"] = codec.dumps(c.stm_meta)
        e_src, e_dst, e_rel, e_attrs = (
            [list(col) for col in zip(*edges.values(), strict=True)] if edges else [[], [], [], []]
        )
        params = (
            self.robot,
            batch,
            list(c.removed_nodes),
            [n.id for n in nodes],
            [n.layer.value for n in nodes],
            [n.label for n in nodes],
            [n.position[0] for n in nodes],
            [n.position[1] for n in nodes],
            [n.position[2] for n in nodes],
            [codec.dumps(codec.node_to(n)) for n in nodes],
            [codec.embedding_blob(n.embedding) for n in nodes],
            [_belief_t(n) for n in nodes],
            [n.present for n in nodes],
            [_vector_text(n.embedding) if self.vector else None for n in nodes],
            list(c.edge_nodes),
            e_src,
            e_dst,
            e_rel,
            e_attrs,
            list(episodes),
            list(episodes.values()),
            [e.seq for e in c.events],
            [e.t for e in c.events],
            [e.episode_id for e in c.events],
            [codec.dumps(codec.event_to(e)) for e in c.events],
            c.stm_entries is not None,
            list(stm),
            list(stm.values()),
            list(meta),
            list(meta.values()),
        )
        types = _WRITE_TYPES
        placeholders = ", ".join(f"%b::{t}" for t in types)
        conn.execute(f"SELECT {self.schema}.write_batch({placeholders})", params)

    # ------------------------------------------------------------------ reading
    def load(self) -> MemorySnapshot:
        with paused_gc():
            return self._run("load", self._load)

    def _load(self, conn: Any) -> MemorySnapshot:
        s, robot = self.schema, self.robot
        # One snapshot for every table read: robots writing meanwhile are not half seen.
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        nodes: list[SceneNode] = []
        quarantined: list[tuple[str, str]] = []
        for r in conn.execute(
            f"SELECT id, layer, label, x, y, z, data, embedding FROM {s}.nodes ORDER BY id"
        ):
            pos = (r[3], r[4], r[5])
            try:
                d = codec.loads(r[6])
                emb = codec.decode_embedding(bytes(r[7]) if r[7] is not None else None)
            except (TypeError, ValueError) as exc:
                quarantined.append((str(r[0]), f"undecodable record: {exc}"))
                continue
            why = codec.node_problem(r[0], r[1], r[2], pos, d, emb)
            if why is not None:
                quarantined.append((str(r[0]), why))
                continue
            nodes.append(codec.node_from(r[0], r[1], r[2], pos, d, emb))
        held = {n.id for n in nodes}
        edges: list[SceneEdge] = []
        for src, rel, dst, attrs in conn.execute(
            f"SELECT src, rel, dst, attrs FROM {s}.edges ORDER BY src, rel, dst"
        ):
            # An edge to a node another robot removed (or one held back) is left out.
            if src in held and dst in held:
                edges.append(codec.edge_from((src, dst, rel, attrs)))
        meta = {
            (k, who): codec.loads_revived(v)
            for who, k, v in conn.execute(
                f"SELECT robot, key, value FROM {s}.meta WHERE robot <> %s", (_STORE,)
            )
        }
        graph_meta: dict[str, Any] = dict(meta.get(("graph", robot), {}))
        polygons = dict(graph_meta.get("room_polygons", {}))
        for (key, who), value in sorted(meta.items()):
            if key == "graph" and who != robot and isinstance(value, dict):
                for room, poly in (value.get("room_polygons") or {}).items():
                    polygons.setdefault(room, poly)
        if polygons:
            graph_meta["room_polygons"] = polygons
        stm: list[tuple[ObjectState, EntryMeta]] = []
        for object_id, data in conn.execute(
            f"SELECT object_id, data FROM {s}.stm WHERE robot = %s ORDER BY object_id", (robot,)
        ):
            try:
                stm.append(codec.stm_from(object_id, codec.loads(data)))
            except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
                log.warning("short-term entry %r dropped: %s", object_id, exc)
        episodes = tuple(
            codec.episode_from(r[0], codec.loads(r[1]))
            for r in conn.execute(
                f"SELECT id, data FROM {s}.episodes WHERE robot = %s ORDER BY id", (robot,)
            )
        )
        events = tuple(
            codec.event_from(r[0], r[1], r[2], codec.loads(r[3]))
            for r in conn.execute(
                f"SELECT seq, t, episode_id, data FROM {s}.events WHERE robot = %s ORDER BY seq",
                (robot,),
            )
        )
        for node_id, why in quarantined:
            log.warning("node %r quarantined (not loaded, kept in the store): %s", node_id, why)
        return MemorySnapshot(
            nodes=tuple(nodes),
            edges=tuple(edges),
            graph_meta=graph_meta,
            stm_entries=tuple(stm),
            stm_meta=meta.get(("stm", robot), {}),
            episodes=episodes,
            events=events,
            quarantined=tuple(quarantined),
        )

    def provenance(self, node_id: str) -> tuple[Sighting, ...]:
        """Every robot's sightings of ``node_id``, oldest first: who saw what, when."""

        def read(conn: Any) -> tuple[Sighting, ...]:
            return tuple(
                Sighting(r[0], node_id, r[1], (r[2], r[3], r[4]), r[5], r[6], r[7])
                for r in conn.execute(
                    f"SELECT robot, t, x, y, z, label, present, won FROM {self.schema}.sightings"
                    " WHERE node_id = %s ORDER BY t, written_at, robot",
                    (node_id,),
                )
            )

        return self._run("read provenance", read)

    def nearest(self, embedding: Iterable[float], k: int = 5) -> list[tuple[float, str]]:
        """The ``k`` nodes whose embeddings are nearest ``embedding`` in cosine distance,
        searched by the server (pgvector): (distance, node id), nearest first."""
        if not self.vector:
            raise EmbeddingsUnavailableError(
                f"the server at {self._where()} has no pgvector: semantic search runs in "
                "process (SceneGraph.search)"
            )
        vec = tuple(float(v) for v in embedding)
        text = _vector_text(vec)

        def read(conn: Any) -> list[tuple[float, str]]:
            return [
                (float(d), str(i))
                for i, d in conn.execute(
                    f"SELECT id, vec <=> %s::vector AS d FROM {self.schema}.nodes"
                    " WHERE vec IS NOT NULL AND vector_dims(vec) = %s ORDER BY d, id LIMIT %s",
                    (text, len(vec), k),
                )
            ]

        return self._run("search", read)


def _vector_text(vec: tuple[float, ...] | None) -> str | None:
    return None if vec is None else "[" + ",".join(repr(float(v)) for v in vec) + "]"
