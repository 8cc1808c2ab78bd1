"""Declaring parameters with descriptions (what `ros2 param describe` shows)."""

from __future__ import annotations

from typing import Any, TypeVar

from rcl_interfaces.msg import ParameterDescriptor
from rclpy.node import Node

__all__ = ["declare"]

T = TypeVar("T", str, int, float, bool)


def declare(node: Node, name: str, default: T, description: str, read_only: bool = True) -> T:
    value: Any = node.declare_parameter(
        name, default, ParameterDescriptor(description=description, read_only=read_only)
    ).value
    return type(default)(value)
