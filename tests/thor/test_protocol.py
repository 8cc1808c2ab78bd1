"""AI2-THOR's FIFO framing, the backend's side: actions in, replies out, and what a
broken message gives (a clear error, never a hang or a wrong action)."""

from __future__ import annotations

import io
import json
import struct

import msgpack
import numpy as np
import pytest

from thor.errors import ProtocolError
from thor.protocol import FieldType, image_bytes, read_action, write_reply


def _field(kind: int, body: bytes) -> bytes:
    return struct.pack("!BI", kind, len(body)) + body


_END = struct.pack("!BI", 255, 0)


def test_an_action_as_the_controller_frames_it() -> None:
    action = {"action": "MoveAhead", "moveMagnitude": 0.25, "sequenceId": 3}
    stream = io.BytesIO(_field(2, json.dumps(action).encode()) + _END)
    assert read_action(stream) == action
    assert read_action(stream) is None  # the controller closed its pipe


@pytest.mark.parametrize(
    ("wire", "words"),
    [
        (struct.pack("!BI", 2, 40) + b'{"action": "Mo', "pipe closed inside"),
        (_field(2, b'{"action": "Pass"}'), "before the end of a message"),
        (_field(2, b"not json") + _END, "not JSON"),
        (_field(2, b'{"sequenceId": 1}') + _END, "no action name"),
        (_field(1, b"\x80") + _END, "not an action"),
        (_END, "without an action"),
        (struct.pack("!BI", 2, 2**31), "beyond any frame"),
    ],
)
def test_a_broken_message_is_a_clear_error(wire: bytes, words: str) -> None:
    with pytest.raises(ProtocolError, match=words):
        read_action(io.BytesIO(wire))


def test_a_reply_is_metadata_then_images_bottom_row_first() -> None:
    image = np.arange(12, dtype=np.uint8).reshape(2, 2, 3)
    out = io.BytesIO()
    write_reply(out, {"lastActionSuccess": True}, 7, [(FieldType.RGB_IMAGE, image_bytes(image))])
    data = out.getvalue()
    kind, n = struct.unpack("!BI", data[:5])
    meta = msgpack.unpackb(data[5 : 5 + n], raw=False)
    assert kind == FieldType.METADATA
    assert meta == {"agents": [{"lastActionSuccess": True}], "sequenceId": 7, "activeAgentId": 0}
    rest = data[5 + n :]
    kind, n = struct.unpack("!BI", rest[:5])
    assert kind == FieldType.RGB_IMAGE
    sent = np.frombuffer(rest[5 : 5 + n], dtype=np.uint8).reshape(2, 2, 3)
    assert np.array_equal(sent[::-1], image)  # the controller flips it back
    assert rest[5 + n :] == _END
