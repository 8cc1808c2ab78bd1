"""Retrieval for planning: instruction → compact memory context under a token budget.

The context holds the relevant subgraph (objects the instruction names, their
receptacles and rooms, and the room path from the agent), recent object states
from the STM, and relevant past events. Lines are added by priority until the
budget is spent. Tokens are estimated at ``chars_per_token`` characters per
token (4 is the usual rule of thumb for English with BPE tokenizers; no model
tokenizer is loaded here), and the same estimate is reported for a full dump
of the scene graph so the two sizes compare like for like.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass

from memory_core.config import RetrievalConfig
from memory_core.embedding import label_text
from memory_core.episodic import EpisodicMemory
from memory_core.scene_graph import SceneGraph
from memory_core.stm import ShortTermMemory
from memory_core.types import Event, Layer, Relation, SceneNode

__all__ = [
    "PlanningContext",
    "build_context",
    "estimate_tokens",
    "full_dump",
    "quoted",
    "render_node",
]

_WORD = re.compile(r"[a-z0-9]+")


@dataclass(frozen=True, slots=True)
class PlanningContext:
    text: str
    tokens: int
    full_dump_tokens: int
    object_ids: tuple[str, ...]
    matched_labels: tuple[str, ...]
    truncated: bool

    @property
    def ratio(self) -> float:
        return self.tokens / self.full_dump_tokens if self.full_dump_tokens else 0.0


def estimate_tokens(text: str, chars_per_token: float = 4.0) -> int:
    return math.ceil(len(text) / chars_per_token)


def _fmt(p: tuple[float, float, float]) -> str:
    return f"({p[0]:.2f},{p[1]:.2f},{p[2]:.2f})"


def quoted(text: str) -> str:
    """``text`` as a JSON string: how names and notes from memory enter a prompt.

    Labels, ids and notes come from sensors, bags and other robots; quoted, a comma in a
    label cannot split a list and a label that reads like an order stays a name (the
    prompts say that quoted text is data)."""
    return json.dumps(text, ensure_ascii=False)


def _state(state: Mapping[str, object]) -> str:
    return json.dumps(dict(sorted(state.items())), ensure_ascii=False, separators=(",", ":"))


def render_node(graph: SceneGraph, node: SceneNode) -> str:
    parts = [f"{quoted(node.id)} [{quoted(node.label)}] at {_fmt(node.position)}"]
    support = graph.support_of(node.id)
    if support is not None:
        parts.append(f"{support[1].value} {quoted(support[0])}")
    room = graph.room_of(node.id)
    if room is not None:
        parts.append(f"room {quoted(room)}")
    if node.state:
        parts.append(f"state {_state(node.state)}")
    if not node.present:
        parts.append("GONE")
    parts.append(f"seen t={node.last_seen:g} conf={node.confidence:.2f}")
    return "; ".join(parts)


def _render_room(graph: SceneGraph, room: SceneNode) -> str:
    adj = graph.neighbors(room.id, Relation.ADJACENT)
    return f"{quoted(room.id)} [{quoted(room.label)}]" + (
        f" adjacent: {', '.join(quoted(a) for a in sorted(set(adj)))}" if adj else ""
    )


def _render_event(e: Event) -> str:
    objs = ",".join(quoted(o) for o in e.objects)
    where = f" in {quoted(e.room)}" if e.room else ""
    outcome = quoted(e.outcome) if e.outcome else "?"
    note = f" {quoted(e.text)}" if e.text else ""
    action = e.action if e.action.isidentifier() else quoted(e.action)
    return f"t={e.t:g} ep={quoted(e.episode_id)} {action}({objs}){where} -> {outcome}{note}"


def full_dump(graph: SceneGraph) -> str:
    """Every node and edge, as a planner would get it without retrieval."""
    lines = [_render_room(graph, r) for r in graph.nodes(Layer.ROOM)]
    lines += [render_node(graph, n) for n in graph.iter_nodes() if n.layer != Layer.ROOM]
    lines += [f"{quoted(e.src)} -{e.relation.value}-> {quoted(e.dst)}" for e in graph.edges()]
    return "\n".join(lines)


def _words(text: str) -> set[str]:
    words = set(_WORD.findall(text.lower()))
    return words | {w[:-1] for w in words if w.endswith("s") and len(w) > 3}


def _named_labels(graph: SceneGraph, instruction: str) -> list[str]:
    words = _words(instruction)
    named = []
    for label in graph.labels():
        lw = _WORD.findall(label_text(label))
        if lw and (all(w in words for w in lw) or "".join(lw) in words):
            named.append(label)
    # A label like "Table" inside "DiningTable": prefer the longer match only.
    return [a for a in named if not any(a != b and label_text(a) in label_text(b) for b in named)]


def build_context(
    instruction: str,
    graph: SceneGraph,
    stm: ShortTermMemory | None = None,
    episodic: EpisodicMemory | None = None,
    config: RetrievalConfig | None = None,
    agent_room: str | None = None,
    budget_tokens: int | None = None,
) -> PlanningContext:
    cfg = config or RetrievalConfig()
    budget = cfg.token_budget if budget_tokens is None else budget_tokens
    labels = _named_labels(graph, instruction)
    if not labels and graph.embedder is not None:
        labels = sorted({n.label for _s, n in graph.search(instruction, k=3)})

    objects: list[SceneNode] = []
    for label in labels:
        objects.extend(graph.find_by_label(label)[: cfg.max_objects])
    seen = {n.id for n in objects}
    extra: list[SceneNode] = []
    for n in objects:  # the receptacles holding named things, and what named receptacles hold
        support = graph.support_of(n.id)
        if support is not None and support[0] not in seen:
            seen.add(support[0])
            extra.append(graph.node(support[0]))
        if n.layer == Layer.RECEPTACLE:
            for c in graph.contents(n.id):
                if c.id not in seen:
                    seen.add(c.id)
                    extra.append(c)
    relevant = (objects + extra)[: cfg.max_objects]

    sections: list[tuple[str, list[str]]] = []
    rooms = {graph.room_of(n.id) for n in relevant} | ({agent_room} if agent_room else set())
    room_lines = [_render_room(graph, graph.node(r)) for r in sorted(r for r in rooms if r)]
    if agent_room:
        for r in sorted(r for r in rooms if r and r != agent_room):
            path = graph.room_path(agent_room, r)
            room_lines.append(
                f"path {quoted(agent_room)} -> {quoted(r)}: "
                + (" -> ".join(quoted(x) for x in path.rooms) if path else "unknown")
            )
    sections.append(("# objects", [render_node(graph, n) for n in relevant]))
    sections.append(("# rooms", room_lines))
    if stm is not None:
        wanted = set(labels)
        recent = [s for s in stm.recent() if s.label in wanted][: cfg.max_objects]
        sections.append(
            (
                "# recent states",
                [
                    f"{quoted(s.object_id)} at {_fmt(s.position)}"
                    + (f" {quoted(s.receptacle)}" if s.receptacle else "")
                    + (f" state {_state(s.state)}" if s.state else "")
                    + f" t={s.t:g}"
                    for s in recent
                ],
            )
        )
    if episodic is not None and len(episodic):
        events: dict[int, Event] = {}
        for label in labels:
            for e in episodic.by_object(label)[-cfg.max_events :]:
                events[e.seq] = e
        if not events:
            for recall in episodic.similar(instruction, k=2):
                events[recall.event.seq] = recall.event
        picked = sorted(events.values(), key=lambda e: e.seq)[-cfg.max_events :]
        sections.append(("# past events", [_render_event(e) for e in picked]))

    lines: list[str] = []
    used = 0
    truncated = False
    for header, body in sections:
        if not body:
            continue
        for line in [header, *body]:
            cost = estimate_tokens(line + "\n", cfg.chars_per_token)
            if used + cost > budget:
                truncated = True
                break
            lines.append(line)
            used += cost
    text = "\n".join(lines)
    return PlanningContext(
        text=text,
        tokens=estimate_tokens(text, cfg.chars_per_token),
        full_dump_tokens=estimate_tokens(full_dump(graph), cfg.chars_per_token),
        object_ids=tuple(n.id for n in relevant),
        matched_labels=tuple(labels),
        truncated=truncated,
    )
