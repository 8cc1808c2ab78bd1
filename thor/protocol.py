"""AI2-THOR's FIFO protocol, the backend's side (ai2thor 5.0 ``fifo_server``).

Two named pipes, made by the controller: the backend writes replies to the *server* pipe
and reads actions from the *client* pipe. A message is a run of fields, each a 5-byte
header (type: uint8, length: uint32 big-endian) and its body, closed by a header of type
255 and length 0. The controller sends one ACTION field (UTF-8 JSON: ``action``, its
arguments and ``sequenceId``); the backend answers with one METADATA field (msgpack:
``{"agents": [metadata], "sequenceId": n, "activeAgentId": 0}``) and image fields. Images
go bottom row first (the controller flips them, as Unity's framebuffer reads).
"""

from __future__ import annotations

import enum
import json
import struct
from typing import Any, BinaryIO

import msgpack
import numpy as np
from numpy.typing import NDArray

from thor.errors import ProtocolError

__all__ = ["FieldType", "image_bytes", "read_action", "write_reply"]

_HEADER = struct.Struct("!BI")
MAX_FIELD_BYTES = 256 * 1024 * 1024
"""No field of a sane message is larger (a 4K RGBA frame is 33 MB)."""


class FieldType(enum.IntEnum):
    METADATA = 1
    ACTION = 2
    ACTION_RESULT = 3
    RGB_IMAGE = 4
    DEPTH_IMAGE = 5
    NORMALS_IMAGE = 6
    FLOWS_IMAGE = 7
    CLASSES_IMAGE = 8
    IDS_IMAGE = 9
    END_OF_MESSAGE = 255


def _read_exact(stream: BinaryIO, n: int) -> bytes | None:
    chunks, left = [], n
    while left:
        chunk = stream.read(left)
        if not chunk:
            if left == n:
                return None
            raise ProtocolError(f"pipe closed inside a message ({n - left} of {n} bytes)")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def read_action(stream: BinaryIO) -> dict[str, Any] | None:
    """The next action the controller sends; None when it has closed the pipe."""
    action: dict[str, Any] | None = None
    first = True
    while True:
        header = _read_exact(stream, _HEADER.size)
        if header is None:
            if first:
                return None
            raise ProtocolError("pipe closed before the end of a message")
        first = False
        kind, length = _HEADER.unpack(header)
        if kind == FieldType.END_OF_MESSAGE:
            if action is None:
                raise ProtocolError("a message without an action field")
            return action
        if length > MAX_FIELD_BYTES:
            raise ProtocolError(f"a field of {length} bytes (type {kind}) is beyond any frame")
        body = _read_exact(stream, length) if length else b""
        if body is None:
            raise ProtocolError("pipe closed inside a field")
        if kind != FieldType.ACTION:
            raise ProtocolError(f"field type {kind} is not an action")
        try:
            parsed = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ProtocolError(f"action field is not JSON: {exc}") from exc
        if not isinstance(parsed, dict) or not isinstance(parsed.get("action"), str):
            raise ProtocolError("action field has no action name")
        action = parsed


def image_bytes(image: NDArray[Any]) -> bytes:
    """An image (top row first, as numpy holds it) in the wire's row order."""
    return np.ascontiguousarray(image[::-1]).tobytes()


def write_reply(
    stream: BinaryIO,
    metadata: dict[str, Any],
    sequence_id: int,
    images: list[tuple[FieldType, bytes]] = [],  # noqa: B006 - never mutated
) -> None:
    """One reply: the agent's metadata, then image fields, then the end marker."""
    body = msgpack.packb(
        {"agents": [metadata], "sequenceId": sequence_id, "activeAgentId": 0},
        use_bin_type=True,
    )
    parts = [_HEADER.pack(FieldType.METADATA, len(body)), body]
    for kind, data in images:
        parts += [_HEADER.pack(kind, len(data)), data]
    parts.append(_HEADER.pack(FieldType.END_OF_MESSAGE, 0))
    stream.write(b"".join(parts))
    stream.flush()
