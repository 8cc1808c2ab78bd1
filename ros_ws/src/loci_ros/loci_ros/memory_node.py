"""memory_node: ``memory_core.service.MemoryService`` on ROS.

Lifecycle node (its state is a store that must be loaded): configure opens the SQLite
store and resumes what it holds; activate starts publishing. In: ``observations``
(loci_msgs/ObjectObservationArray, reliable). Out: ``scene_graph`` (loci_msgs/SceneGraph,
latched), ``scene_graph/updates`` (loci_msgs/SceneGraphUpdate, reliable),
``scene_graph/markers`` (visualization_msgs/MarkerArray, latched). Services:
``query_memory``, ``get_memory``, ``commit_memory``. Every change is committed to the
store before it is published or acknowledged, so a killed node loses nothing it answered.
"""

from __future__ import annotations

import dataclasses
import time

import rclpy
from loci_msgs.msg import ObjectObservationArray, SceneGraph, SceneGraphUpdate
from loci_msgs.srv import CommitMemory, GetMemory, QueryMemory
from rclpy.lifecycle import LifecycleNode, LifecycleState, TransitionCallbackReturn
from visualization_msgs.msg import MarkerArray

from loci_ros import conversions as conv
from loci_ros.params import declare
from loci_ros.qos import LATCHED, RELIABLE
from loci_ros.run import run_node
from memory_core import (
    ChangeSet,
    LociError,
    Memory,
    MemoryConfig,
    load_config,
)
from memory_core.convention import from_ros
from memory_core.service import MemoryService
from memory_core.store import is_fleet_store

__all__ = ["MemoryNode", "main"]


