"""Object-type facts (AI2-THOR vocabulary) used to place nodes in layers.

The facts are read from the AI2-THOR metadata files in ``../shared/data``
(``ai2thor_object_types.json``, ``procthor_databases/asset-database.json``);
nothing here hard-codes the asset list.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from memory_core.errors import DataImportError
from memory_core.types import Layer, Vec3

__all__ = ["ObjectCatalog", "TypeInfo"]


@dataclass(frozen=True, slots=True)
class TypeInfo:
    name: str
    pickupable: bool
    receptacle: bool
    openable: bool
    toggleable: bool
    sliceable: bool
    cookable: bool
    dirtyable: bool
    fillable: bool
    median_size: Vec3


class ObjectCatalog:
    """Object types and asset sizes; unknown types fall back to the object layer."""

    def __init__(self, types: dict[str, TypeInfo], asset_sizes: dict[str, tuple[str, Vec3]]):
        self.types = types
        self.asset_sizes = asset_sizes

    @classmethod
    def from_ai2thor_metadata(cls, folder: str | Path) -> ObjectCatalog:
        root = Path(folder)
        try:
            raw = json.loads((root / "ai2thor_object_types.json").read_text(encoding="utf-8"))
            assets = json.loads(
                (root / "procthor_databases" / "asset-database.json").read_text(encoding="utf-8")
            )
        except (OSError, json.JSONDecodeError) as exc:
            raise DataImportError(f"cannot read AI2-THOR metadata in {root}: {exc}") from exc
        types = {name: _type_info(name, info) for name, info in raw["object_types"].items()}
        sizes: dict[str, tuple[str, Vec3]] = {}
        for obj_type, entries in assets.items():
            for entry in entries:
                bb = entry["boundingBox"]
                sizes[entry["assetId"]] = (obj_type, (bb["x"], bb["y"], bb["z"]))
        return cls(types, sizes)

    def with_types(self, extra: dict[str, TypeInfo]) -> ObjectCatalog:
        """This catalog and ``extra`` (types it does not have yet)."""
        return ObjectCatalog({**extra, **self.types}, self.asset_sizes)

    def info(self, label: str) -> TypeInfo | None:
        return self.types.get(label)

    def layer_of(self, label: str) -> Layer:
        info = self.types.get(label)
        if info is None or info.pickupable:
            return Layer.OBJECT
        return Layer.RECEPTACLE

    def asset(self, asset_id: str) -> tuple[str, Vec3] | None:
        return self.asset_sizes.get(asset_id)


def _type_info(name: str, info: dict[str, Any]) -> TypeInfo:
    bb = info["bbox_m"]
    return TypeInfo(
        name=name,
        pickupable=bool(info["pickupable"]),
        receptacle=bool(info["receptacle"]),
        openable=bool(info["openable"]),
        toggleable=bool(info["toggleable"]),
        sliceable=bool(info["sliceable"]),
        cookable=bool(info["can_be_cooked"]),
        dirtyable=bool(info["can_be_dirty"]),
        fillable=bool(info["can_be_filled"]),
        median_size=(bb["x"]["median"], bb["y"]["median"], bb["z"]["median"]),
    )
