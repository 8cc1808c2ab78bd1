"""AI2-THOR: the built-in simulator served over AI2-THOR's protocol (``loci thor-backend``)
and a body that drives ``ai2thor``'s own Controller (``--body ai2thor``)."""

from thor.errors import ProtocolError, ThorError

__all__ = ["ProtocolError", "ThorError"]
