"""Loci planners package — not implemented yet (see the open issues); kept so the layout is fixed.

Pure Python: nothing in this package may import ROS.
"""

__all__: list[str] = []
