"""Type facts: every AI2-THOR type the scenes use has flags and a layer, including the
iTHOR fixtures the ProcTHOR asset catalog lacks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from embodiment.affordances import Affordances
from memory_core import Layer


@pytest.mark.parametrize("fixture", ["Drawer", "Cabinet", "SinkBasin", "Shelf", "StoveBurner"])
def test_ithor_fixtures_are_receptacles_not_small_objects(data_dir: Path, fixture: str) -> None:
    aff = Affordances.load(data_dir)
    # Memory's layer for a perceived node comes from this catalog: a drawer taken for an
    # object was carried along as if it were a bowl.
    assert aff.catalog.layer_of(fixture) == Layer.RECEPTACLE
    assert aff.receptacle(fixture) and not aff.pickupable(fixture)


def test_documented_flags_and_recorded_sizes_fill_the_gaps(data_dir: Path) -> None:
    aff = Affordances.load(data_dir)
    assert aff.openable("Drawer") and aff.toggleable("StoveKnob")
    assert not aff.receptacle("StoveKnob")
    # A fixture's size is the median over the recorded scenes, as before.
    assert aff.median_size("Drawer") == pytest.approx((0.390, 0.219, 0.319), abs=1e-3)
    doc = json.loads(
        (data_dir / "ai2thor_recorded/rl_thor_events/misc/object_types_data.json").read_text()
    )
    missing = [t for t in doc if aff.catalog.info(t) is None and not t.endswith("Sliced")]
    assert missing == []


def test_pivot_lifts_come_from_the_recorded_scenes(data_dir: Path) -> None:
    aff = Affordances.load(data_dir)
    # A shelf's pivot is its bottom, a counter top's its surface (its box hangs below), a
    # drawer's about its middle.
    assert aff.pivot_lift("Shelf") == pytest.approx(0.5, abs=0.05)
    assert aff.pivot_lift("CounterTop") == -0.5
    assert abs(aff.pivot_lift("Drawer") or 1.0) < 0.2
    # Floor-standing furniture (recorded pivots at y ≈ 0) has no lift of its own: an id
    # higher up says the pivot is elsewhere in that scene.
    assert aff.pivot_lift("SideTable") is None and aff.pivot_lift("Chair") is None


def test_cooking_facts_are_ai2thor_s(data_dir: Path) -> None:
    """AI2-THOR cooks Potato, PotatoSliced, BreadSliced and EggCracked; ALFRED's
    "heatable" (a mug, an apple) is heated, not cooked. Heat sources include the burners
    (parts of stove assets, so the asset database does not flag them)."""
    aff = Affordances.load(data_dir)
    cooks = ["Potato", "PotatoSliced", "BreadSliced", "EggCracked"]
    assert all(aff.cookable(t) for t in cooks)
    assert not any(aff.cookable(t) for t in ("Mug", "Apple", "Bread", "Egg", "Pan"))
    assert all(aff.heatable(t) for t in ("Mug", "Apple"))
    sources = ("Microwave", "StoveBurner", "Toaster", "CoffeeMachine")
    assert all(aff.heat_source(t) for t in sources)
    assert not aff.heat_source("Fridge") and aff.cold_source("Fridge")
    assert aff.breakable("Egg") and aff.breakable("Bowl") and not aff.breakable("Apple")
    # Only pans, pots and kettles stand on a burner; only bread slices go in a toaster.
    assert aff.can_place("Pan", "StoveBurner") and not aff.can_place("Potato", "StoveBurner")
    assert aff.can_place("BreadSliced", "Toaster") and not aff.can_place("Bread", "Toaster")
