"""``loci thor-backend``'s core: AI2-THOR actions answered by the built-in simulator, in
AI2-THOR 5.0's metadata shape, with AI2-THOR's errors for what cannot be done."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest

from sim import SceneRegistry
from thor.backend import ThorBackend
from thor.protocol import FieldType

RECORDED = "ai2thor_recorded/rl_thor_events/test_tasks/WashCutleryTask/events.json.gz"


@pytest.fixture
def backend(registry: SceneRegistry) -> ThorBackend:
    b = ThorBackend(registry, 64, 48)
    assert b.handle({"action": "Reset", "sceneName": "FloorPlan1_physics"}).metadata[
        "lastActionSuccess"
    ]
    init = b.handle({"action": "Initialize", "renderDepthImage": True})
    assert init.metadata["actionReturn"] == {"cameraNearPlane": 0.1, "cameraFarPlane": 20.0}
    return b


def _ok(reply: Any) -> dict[str, Any]:
    meta: dict[str, Any] = reply.metadata
    assert meta["lastActionSuccess"], meta["errorMessage"]
    return meta


def test_metadata_has_ai2thor_5_shape(backend: ThorBackend, data_dir: Path) -> None:
    """Every key of a recorded AI2-THOR 5.0 event, at the top, per agent and per object."""
    recorded = json.loads(gzip.decompress((data_dir / RECORDED).read_bytes()))[1]["metadata"]
    meta = _ok(backend.handle({"action": "Pass"}))
    assert set(recorded) <= set(meta)
    assert set(recorded["agent"]) <= set(meta["agent"])
    assert set(recorded["objects"][0]) <= set(meta["objects"][0])
    assert meta["sceneName"] == recorded["sceneName"] == "FloorPlan1_physics"


def test_scene_names_are_those_of_loci_scenes(
    backend: ThorBackend, registry: SceneRegistry
) -> None:
    names = _ok(backend.handle({"action": "GetScenesInBuild"}))["actionReturn"]
    assert "FloorPlan1_physics" in names and "procthor/houses_20/house_12" in names
    assert len(names) == len(registry.names())
    bad = backend.handle({"action": "Reset", "sceneName": "FloorPlan999_physics"}).metadata
    assert not bad["lastActionSuccess"] and "unknown scene" in bad["errorMessage"]
    assert bad["errorCode"] == "InvalidArgument"


def test_moves_turns_and_reachable_positions(backend: ThorBackend) -> None:
    reach = _ok(backend.handle({"action": "GetReachablePositions"}))["actionReturn"]
    assert len(reach) > 50 and all(set(p) == {"x", "y", "z"} for p in reach)
    start = reach[0]
    meta = _ok(
        backend.handle(
            {
                "action": "TeleportFull",
                **start,
                "rotation": {"x": 0, "y": 90, "z": 0},
                "horizon": 30,
            }
        )
    )
    assert meta["agent"]["position"] == start and meta["agent"]["cameraHorizon"] == 30
    cells = {(p["x"], p["z"]) for p in reach}
    meta = backend.handle({"action": "MoveAhead"}).metadata
    ahead = (start["x"] + 0.25, start["z"])
    if ahead in cells:
        assert meta["lastActionSuccess"] and meta["agent"]["position"]["x"] == ahead[0]
    else:
        assert meta["errorMessage"].startswith("Wall is blocking Agent 0 from moving by")
    meta = _ok(backend.handle({"action": "RotateLeft", "degrees": 90}))
    assert meta["agent"]["rotation"]["y"] == 0


def test_interactions_fail_with_ai2thor_words(backend: ThorBackend) -> None:
    objects = {
        o["objectType"]: o["objectId"]
        for o in backend.handle({"action": "Pass"}).metadata["objects"]
    }
    fridge = objects["Fridge"]
    meta = backend.handle({"action": "PickupObject", "objectId": fridge}).metadata
    assert meta["errorMessage"] == f"{fridge} is not pickupable"
    meta = backend.handle({"action": "PutObject", "objectId": fridge}).metadata
    assert meta["errorMessage"] == "Agent is not holding any object"
    meta = backend.handle({"action": "PickupObject", "objectId": "Nope|1|2|3"}).metadata
    assert "is not the objectId on any object in the scene" in meta["errorMessage"]
    meta = backend.handle({"action": "PickupObject"}).metadata
    assert meta["errorCode"] == "MissingArguments"
    meta = backend.handle({"action": "FlyAway"}).metadata
    assert (meta["errorCode"], meta["errorMessage"]) == ("InvalidAction", "Invalid action: FlyAway")


def test_bad_arguments_change_nothing(backend: ThorBackend) -> None:
    before = backend.handle({"action": "Pass"}).metadata["objects"]
    for bad in (
        {"action": "SetObjectPoses", "objectPoses": "all of them"},
        {"action": "SetObjectPoses", "objectPoses": [{"objectName": 3}]},
        {"action": "SetObjectToggles", "objectToggles": [{"isOn": True}]},
        {"action": "TeleportFull", "x": float("nan"), "z": 0.0},
        {"action": "MoveAhead", "moveMagnitude": "far"},
    ):
        meta = backend.handle(bad).metadata
        assert not meta["lastActionSuccess"] and meta["errorCode"] == "InvalidArgument", bad
    assert backend.handle({"action": "Pass"}).metadata["objects"] == before


def test_frames_as_asked(backend: ThorBackend) -> None:
    reply = backend.handle({"action": "Pass"})
    kinds = [k for k, _ in reply.images]
    assert kinds == [FieldType.RGB_IMAGE, FieldType.DEPTH_IMAGE]
    assert [len(b) for _, b in reply.images] == [64 * 48 * 3, 64 * 48 * 4]
    assert backend.handle({"action": "Pass", "renderImage": False}).images == []
    backend.handle({"action": "Initialize", "renderInstanceSegmentation": True})
    reply = backend.handle({"action": "Pass"})
    assert [k for k, _ in reply.images][-1] == FieldType.IDS_IMAGE
    colors = reply.metadata["colors"]
    assert len({tuple(c["color"]) for c in colors}) == len(colors)  # one colour each


def test_knobs_liquids_and_breaking(backend: ThorBackend, data_dir: Path) -> None:
    """FloorPlan1's knobs name the burners AI2-THOR recorded; liquids fill and empty with
    AI2-THOR's arguments; a burner is not toggled directly."""
    recorded = json.loads(
        (
            data_dir
            / "ai2thor_recorded/rl_thor_events/objects_metadata_samples"
            / "FloorPlan1_physics.json"
        ).read_text()
    )
    meta = _ok(backend.handle({"action": "Pass"}))
    objects = {o["objectId"]: o for o in meta["objects"]}
    for oid, o in recorded.items():
        if o["objectType"] == "StoveKnob":
            assert objects[oid]["controlledObjects"] == o["controlledObjects"]
    burner = next(o for o in objects.values() if o["objectType"] == "StoveBurner")
    refused = backend.handle(
        {"action": "ToggleObjectOn", "objectId": burner["objectId"], "forceAction": True}
    ).metadata
    assert not refused["lastActionSuccess"] and "StoveKnob" in refused["errorMessage"]
    mug = next(o for o in objects.values() if o["objectType"] == "Mug")["objectId"]
    bad = backend.handle(
        {"action": "FillObjectWithLiquid", "objectId": mug, "fillLiquid": "lava"}
    ).metadata
    assert not bad["lastActionSuccess"] and bad["errorCode"] == "InvalidArgument"
    filled = _ok(
        backend.handle({"action": "FillObjectWithLiquid", "objectId": mug, "fillLiquid": "coffee"})
    )
    row = next(o for o in filled["objects"] if o["objectId"] == mug)
    assert row["isFilledWithLiquid"] and row["fillLiquid"] == "coffee"
    _ok(backend.handle({"action": "EmptyLiquidFromObject", "objectId": mug}))
    again = backend.handle({"action": "EmptyLiquidFromObject", "objectId": mug}).metadata
    assert not again["lastActionSuccess"] and "not filled" in again["errorMessage"]
    unknown = backend.handle({"action": "BreakObject", "objectId": "Nope|1|2|3"}).metadata
    assert not unknown["lastActionSuccess"] and "Nope|1|2|3" in unknown["errorMessage"]
