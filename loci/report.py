"""The run folder's report: a top-down map, the relevant scene subgraph, an HTML page."""

from __future__ import annotations

import html
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; no display here or on robots

import matplotlib.pyplot as plt
import networkx as nx
from matplotlib.patches import Polygon as MplPolygon
from PIL import Image

from embodiment.grid import FREE, OCCUPIED
from memory_core import Layer, LociError, Memory, Relation
from perception.depth_map import DepthMap, DepthMapConfig
from sim import World

__all__ = ["MapFromDepth", "MapFromDepthError", "new_depth_map", "save_depth_map", "write_report"]


@dataclass(frozen=True, slots=True)
class MapFromDepth:
    """The map from depth a run folder holds (``loci run --map``)."""

    ply: Path
    """The fused surface's mesh."""
    pgm: Path
    yaml: Path
    """The occupancy grid as nav2's map_server reads it (the YAML names the PGM)."""
    frames: int
    voxel_m: float
    resolution: float
    """Occupancy cell side, m."""
    cells: tuple[int, int]
    """Columns, rows."""
    free: int
    occupied: int

    def describe(self) -> str:
        return (
            f"{self.frames} depth frames fused at {self.voxel_m:g} m voxels; occupancy "
            f"{self.cells[0]}x{self.cells[1]} cells of {self.resolution:g} m, {self.free} "
            f"free, {self.occupied} occupied"
        )


class MapFromDepthError(LociError):
    """``--map`` cannot be made here (open3d missing, a bad voxel size)."""


def new_depth_map(voxel_m: float, up_axis: str) -> DepthMap:
    """An empty map from depth for a world with ``up_axis`` up. Made before anything runs
    (``loci run --map``, ``loci replay --map``), so a missing open3d or a bad voxel size is
    a clear error, not a run's lost end."""
    try:
        return DepthMap(DepthMapConfig(voxel_m=voxel_m, up_axis=up_axis))
    except ImportError as exc:
        raise MapFromDepthError(str(exc)) from exc
    except ValueError as exc:
        raise MapFromDepthError(f"map voxel size {voxel_m} m: {exc}") from exc


def save_depth_map(depth_map: DepthMap, out: Path) -> MapFromDepth:
    """Write a map from depth into ``out``: the TSDF's mesh as map.ply, its occupancy grid
    as map.pgm/map.yaml (nav2's map_server format). :class:`FrameError` when no frame
    held a surface."""
    grid = depth_map.occupancy()
    ply = depth_map.save_ply(out / "map.ply")
    yaml_path = grid.save_map_server(out / "map")
    return MapFromDepth(
        ply=ply,
        pgm=yaml_path.with_suffix(".pgm"),
        yaml=yaml_path,
        frames=depth_map.frames,
        voxel_m=depth_map.config.voxel_m,
        resolution=grid.resolution_m,
        cells=(grid.shape[1], grid.shape[0]),
        free=int((grid.data == FREE).sum()),
        occupied=int((grid.data == OCCUPIED).sum()),
    )


def _map_section(depth: MapFromDepth | None, out: Path) -> str:
    """The page's links to the map from depth, with its occupancy grid shown as PNG
    (browsers do not show PGM)."""
    if depth is None:
        return ""
    png = out / "map_occupancy.png"
    with Image.open(depth.pgm) as pgm:
        pgm.save(png)
    links = " · ".join(
        f'<a href="{html.escape(p.name)}">{html.escape(p.name)}</a>'
        for p in (depth.ply, depth.pgm, depth.yaml)
    )
    return f"""<h2>Map from depth</h2>
<p>{html.escape(depth.describe())}: {links}
(the mesh for MeshLab, Foxglove or RViz; the occupancy grid for nav2's map_server: white
free, black occupied, grey unknown; drawn as the top-down map is, the first horizontal axis to
the right, the second up).</p>
<p><img src="{png.name}" alt="occupancy grid from depth" class="grid"></p>
"""


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
    depth_map: MapFromDepth | None = None,
) -> Path:
    """Write the run folder's report (index.html and its images); with ``depth_map``, the
    page also links the map from depth and shows its occupancy grid."""
    out.mkdir(parents=True, exist_ok=True)
    _map(world, memory, path, out / "map.png")
    _subgraph(memory, focus, out / "subgraph.png")
    rows = "\n".join(
        f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in summary
    )
    page = f"""<!doctype html>
<html><head><meta charset="utf-8"><title>loci run: {html.escape(world.spec.name)}</title>
<style>body{{font-family:sans-serif;margin:2em}} th{{text-align:left;padding-right:1em}}
img{{max-width:48%;border:1px solid #ccc}} pre{{background:#f6f6f6;padding:1em}}
img.grid{{image-rendering:pixelated;min-width:30%}}</style></head>
<body><h1>loci run — {html.escape(world.spec.name)}</h1>
<table>{rows}</table>
<p><img src="map.png" alt="top-down map"> <img src="subgraph.png" alt="scene subgraph"></p>
{_map_section(depth_map, out)}<h2>Steps</h2><pre>{html.escape(chr(10).join(log))}</pre>
<p>Memory store: <code>memory.db</code>
(SQLite; load it with <code>memory_core.SQLiteStore</code>).</p>
</body></html>"""
    index = out / "index.html"
    index.write_text(page, encoding="utf-8")
    return index
