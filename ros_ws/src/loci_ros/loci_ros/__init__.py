"""ROS 2 nodes around the Loci core. Each node is parameters + a core object + message
conversions (:mod:`loci_ros.conversions`); no planning, memory or perception logic lives
here."""

__all__: list[str] = []
