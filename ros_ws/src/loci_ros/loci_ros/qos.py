"""The named QoS profiles every Loci node uses (design §6): sensor data best effort, the
scene graph latched, updates and commands reliable."""

from __future__ import annotations

from rclpy.qos import (
    DurabilityPolicy,
    HistoryPolicy,
    QoSProfile,
    ReliabilityPolicy,
    qos_profile_sensor_data,
)

__all__ = ["LATCHED", "RELIABLE", "SENSOR"]

SENSOR: QoSProfile = qos_profile_sensor_data
"""Camera images, camera_info, poses: the newest matters, a lost one is replaced."""

LATCHED = QoSProfile(
    history=HistoryPolicy.KEEP_LAST,
    depth=1,
    reliability=ReliabilityPolicy.RELIABLE,
    durability=DurabilityPolicy.TRANSIENT_LOCAL,
)
"""The scene graph and its markers: a subscriber that joins late still gets the last one."""

RELIABLE = QoSProfile(
    history=HistoryPolicy.KEEP_LAST,
    depth=100,
    reliability=ReliabilityPolicy.RELIABLE,
    durability=DurabilityPolicy.VOLATILE,
)
"""Observations and graph updates: each one changes the memory, none may be lost."""
