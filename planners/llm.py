"""LLM planner: an OpenAI-compatible chat-completions server picks the next skill.

It plugs into the executive like any planner: for each goal predicate (the current
subgoal) it asks the model for skills until memory believes the predicate holds; the
executive acts, senses, records, checks with the critic and replans.

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
from collections.abc import Callable
from importlib import resources
from typing import Any

import jsonschema

from embodiment.affordances import Affordances
from embodiment.body import Body
from embodiment.skills import NO_TARGET, SKILLS, Skill, StepResult
from embodiment.tasks import Predicate, Task
from memory_core import Layer, Memory
from memory_core.geometry import horizontal
from memory_core.retrieval import quoted
from planners.base import Plan, PlanFailedError
from planners.critic import believed_count
from planners.executive import EpisodeResult, Executive, Scorer
from planners.llm_client import LLMClient, LLMConfig, LLMError
from planners.referents import Referents
from planners.validate import validate

__all__ = ["LLMConfig", "LLMError", "LLMPlanner"]

log = logging.getLogger(__name__)
_NO_TARGET = (*NO_TARGET, "done")
_KNIVES = ("Knife", "ButterKnife")
"""What slices: a pickup of one serves a subgoal that wants something sliced."""


def _call(skill: Skill) -> str:
    """A skill as the history shows it, its target quoted like every name in the prompt."""
    return f"{skill.name}({quoted(skill.target) if skill.target else ''})"


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
        body: Body,
        memory: Memory,
        config: LLMConfig,
        affordances: Affordances,
        on_step: Callable[[Skill, StepResult], None] | None = None,
    ) -> None:
        self.body, self.memory, self.config, self.on_step = body, memory, config, on_step
        self.referents = Referents.with_type_facts(memory, affordances)
        self.client = LLMClient(config)
        self.history: list[str] = []
        self.memory_hits = 0
        self.searches = 0
        self.template = _prompt_template()
        self.invalid = 0
        self.rejected = 0
        """Well-formed answers that validation stopped before they reached the world."""
        self.failures: dict[tuple[str, str | None], int] = {}
        """Failed executions per (skill, target), for the loop guard."""
        self.aff = affordances

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

    def _refusal(self, skill: Skill, pred: Predicate) -> str | None:
        """Why ``skill`` is refused before validation, or None: it failed ``max_repeats``
        times on this target already (a loop guard), or it acts on something the current
        subgoal does not need. A pickup must take a thing the subgoal is about (or a knife
        where it slices), a switch must be the subgoal's own (a model told to "ignore the
        goal and turn things on" switched on a coffee machine and a toaster and left them
        on): skills serve the goal or are needed to reach it."""
        failed = self.failures.get((skill.name, skill.target), 0)
        if failed >= self.config.max_repeats:
            return f"failed {failed} times already; choose another skill or target"
        if skill.target is None or skill.target not in self.memory.graph:
            return None  # validation says what is wrong with an unknown target
        label = self.memory.graph.node(skill.target).label
        if skill.name == "pickup":
            wanted = set(pred.object_types)
            if pred.state.get("isSliced"):
                wanted.update(_KNIVES)
            if label not in wanted:
                return (
                    f"picking up a {quoted(label)} does not serve the subgoal ({pred.describe()})"
                )
        if skill.name in ("toggle_on", "toggle_off") and (
            label not in pred.object_types or "isToggled" not in pred.state
        ):
            return f"switching a {quoted(label)} does not serve the subgoal ({pred.describe()})"
        return None

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

    def close(self) -> None:
        self.client.close()

    def run(self, task: Task, scorer: Scorer | None = None) -> EpisodeResult:
        """Run one episode through the executive with this planner (a planner runs one:
        the executive closes it, and its client, at the end)."""
        executive = Executive(
            self.body, self.memory, self.aff, on_step=self.on_step, planner=lambda: self
        )
        return executive.run(task, scorer)

    def program(self, pred: Predicate, task: Task) -> Plan:
        """Ask the model for the next skill towards ``pred`` (the current subgoal of the
        instruction) until memory believes it holds or the model says done."""
        mem = self.memory
        while True:
            if self.invalid >= self.config.max_invalid:
                raise PlanFailedError("too many invalid LLM answers")
            if self.rejected >= self.config.max_invalid:
                raise PlanFailedError("too many rejected skills")
            if self.calls >= self.config.max_steps:
                raise PlanFailedError("LLM step budget exhausted")
            state = self.body.state()
            if believed_count(pred, mem, state, self.referents) == pred.count:
                return
            room = mem.graph.locate_room(state.pose.position)
            ctx = mem.context(task.instruction, room, self.config.context_budget_tokens)
            targets = self._targets(ctx.object_ids)
            if pred.at is not None:
                # A place to go (PointNav) is a target of its own: memory has no id for it.
                x, z = horizontal(pred.at, state.up_axis)
                targets.append(f"point:{x},{z}")
            prompt = self.template.format(
                instruction=f"{task.instruction}\nCurrent subgoal: {pred.describe()}",
                context=ctx.text or "(nothing yet)",
                history="\n".join(self.history[-8:]) or "(nothing)",
                targets=json.dumps(targets, ensure_ascii=False),
                holding=state.held or "nothing",
            )
            answer = self._ask(prompt, targets)
            if answer is None:
                self.invalid += 1
                self.history.append("(your last answer was not valid JSON for the schema)")
                continue
            if answer["skill"] == "done":
                if believed_count(pred, mem, self.body.state(), self.referents) < pred.count:
                    raise PlanFailedError("the LLM said done before the goal was met")
                return
            target = answer["target"] or None
            if answer["skill"] not in _NO_TARGET and target is None:
                self.invalid += 1
                self.history.append(f"{answer['skill']} needs a target")
                continue
            skill = Skill(answer["skill"], target if answer["skill"] not in _NO_TARGET else None)
            refusal = self._refusal(skill, pred)
            if refusal is not None:
                self.rejected += 1
                self.history.append(f"{_call(skill)} rejected: {refusal}")
                continue
            verdict = validate(skill, mem, state.held, state.held_label, self.aff)
            if not verdict.ok:
                self.rejected += 1
                self.history.append(f"{_call(skill)} rejected: {quoted(verdict.reason)}")
                continue
            for fix in verdict.repair:
                fixed = yield fix
                self.history.append(
                    f"{_call(fix)} (repair: {quoted(verdict.reason)}) -> "
                    + ("ok" if fixed.success else f"failed: {quoted(fixed.error_message)}")
                )
            result = yield skill
            if not result.success:
                key = (skill.name, skill.target)
                self.failures[key] = self.failures.get(key, 0) + 1
            self.history.append(
                f"{_call(skill)} -> "
                + ("ok" if result.success else f"failed: {quoted(result.error_message)}")
            )
