"""bag_player: play a recorded bag (ROS 2 MCAP/sqlite3) onto live topics through rosbags.

`ros2 bag play` (rosbag2) has no PyPI wheel; this plays the serialized messages as they
are (CDR bytes, no conversion), so any node sees what it would see from the robot. Time
follows the bag scaled by ``rate``, with pauses longer than ``max_pause_s`` shortened
(recorded episodes idle for long stretches); ``clock`` publishes the bag time on /clock.
Only ROS 2 bags: their messages are CDR already (ROS 1 bags would need conversion).
"""

from __future__ import annotations

import importlib
import re
import time
from pathlib import Path
from typing import Any

import rclpy
from ament_index_python import has_resource
from rclpy.node import Node
from rosgraph_msgs.msg import Clock

from loci_ros import conversions as conv
from loci_ros.params import declare
from loci_ros.qos import LATCHED, RELIABLE, SENSOR
from loci_ros.run import run_node
from perception.bag import BagError, open_bag, salvage_report

__all__ = ["BagPlayer", "main"]

_SENSOR_TYPES = {
    "sensor_msgs/msg/Image",
    "sensor_msgs/msg/CameraInfo",
    "loci_msgs/msg/InstanceMasks",
    "geometry_msgs/msg/PoseStamped",
}


_MSGTYPE = re.compile(r"^([a-z][a-z0-9_]*)/msg/([A-Z][A-Za-z0-9]*)$")


def _message_class(msgtype: str) -> Any:
    """The Python class of a message type named in a bag, found only among the installed
    ROS interface packages (the ament index): a bag's type string is data, and importing
    whatever module it names would run that module (``this/msg/Foo`` ran ``import this``)."""
    m = _MSGTYPE.match(msgtype)
    if m is None:
        raise LookupError(f"{msgtype!r} is not a ROS 2 message type name")
    package, name = m.groups()
    if not has_resource("rosidl_interfaces", package):
        raise LookupError(f"no interface package {package!r} is installed")
    cls = getattr(importlib.import_module(f"{package}.msg"), name, None)
    if cls is None or not hasattr(cls, "get_fields_and_field_types"):
        raise LookupError(f"{package} has no message {name}")
    return cls


class BagPlayer(Node):
    def __init__(self) -> None:
        super().__init__("bag_player")
        self.bag = declare(self, "bag", "", "the ROS 2 bag to play (MCAP file or sqlite3 folder)")
        self.rate = declare(self, "rate", 1.0, "playback speed (2.0 = twice as fast)")
        self.reliable = declare(
            self,
            "reliable",
            False,
            "publish sensor topics reliably too (every frame arrives; subscribers must ask "
            "for reliable delivery, e.g. perception_node's reliable_inputs)",
        )
        self.max_pause = declare(
            self, "max_pause_s", 0.5, "longest wait between two messages (bag idle time is cut)"
        )
        self.clock = declare(self, "clock", True, "publish the bag's time on /clock")
        self.wait_for = declare(
            self, "wait_for_subscribers", 0, "wait until this many topics have a subscriber"
        )
        self.published = 0

    def play(self) -> int:
        if not self.bag or not Path(self.bag).exists():
            self.get_logger().error(f"no bag at {self.bag!r} (set the 'bag' parameter)")
            return 1
        try:
            # A truncated MCAP plays its readable prefix (the core says what was lost).
            reader = open_bag(self.bag)
        except BagError as exc:
            self.get_logger().error(str(exc))
            return 1
        report = salvage_report(reader)
        if report is not None:
            self.get_logger().warning(f"playing what could be salvaged: {report.describe()}")
        try:
            if not reader.is2:
                self.get_logger().error(
                    f"{self.bag} is a ROS 1 bag: only ROS 2 bags play as they are (CDR)"
                )
                return 1
            pubs: dict[str, Any] = {}
            for c in reader.connections:
                if c.topic in pubs:
                    continue
                try:
                    cls = _message_class(c.msgtype)
                except (LookupError, ImportError) as exc:
                    self.get_logger().warning(f"{c.topic}: skipped ({exc})")
                    continue
                qos = SENSOR if c.msgtype in _SENSOR_TYPES and not self.reliable else RELIABLE
                if c.topic in ("/tf_static", "/scene_graph/markers"):
                    qos = LATCHED
                pubs[c.topic] = self.create_publisher(cls, c.topic, qos)
            if not pubs:
                # rosbags reads every connection when given none: stop here instead.
                self.get_logger().error(f"{self.bag}: no topic of a type installed here")
                return 1
            clock_pub = self.create_publisher(Clock, "/clock", RELIABLE) if self.clock else None
            deadline = time.monotonic() + 30.0
            while sum(p.get_subscription_count() > 0 for p in pubs.values()) < self.wait_for:
                rclpy.spin_once(self, timeout_sec=0.1)
                if time.monotonic() > deadline:
                    self.get_logger().error("subscribers did not appear within 30 s")
                    return 1
            conns = [c for c in reader.connections if c.topic in pubs]
            last_ns: int | None = None
            try:
                for conn, stamp_ns, raw in reader.messages(connections=conns):
                    if last_ns is not None and stamp_ns > last_ns:
                        pause = min((stamp_ns - last_ns) * 1e-9 / self.rate, self.max_pause)
                        time.sleep(pause)
                    last_ns = stamp_ns
                    if clock_pub is not None:
                        clock_pub.publish(Clock(clock=conv.time_msg(stamp_ns * 1e-9)))
                    pubs[conn.topic].publish(bytes(raw))  # serialized CDR, as recorded
                    self.published += 1
            except BagError as exc:  # damage past what opening could see
                self.get_logger().error(f"stopped after {self.published} messages: {exc}")
                return 1
        finally:
            reader.close()
        self.get_logger().info(f"played {self.published} messages from {self.bag}")
        return 0


def _play(node: BagPlayer) -> int:
    code = node.play()
    time.sleep(0.5)  # let reliable subscribers take the last messages
    return code


def main(args: list[str] | None = None) -> None:
    run_node(BagPlayer, _play, args)


if __name__ == "__main__":
    main()
