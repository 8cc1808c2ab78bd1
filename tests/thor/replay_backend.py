"""A test backend for ai2thor's Controller: it answers with recorded AI2-THOR 5.0 events
(``../shared/data/ai2thor_recorded/rl_thor_events``), one per action, after the
Controller's start-up actions (answered with the first recorded state). Run by the
Controller as its Unity: ``python replay_backend.py EVENTS.json.gz``.

An action that is not the recorded one is answered with a failure naming both."""

from __future__ import annotations

import gzip
import io
import json
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from thor.protocol import FieldType, image_bytes, read_action, write_reply

_STARTUP = ("ChangeResolution", "GetScenesInBuild", "Reset", "Initialize")


def main() -> int:
    events: list[dict[str, Any]] = json.loads(gzip.decompress(Path(sys.argv[1]).read_bytes()))
    folder = Path(sys.argv[1]).parent
    first = events[0]
    # The recording starts after its first action when that was Initialize.
    queue = events[1:] if first["controller_action"]["action"] == "Initialize" else events

    def reply(event: dict[str, Any], **patch: Any) -> tuple[dict[str, Any], list[Any]]:
        meta = {**event["metadata"], **patch}
        png = folder / event["frame_png"]
        rgb = np.asarray(Image.open(io.BytesIO(png.read_bytes())).convert("RGB"))
        return meta, [(FieldType.RGB_IMAGE, image_bytes(rgb))]

    scene = first["metadata"]["sceneName"]
    with Path(os.environ["AI2THOR_FIFO_SERVER_PIPE_PATH"]).open("wb") as out:
        meta, images = reply(first)
        write_reply(out, meta, 0, images)
        with Path(os.environ["AI2THOR_FIFO_CLIENT_PIPE_PATH"]).open("rb") as inp:
            while (action := read_action(inp)) is not None:
                seq = int(action.pop("sequenceId", 0))
                action.pop("renderImage", None)  # a headless controller's, not the action's
                name = action["action"]
                if name in _STARTUP:
                    ret: Any = None
                    if name == "GetScenesInBuild":
                        ret = [scene]
                    elif name == "Initialize":
                        ret = {"cameraNearPlane": 0.1, "cameraFarPlane": 20.0}
                    meta, images = reply(first, lastAction=name, actionReturn=ret)
                elif queue:
                    event = queue.pop(0)
                    want = {
                        k: v for k, v in event["controller_action"].items() if k != "sequenceId"
                    }
                    if action != want:
                        meta, images = reply(
                            event,
                            lastActionSuccess=False,
                            errorCode="",
                            errorMessage=f"replay expected {want}, got {action}",
                        )
                    else:
                        meta, images = reply(event)
                else:
                    meta, images = reply(
                        first, lastActionSuccess=False, errorCode="", errorMessage="replay ended"
                    )
                write_reply(out, meta, seq, images)
    return 0


if __name__ == "__main__":
    sys.exit(main())
