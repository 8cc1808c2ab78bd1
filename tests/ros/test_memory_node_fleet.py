"""memory_node on a fleet's store (a real PostgreSQL server): two memory nodes, two
robots, one memory. What one robot's node fuses, the other's sees when it starts; every
sighting keeps who made it; the unknown-things query answers over the service."""

from __future__ import annotations

import time
from pathlib import Path

from memory_core import ObjectObservation
from memory_core.store.postgres import PostgresStore


def test_two_memory_nodes_share_a_postgres_memory(
    tmp_path: Path, pg_url: str, rclpy_context: None
) -> None:
    import rclpy
    from loci_msgs.msg import ObjectObservationArray
    from loci_ros import conversions as conv
    from loci_ros.qos import RELIABLE
    from loci_ros.system import LociClient, LociSystem

    first = {"memory_node": {"store_path": pg_url, "robot_id": "kitchen-bot"}}
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    with LociSystem(tmp_path / "a", first) as system:
        system.start("memory_node")
        client = LociClient("test_fleet_a")
        try:
            client.wait_ready_services(("query_memory",), 60, system)
            pub = client.node.create_publisher(ObjectObservationArray, "observations", RELIABLE)
            seen = [
                ObjectObservation("Apple", (1.0, 2.0, 0.9), source_frame="map", timestamp=5.0),
                ObjectObservation("unknown", (3.0, 2.0, 0.9), source_frame="map", timestamp=5.0),
            ]
            msg = conv.observations_to_msg(seen, 5.0, "map", "z")
            deadline = time.monotonic() + 20
            while not client.query("label", "Apple").nodes:
                pub.publish(msg)
                rclpy.spin_once(client.node, timeout_sec=0.5)
                assert time.monotonic() < deadline, system.log("memory_node")
            (apple,) = client.query("label", "Apple").nodes
            assert apple.id.endswith("@kitchen-bot")  # ids are the robot's own
            system.check_alive()
        finally:
            client.close()
    second = {"memory_node": {"store_path": pg_url, "robot_id": "hall-bot"}}
    with LociSystem(tmp_path / "b", second) as system:
        system.start("memory_node")
        client = LociClient("test_fleet_b")
        try:
            client.wait_ready_services(("query_memory",), 60, system)
            assert [n.id for n in client.query("label", "Apple").nodes] == [apple.id]
            assert [n.label for n in client.query("unknown").nodes] == ["unknown"]
            system.check_alive()
        finally:
            client.close()
    store = PostgresStore(pg_url, "auditor")
    assert [s.robot for s in store.provenance(apple.id)] == ["kitchen-bot"]
    store.close()
