"""The run folder's report: a top-down map, the relevant scene subgraph, an HTML page."""

from __future__ import annotations

import html
from collections.abc import Iterable
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; no display here or on robots

import matplotlib.pyplot as plt
import networkx as nx
from matplotlib.patches import Polygon as MplPolygon

from memory_core import Layer, Memory, Relation
from sim import World

__all__ = ["write_report"]


def _map(world: World, memory: Memory, path: Iterable[tuple[float, float]], out: Path) -> None:
    fig, ax = plt.subplots(figsize=(8, 8), dpi=100)
    for room in world.spec.rooms:
        ax.add_patch(
            MplPolygon(
                room.polygon, closed=True, fill=True, alpha=0.15, edgecolor="black", label=None
            )
        )
        cx = sum(p[0] for p in room.polygon) / len(room.polygon)
        cz = sum(p[1] for p in room.polygon) / len(room.polygon)
        ax.text(cx, cz, room.room_type, ha="center", fontsize=9, alpha=0.6)
    cells = world.spec.reachable
    ax.scatter([c[0] for c in cells], [c[1] for c in cells], s=2, c="#bbbbbb", label="reachable")
    recs = memory.graph.nodes(Layer.RECEPTACLE)
    objs = memory.graph.nodes(Layer.OBJECT)
    ax.scatter(
        [n.position[0] for n in recs],
        [n.position[2] for n in recs],
        marker="s",
        s=30,
        c="#8d6e63",
        label="furniture (in memory)",
    )
    ax.scatter(
        [n.position[0] for n in objs],
        [n.position[2] for n in objs],
        s=12,
        c="#1e88e5",
        label="objects (in memory)",
    )
    pts = list(path)
    ax.plot([p[0] for p in pts], [p[1] for p in pts], c="#e53935", lw=1.2, label="agent path")
    ax.scatter([pts[0][0]], [pts[0][1]], c="green", s=60, marker="^", label="start", zorder=5)
    ax.scatter([pts[-1][0]], [pts[-1][1]], c="black", s=60, marker="X", label="end", zorder=5)
    ax.set_aspect("equal")
    ax.set_xlabel("x (m)")
    ax.set_ylabel("z (m)")
    ax.legend(loc="upper right", fontsize=7)
    ax.set_title(f"{world.spec.name}: top-down map")
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)


def _subgraph(memory: Memory, focus: Iterable[str], out: Path) -> None:
    g = memory.graph
    keep: set[str] = set()
    for node_id in focus:
        if node_id not in g:
            continue
        keep.add(node_id)
        support = g.support_of(node_id)
        if support:
            keep.add(support[0])
        room = g.room_of(node_id)
        if room:
            keep.add(room)
    for r in g.nodes(Layer.ROOM):
        keep.add(r.id)
    draw = nx.DiGraph()
    for n in keep:
        node = g.node(n)
        draw.add_node(n, label=f"{node.label}\n{n.split('|')[-1] if '|' in n else n}")
    for e in g.edges():
        if (
            e.src in keep
            and e.dst in keep
            and e.relation in (Relation.IN, Relation.ON, Relation.CONTAINS, Relation.ADJACENT)
        ):
            draw.add_edge(e.src, e.dst, rel=e.relation.value)
    fig, ax = plt.subplots(figsize=(9, 7), dpi=100)
    pos = nx.spring_layout(draw, seed=0)
    colors = [
        "#ffcc80"
        if g.node(n).layer == Layer.ROOM
        else "#90caf9"
        if g.node(n).layer == Layer.OBJECT
        else "#bcaaa4"
        for n in draw.nodes
    ]
    nx.draw_networkx(
        draw,
        pos,
        ax=ax,
        node_color=colors,
        labels=nx.get_node_attributes(draw, "label"),
        font_size=6,
        node_size=900,
        arrows=True,
    )
    nx.draw_networkx_edge_labels(draw, pos, nx.get_edge_attributes(draw, "rel"), font_size=6, ax=ax)
    ax.set_title("scene subgraph around the task's objects")
    ax.axis("off")
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)


def write_report(
    out: Path,
    world: World,
    memory: Memory,
    path: Iterable[tuple[float, float]],
    focus: Iterable[str],
    summary: list[tuple[str, str]],
    log: list[str],
) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    _map(world, memory, path, out / "map.png")
    _subgraph(memory, focus, out / "subgraph.png")
    rows = "\n".join(
        f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in summary
    )
    page = f"""<!doctype html>
<html><head><meta charset="utf-8"><title>loci run: {html.escape(world.spec.name)}</title>
<style>body{{font-family:sans-serif;margin:2em}} th{{text-align:left;padding-right:1em}}
img{{max-width:48%;border:1px solid #ccc}} pre{{background:#f6f6f6;padding:1em}}</style></head>
<body><h1>loci run — {html.escape(world.spec.name)}</h1>
<table>{rows}</table>
<p><img src="map.png" alt="top-down map"> <img src="subgraph.png" alt="scene subgraph"></p>
<h2>Steps</h2><pre>{html.escape(chr(10).join(log))}</pre>
<p>Memory store: <code>memory.db</code>
(SQLite; load it with <code>memory_core.SQLiteStore</code>).</p>
</body></html>"""
    index = out / "index.html"
    index.write_text(page, encoding="utf-8")
    return index
