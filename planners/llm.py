"""LLM planner: an OpenAI-compatible chat-completions server picks the next skill.

Works with vLLM, Ollama, llama.cpp's server and OpenAI (base URL, model and key
from the config or ``LOCI_LLM_BASE_URL`` / ``LOCI_LLM_MODEL`` / ``LOCI_LLM_API_KEY``).
The prompt is a data file (``planners/prompts/step.txt``) filled with the
instruction, the memory context from ``memory_core`` retrieval (not a dump of
the world), the finished skills and the ids the answer may name. Answers are
JSON validated against a schema (skill from a fixed list, target from the
known ids); with ``constrain`` the schema is also sent to the server
(llama.cpp's ``{"type": "json_object", "schema": ...}``) so small models can only
produce valid JSON. LLM text is data: it is parsed, validated and mapped onto
skills, never executed. Calls and tokens are counted.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from importlib import resources
from typing import Any

import jsonschema

from memory_core import Event, Layer, Memory, Pose
from planners.executive import EpisodeResult
from planners.llm_client import LLMClient, LLMConfig, LLMError
from planners.observe import observe
from planners.validate import validate
from sim.tasks import GoalChecker, Task
from sim.world import SKILLS, Skill, StepResult, World

__all__ = ["LLMConfig", "LLMError", "LLMPlanner"]

log = logging.getLogger(__name__)
_NO_TARGET = ("drop", "look_around", "done")


def _prompt_template() -> str:
    return resources.files("planners").joinpath("prompts/step.txt").read_text(encoding="utf-8")


def answer_schema(targets: list[str]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "skill": {"type": "string", "enum": [*SKILLS, "done"]},
            "target": {"type": "string", "enum": [*targets, ""]},
        },
        "required": ["skill", "target"],
    }


class LLMPlanner:
    def __init__(
        self,
        world: World,
        memory: Memory,
        config: LLMConfig,
        on_step: Callable[[Skill, StepResult], None] | None = None,
    ) -> None:
        self.world, self.memory, self.config, self.on_step = world, memory, config, on_step
        self.client = LLMClient(config)
        self.template = _prompt_template()
        self.invalid = 0
        self.rejected = 0
        """Well-formed answers that validation stopped before they reached the world."""
        self.aff = world.aff

    def _targets(self, context_ids: tuple[str, ...]) -> list[str]:
        """Ids the answer may name: what the memory context mentions, what was seen last,
        and the rooms — a short list, so small models with short contexts can use it."""
        g = self.memory.graph
        recent = [s.object_id for s in self.memory.stm.recent(self.config.max_targets)]
        ids = list(dict.fromkeys([*context_ids, *recent, *(n.id for n in g.nodes(Layer.ROOM))]))
        return ids[: self.config.max_targets]

    @property
    def calls(self) -> int:
        return self.client.calls

    @property
    def tokens(self) -> int:
        return self.client.tokens

    def _ask(self, prompt: str, targets: list[str]) -> dict[str, Any] | None:
        schema = answer_schema(targets)
        reply = self.client.chat(
            [{"role": "user", "content": prompt}],
            schema=schema if self.config.constrain else None,
        )
        if reply is None:
            return None
        text = reply.text.strip()
        try:
            data = json.loads(text)
            jsonschema.validate(data, schema)
        except (json.JSONDecodeError, RecursionError, jsonschema.ValidationError) as exc:
            log.info("rejected LLM answer %r: %s", text[:80], str(exc).splitlines()[0])
            return None
        assert isinstance(data, dict)
        return data

    def run(self, task: Task) -> EpisodeResult:
        """Run one episode (a planner runs one: its client is closed at the end)."""
        try:
            return self._run(task)
        finally:
            self.client.close()

    def _run(self, task: Task) -> EpisodeResult:
        start_wall = time.perf_counter()
        w, mem = self.world, self.memory
        start_steps, start_dist = w.steps_taken, w.distance_m
        episode = f"{task.task_id}@llm{len(mem.episodic)}"
        clock = float(len(mem.episodic))
        mem.episodic.begin_episode(episode, task.instruction, clock, task.scene)
        observe(w, mem, clock)
        checker = GoalChecker(task)
        history: list[str] = []
        skills = failed = 0
        error = ""
        for _ in range(self.config.max_steps):
            if checker.success(w):
                break
            ctx = mem.context(task.instruction, w.agent_room, self.config.context_budget_tokens)
            targets = self._targets(ctx.object_ids)
            prompt = self.template.format(
                instruction=task.instruction,
                context=ctx.text or "(nothing yet)",
                history="\n".join(history[-8:]) or "(nothing)",
                targets=", ".join(targets),
                holding=w.held or "nothing",
            )
            answer = self._ask(prompt, targets)
            if answer is None:
                self.invalid += 1
                history.append("(your last answer was not valid JSON for the schema)")
                if self.invalid >= self.config.max_invalid:
                    error = "too many invalid LLM answers"
                    break
                continue
            if answer["skill"] == "done":
                if not checker.success(w):
                    error = "the LLM said done before the goal was met"
                break
            target = answer["target"] or None
            if answer["skill"] not in _NO_TARGET and target is None:
                self.invalid += 1
                history.append(f"{answer['skill']} needs a target")
                continue
            skill = Skill(answer["skill"], target if answer["skill"] not in _NO_TARGET else None)
            held_type = w.objects[w.held].object_type if w.held else None
            verdict = validate(skill, mem, w.held, held_type, self.aff)
            if not verdict.ok:
                self.rejected += 1
                history.append(f"{skill.name}({target or ''}) rejected: {verdict.reason}")
                if self.rejected >= self.config.max_invalid:
                    error = "too many rejected skills"
                    break
                continue
            for fix in verdict.repair:
                w.step(fix)
                skills += 1
                history.append(f"{fix.name}({fix.target}) (repair: {verdict.reason})")
            result = w.step(skill)
            skills += 1
            clock += 1
            observe(w, mem, clock, list(result.seen))
            mem.record(
                Event(
                    clock,
                    episode,
                    skill.name,
                    "success" if result.success else "failure",
                    (target,) if target else (),
                    w.agent_room,
                    Pose((w.agent_xz[0], w.spec.agent_height, w.agent_xz[1])),
                    result.error_message,
                )
            )
            if self.on_step:
                self.on_step(skill, result)
            history.append(
                f"{skill.name}({target or ''}) -> "
                + ("ok" if result.success else f"failed: {result.error_message}")
            )
            if not result.success:
                failed += 1
            checker.update(w)
        else:
            error = "step budget exhausted"
        success = checker.success(w)
        mem.episodic.end_episode(episode, clock, "success" if success else "failure")
        return EpisodeResult(
            task_id=task.task_id,
            scene=task.scene,
            success=success,
            goal_conditions=checker.goal_conditions(w),
            steps=w.steps_taken - start_steps,
            skills=skills,
            distance_m=w.distance_m - start_dist,
            replans=0,
            failed_skills=failed,
            memory_hits=0,
            searches=0,
            wall_s=time.perf_counter() - start_wall,
            error="" if success else error,
            summaries=tuple(history),
        )