class MemoryNode(LifecycleNode):
    def __init__(self) -> None:
        super().__init__("memory_node")
        self.store_path = declare(
            self,
            "store_path",
            "loci_memory.db",
            "where the memory is loaded from and kept: a SQLite file, or a store URL "
            "(sqlite:///path, postgresql://…: a fleet's shared memory)",
        )
        self.robot = declare(
            self,
            "robot_id",
            "robot",
            "who writes, in a fleet's store (postgresql://…): provenance, and the suffix of the "
            "ids this memory mints (robots sharing a store need distinct ids)",
        )
        self.config_file = declare(
            self, "memory_config", "", "memory YAML (configs/memory.yaml format); '' = defaults"
        )
        self.convention = declare(
            self,
            "world_convention",
            "ros",
            "convention of a new memory: 'ros' (z up) or 'ai2thor' (y up, the built-in "
            "simulator); a loaded store keeps its own",
        )
        self.frame_id = declare(
            self,
            "frame_id",
            "map",
            "frame of the memory: observations in another frame are refused; the scene graph "
            "is published in it",
        )
        self.autostart = declare(
            self, "autostart", True, "configure and activate at start (no lifecycle manager)"
        )
        self.graph_period = declare(
            self,
            "graph_period_s",
            0.5,
            "the whole graph and markers go out at most this often (updates: every change)",
        )
        self.graph_dirty = False
        self.last_graph = 0.0
        self.service: MemoryService | None = None
        self.active = False

    # ------------------------------------------------------------------ lifecycle
    def on_configure(self, state: LifecycleState) -> TransitionCallbackReturn:
        if self.convention not in ("ros", "ai2thor"):
            self.get_logger().error(
                f"world_convention must be 'ros' or 'ai2thor', got {self.convention!r}"
            )
            return TransitionCallbackReturn.FAILURE
        try:
            config = load_config(self.config_file) if self.config_file else MemoryConfig()
            up = "y" if self.convention == "ai2thor" else "z"
            fleet = is_fleet_store(self.store_path)
            graph = dataclasses.replace(
                config.scene_graph,
                up_axis=up,
                id_namespace=self.robot if fleet else config.scene_graph.id_namespace,
            )
            config = dataclasses.replace(config, scene_graph=graph)
            self.service = MemoryService(Memory(config), self.store_path, self.robot)
        except LociError as exc:
            self.get_logger().error(f"cannot open the memory store {self.store_path}: {exc}")
            return TransitionCallbackReturn.FAILURE
        self.graph_pub = self.create_lifecycle_publisher(SceneGraph, "scene_graph", LATCHED)
        self.update_pub = self.create_lifecycle_publisher(
            SceneGraphUpdate, "scene_graph/updates", RELIABLE
        )
        self.marker_pub = self.create_lifecycle_publisher(
            MarkerArray, "scene_graph/markers", LATCHED
        )
        self.obs_sub = self.create_subscription(
            ObjectObservationArray, "observations", self._on_observations, RELIABLE
        )
        self.query_srv = self.create_service(QueryMemory, "query_memory", self._on_query)
        self.get_srv = self.create_service(GetMemory, "get_memory", self._on_get)
        self.commit_srv = self.create_service(CommitMemory, "commit_memory", self._on_commit)
        self.graph_timer = self.create_timer(max(self.graph_period, 0.05), self._flush_graph)
        self.get_logger().info(
            f"memory from {self.store_path}: {len(self.service.memory.graph)} nodes, "
            f"{len(self.service.memory.episodic)} events"
        )
        for node_id, why in self.service.memory.quarantined:
            self.get_logger().warning(
                f"stored node {node_id!r} quarantined (left out, kept in the store): {why}"
            )
        return TransitionCallbackReturn.SUCCESS

    def on_activate(self, state: LifecycleState) -> TransitionCallbackReturn:
        result = super().on_activate(state)
        self.active = True
        self._publish(None)
        return result

    def on_deactivate(self, state: LifecycleState) -> TransitionCallbackReturn:
        self.active = False
        return super().on_deactivate(state)

    def on_cleanup(self, state: LifecycleState) -> TransitionCallbackReturn:
        self.active = False
        self.destroy_subscription(self.obs_sub)
        self.destroy_timer(self.graph_timer)
        for srv in (self.query_srv, self.get_srv, self.commit_srv):
            self.destroy_service(srv)
        for pub in (self.graph_pub, self.update_pub, self.marker_pub):
            self.destroy_lifecycle_publisher(pub)
        if self.service is not None:
            self.service.close()
            self.service = None
        return TransitionCallbackReturn.SUCCESS

    def on_shutdown(self, state: LifecycleState) -> TransitionCallbackReturn:
        if self.service is not None:
            self.service.close()
            self.service = None
        return TransitionCallbackReturn.SUCCESS

    # ------------------------------------------------------------------ publishing
    @property
    def up_axis(self) -> str:
        assert self.service is not None
        return self.service.memory.graph.up_axis

    def _stamp(self) -> float:
        """The node clock's time: simulated time under ``use_sim_time``."""
        return float(self.get_clock().now().nanoseconds) * 1e-9

    def _publish(self, changes: ChangeSet | None) -> None:
        assert self.service is not None
        if changes is not None:
            self.update_pub.publish(
                conv.update_to_msg(
                    changes, self.up_axis, self.service.revision, self._stamp(), self.frame_id
                )
            )
        self.graph_dirty = True
        if time.monotonic() - self.last_graph >= self.graph_period:
            self._flush_graph()

    def _flush_graph(self) -> None:
        """The whole graph (latched) and its markers, when something changed since."""
        if not self.graph_dirty or not self.active or self.service is None:
            return
        stamp = self._stamp()
        graph = self.service.memory.graph
        self.graph_pub.publish(
            conv.graph_to_msg(graph, self.service.revision, stamp, self.frame_id)
        )
        self.marker_pub.publish(conv.markers_msg(graph, stamp, self.frame_id))
        self.graph_dirty, self.last_graph = False, time.monotonic()

    # ------------------------------------------------------------------ callbacks
    def _on_observations(self, msg: ObjectObservationArray) -> None:
        if not self.active or self.service is None:
            self.get_logger().warning("observations dropped: the memory node is not active")
            return
        batch, bad = conv.observations_from_msg(msg, self.up_axis)
        batch, refused = self.service.screen(batch, self.frame_id)
        bad.extend(refused)
        for line in bad:
            self.get_logger().warning(f"rejected {line}")
        if not batch:
            return
        try:
            changes = self.service.observe(batch, t=conv.seconds(msg.header.stamp))
        except LociError as exc:
            self.get_logger().error(f"observations not fused: {exc}")
            return
        self._publish(changes)

    def _on_query(
        self, req: QueryMemory.Request, res: QueryMemory.Response
    ) -> QueryMemory.Response:
        if self.service is None:
            res.success, res.message = False, "the memory node is not configured"
            return res
        point = from_ros((req.point.x, req.point.y, req.point.z), self.up_axis)
        try:
            answer = self.service.query(req.kind, req.text, point, req.radius, req.k)
        except LociError as exc:
            res.success, res.message = False, str(exc)
            return res
        res.success = True
        res.revision = self.service.revision
        res.nodes = [conv.node_to_msg(n, self.up_axis) for n in answer.nodes]
        res.events = [conv.event_to_msg(e, self.up_axis) for e in answer.events]
        res.context = answer.context
        return res

    def _on_get(self, req: GetMemory.Request, res: GetMemory.Response) -> GetMemory.Response:
        if self.service is not None:
            res.revision, res.snapshot_json = self.service.snapshot_json()
        return res

    def _on_commit(
        self, req: CommitMemory.Request, res: CommitMemory.Response
    ) -> CommitMemory.Response:
        if not self.active or self.service is None:
            res.success, res.message = False, "the memory node is not active"
            return res
        try:
            changes, note = self.service.commit_json(req.base_revision, req.changes_json)
        except LociError as exc:
            res.success, res.message = False, f"commit refused: {exc}"
            self.get_logger().warning(res.message)
            return res
        res.success, res.message, res.revision = True, note, self.service.revision
        self._publish(changes)
        return res


def _start(node: MemoryNode) -> int:
    try:
        if node.autostart:
            if node.trigger_configure() != TransitionCallbackReturn.SUCCESS:
                return 1  # on_configure logged why; a store it cannot open is left alone
            node.trigger_activate()
        rclpy.spin(node)
        return 0
    finally:
        if node.service is not None:
            node.service.close()


def main(args: list[str] | None = None) -> None:
    run_node(MemoryNode, _start, args)


if __name__ == "__main__":
    main()
