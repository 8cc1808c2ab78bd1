"""Prompt size: the memory context handed to a planner vs a full scene-graph dump.

For each ALFRED valid_seen task the symbolic planner runs with memory (so the
memory holds what an agent really saw), then the retrieval context for the
task's instruction is built under the default token budget and compared with
a dump of the same memory's whole scene graph, both measured with the same
token estimate. Prints medians; the last line is JSON.
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from loci.episodes import run_in_world  # noqa: E402
from planners.observe import new_memory  # noqa: E402
from sim import SceneRegistry  # noqa: E402
from sim.episode import make_world  # noqa: E402
from sim.suites import load_suite  # noqa: E402

DATA = REPO.parent / "shared" / "data"


def main() -> None:
    registry = SceneRegistry(DATA)
    ratios, ctx_tokens, dump_tokens = [], [], []
    for task in load_suite("alfred-seen", DATA):
        world = make_world(task, registry)
        memory = new_memory()
        run_in_world(world, memory, task, registry)
        ctx = memory.context(task.instruction, world.agent_room)
        ratios.append(ctx.ratio)
        ctx_tokens.append(ctx.tokens)
        dump_tokens.append(ctx.full_dump_tokens)
    result = {
        "tasks": len(ratios),
        "context_tokens_p50": statistics.median(ctx_tokens),
        "full_dump_tokens_p50": statistics.median(dump_tokens),
        "context_over_dump_p50": round(statistics.median(ratios), 3),
        "context_over_dump_max": round(max(ratios), 3),
    }
    print(
        f"context {result['context_tokens_p50']} vs full dump {result['full_dump_tokens_p50']} "
        f"tokens (median); ratio p50 {result['context_over_dump_p50']:.1%}"
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
