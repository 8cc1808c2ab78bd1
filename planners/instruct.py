"""Instruction → checked goal: an LLM writes the task format's goal, the symbolic executive
carries it out.

Translating "put a washed apple in the fridge" into ordered subgoals of predicates is the
easiest use of a small model (planning every primitive step is the hardest). The model
answers under a JSON schema whose enums are what can be meant here: the object and
receptacle types the scene may hold (its catalog and memory), the instance names memory
knows, the state keys and values. The schema goes to the server as llama.cpp's
``response_format`` (constrained decoding) and is checked on every answer anyway; then the
goal is checked before anything moves: the task parser, and AI2-THOR's affordances (can
this go in that, can this be sliced, heated, switched on…). A rejected answer is asked
again with the reason, a bounded number of times. LLM text is data: parsed and checked,
never executed; an instruction that asks for something no goal can say (leave the house,
hurt someone) gets at most the part of it that is a valid goal.

The prompt is a data file (``planners/prompts/goal.txt``) with few-shot examples drawn
from a pool of tasks with instructions, the nearest by shared words, never the task being
translated (leave one out). The types listed in the prompt are those whose words the
instruction uses (SayPlan-style grounding: the schema's enums carry the rest at no prompt
cost).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, TypeVar

import jsonschema

from embodiment.affordances import Affordances
from embodiment.tasks import (
    STATE_KEYS,
    TEMPERATURES,
    Predicate,
    Task,
    TaskFormatError,
    made_from,
    parse_task,
)
from memory_core import Memory
from planners.llm_client import LLMClient

__all__ = [
    "GoalTranslator",
    "TranslateConfig",
    "Translation",
    "Vocabulary",
    "clauses",
    "goal_of",
    "goal_schema",
    "normalised_goal",
    "predicate_schema",
]

log = logging.getLogger(__name__)
_Answer = TypeVar("_Answer")

TABLES = ("DiningTable", "CoffeeTable", "SideTable")
"""An instruction's "table": any of these (as the household suite writes it)."""
_BOOLEAN_KEYS = tuple(k for k in STATE_KEYS if k not in ("temperature", "isPickedUp"))


@dataclass(frozen=True, slots=True)
class TranslateConfig:
    max_attempts: int = 3
    """Answers asked for, the first included, before the translation fails."""
    max_tokens: int = 200
    examples: int = 3
    """Few-shot examples in the prompt."""
    max_subgoals: int = 8
    per_clause: bool = True
    """Split the instruction into its clauses ("…, then …") and ask for one predicate per
    clause (each clause one ordered subgoal): a small model copies one example's pattern
    well and rambles on when it writes a whole goal. False: one call for the whole goal
    (a capable model; instructions whose steps are not clauses)."""


@dataclass(frozen=True, slots=True)
class Vocabulary:
    """What a goal here may name."""

    objects: tuple[str, ...]
    receptacles: tuple[str, ...]
    names: tuple[str, ...] = ()

    @classmethod
    def of(
        cls, types: Iterable[str], affordances: Affordances, memory: Memory | None = None
    ) -> Vocabulary:
        """From the types the scene may hold (and memory's labels and instance names):
        every type, with the pieces its sliceable things and eggs become, as objects; the
        receptacle types among them as places."""
        kinds = set(types)
        names: set[str] = set()
        if memory is not None:
            for node in memory.graph.nodes():
                kinds.add(node.label)
                name = node.attrs.get("name")
                if isinstance(name, str) and name:
                    names.add(name)
        pieces = {f"{t}Sliced" for t in kinds if affordances.sliceable(t) and t != "Egg"}
        if "Egg" in kinds:
            pieces.add("EggCracked")
        objects = tuple(sorted(kinds | pieces))
        places = tuple(sorted(t for t in kinds if affordances.receptacle(t)))
        return cls(objects, places, tuple(sorted(names)))


@dataclass(frozen=True, slots=True)
class Translation:
    task: Task | None
    """The checked goal, or None when every answer was rejected."""
    calls: int
    tokens: int
    rejections: tuple[str, ...] = field(default_factory=tuple)
    """Why each rejected answer was rejected, in order."""

    @property
    def error(self) -> str:
        if self.task is not None:
            return ""
        last = self.rejections[-1] if self.rejections else "no answer"
        return f"instruction not understood: {last}"


def goal_schema(vocab: Vocabulary, max_subgoals: int = 8) -> dict[str, Any]:
    """The answer's JSON schema: ordered subgoals of predicates over the vocabulary."""
    return {
        "type": "object",
        "properties": {
            "subgoals": {
                "type": "array",
                "minItems": 1,
                "maxItems": max_subgoals,
                "items": {
                    "type": "array",
                    "minItems": 1,
                    "maxItems": 4,
                    "items": predicate_schema(vocab),
                },
            }
        },
        "required": ["subgoals"],
        "additionalProperties": False,
    }


def predicate_schema(vocab: Vocabulary) -> dict[str, Any]:
    """One predicate over the vocabulary (what one clause asks for)."""
    state: dict[str, Any] = {k: {"type": "boolean"} for k in _BOOLEAN_KEYS}
    state["temperature"] = {"type": "string", "enum": list(TEMPERATURES)}
    pred: dict[str, Any] = {
        "type": "object",
        "properties": {
            "object": {"type": "string", "enum": list(vocab.objects)},
            "in": {"type": "string", "enum": list(vocab.receptacles)},
            "state": {"type": "object", "properties": state, "additionalProperties": False},
            "count": {"type": "integer", "minimum": 1, "maximum": 5},
        },
        "required": ["object"],
        "additionalProperties": False,
    }
    if vocab.names:
        pred["properties"]["name"] = {"type": "string", "enum": list(vocab.names)}
    return pred


def _named_in(clause: str, vocab: Vocabulary) -> Vocabulary:
    """The vocabulary a clause can mean: the types its words name (SayPlan-style grounding
    of the schema itself), all of them where it names none (a word the types do not use,
    "the tv"); instance names are kept."""
    said = _words(clause)
    objects = tuple(t for t in vocab.objects if _type_words(t) & said)
    places = tuple(t for t in vocab.receptacles if _type_words(t) & said)
    return Vocabulary(objects or vocab.objects, places or vocab.receptacles, vocab.names)


_CLAUSE_BREAK = re.compile(r",?\s*(?:and\s+)?then\s+|;\s*|\.\s+(?=\S)", re.IGNORECASE)


def clauses(instruction: str) -> list[str]:
    """An instruction's steps: its clauses joined by "then", ";" or sentence ends."""
    parts = [c.strip(" .,") for c in _CLAUSE_BREAK.split(instruction.strip())]
    return [c for c in parts if c]


def _template() -> str:
    return resources.files("planners").joinpath("prompts/goal.txt").read_text(encoding="utf-8")


_STOP = frozenset({"the", "a", "an", "of", "to", "it"})


def _words(text: str) -> set[str]:
    """Lower-case words, "on"/"off"/"in" kept (they decide a switch's state)."""
    spaced = re.sub(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", " ", text)
    return {w for w in re.findall(r"[a-z]+", spaced.lower()) if w not in _STOP}


def _type_words(t: str) -> set[str]:
    base = made_from(t)
    words = _words(base)
    if t in TABLES:
        words.add("table")
    return words


def _compact(pred: Predicate) -> dict[str, Any]:
    """A predicate as the model writes it (one type, one place)."""
    out: dict[str, Any] = {"object": pred.object_types[0]}
    if pred.in_types:
        out["in"] = pred.in_types[0]
    if pred.state:
        out["state"] = dict(pred.state)
    if pred.count > 1:
        out["count"] = pred.count
    return out


def goal_of(task: Task) -> list[list[dict[str, Any]]]:
    return [[_compact(p) for p in sg] for sg in task.subgoals]


def normalised_goal(task: Task) -> tuple[frozenset[tuple[Any, ...]], ...]:
    """A goal for exact-match comparison: per subgoal, the set of (object, place, state,
    count), a "table" (any of :data:`TABLES`) read as one word (an unordered goal is one
    subgoal)."""

    def word(types: tuple[str, ...]) -> str:
        return "table" if types and set(types) <= set(TABLES) else "/".join(sorted(types))

    return tuple(
        frozenset(
            (
                word(p.object_types),
                word(p.in_types),
                tuple(sorted((k, str(v)) for k, v in p.state.items())),
                p.count,
                p.held,
            )
            for p in sg
        )
        for sg in task.subgoals
    )


class GoalTranslator:
    """Translate instructions into checked goals with one LLM endpoint."""

    def __init__(
        self,
        client: LLMClient,
        affordances: Affordances,
        pool: Sequence[Task] = (),
        config: TranslateConfig | None = None,
    ) -> None:
        self.client, self.aff = client, affordances
        self.pool = [t for t in pool if t.instruction]
        self.config = config or TranslateConfig()
        self.template = _template()

    def translate(
        self, instruction: str, scene: str, vocab: Vocabulary, task_id: str = "instruction"
    ) -> Translation:
        """The goal the instruction asks for, checked; ``task_id`` names the task (and is
        left out of the few-shot examples)."""
        if self.config.per_clause:
            return self._per_clause(instruction, scene, vocab, task_id)
        calls0, tokens0 = self.client.calls, self.client.tokens
        schema = goal_schema(vocab, self.config.max_subgoals)
        prompt = self._prompt(instruction, vocab, task_id)
        task, rejections = self._ask(
            prompt,
            schema,
            lambda text: self._check(text, scene, instruction, vocab, schema, task_id),
        )
        return Translation(
            task, self.client.calls - calls0, self.client.tokens - tokens0, tuple(rejections)
        )

    def _ask(
        self,
        prompt: str,
        schema: dict[str, Any],
        check: Callable[[str], tuple[_Answer | None, str]],
    ) -> tuple[_Answer | None, list[str]]:
        """Ask until ``check`` accepts an answer, at most ``max_attempts`` times, each
        retry told why the last answer was rejected; the accepted answer (or None) and the
        reasons for the rejected ones."""
        messages = [{"role": "user", "content": prompt}]
        reasons: list[str] = []
        for _ in range(self.config.max_attempts):
            reply = self.client.chat(
                messages,
                max_tokens=self.config.max_tokens,
                schema=schema if self.client.config.constrain else None,
            )
            text = reply.text if reply is not None else ""
            found, reason = (None, "no valid reply from the LLM") if reply is None else check(text)
            if found is not None:
                return found, reasons
            reasons.append(reason)
            log.info("answer rejected: %s", reason)
            messages = [
                {"role": "user", "content": prompt},
                {"role": "assistant", "content": text[:400]},
                {"role": "user", "content": f"Rejected: {reason}. Answer again with JSON only."},
            ]
        return None, reasons

    def _per_clause(
        self, instruction: str, scene: str, vocab: Vocabulary, task_id: str
    ) -> Translation:
        calls0, tokens0 = self.client.calls, self.client.tokens
        steps = clauses(instruction)[: self.config.max_subgoals]
        preds: list[dict[str, Any]] = []
        rejections: list[str] = []
        for clause in steps:
            schema = predicate_schema(_named_in(clause, vocab))
            prompt = self._clause_prompt(clause, vocab, task_id)
            log.debug("clause prompt: %s", prompt)
            # Called within this turn of the loop: the clause and schema are this turn's.
            found, reasons = self._ask(
                prompt,
                schema,
                lambda text: self._check_predicate(text, scene, clause, schema, task_id),  # noqa: B023
            )
            rejections += [f"{clause!r}: {reason}" for reason in reasons]
            if found is None:
                return Translation(
                    None,
                    self.client.calls - calls0,
                    self.client.tokens - tokens0,
                    tuple(rejections),
                )
            preds.append(found)
        task, reason = self._as_task([[p] for p in preds], scene, instruction, task_id)
        if task is None:
            rejections.append(reason)
        return Translation(
            task, self.client.calls - calls0, self.client.tokens - tokens0, tuple(rejections)
        )

    def _clause_prompt(self, clause: str, vocab: Vocabulary, task_id: str) -> str:
        said = _words(clause)
        types = [t for t in vocab.objects if _type_words(t) & said]
        places = [t for t in vocab.receptacles if _type_words(t) & said and t not in types]
        shown = [
            f"Instruction: {text}\nGoal: {json.dumps(pred, separators=(',', ':'))}\n\n"
            for text, pred in self._clause_examples(clause, vocab, task_id)
        ]
        return self.template.format(
            types=", ".join(types + places) or ", ".join(vocab.objects[:40]),
            examples="".join(shown),
            instruction=clause,
        )

    def _clause_examples(
        self, clause: str, vocab: Vocabulary, task_id: str
    ) -> list[tuple[str, dict[str, Any]]]:
        """(clause, predicate) pairs from the pool's tasks whose clauses are their ordered
        subgoals one for one, none from ``task_id``: those doing the same (shared words
        that name no thing: "turn on", "rinse", "put … in") first, then those sharing the
        most words; the most alike last, right before the clause asked about."""
        said = _words(clause)
        named = set().union(*(_type_words(t) for t in (*vocab.objects, *vocab.receptacles)))
        doing = said - named
        pairs: list[tuple[tuple[int, int], str, str, dict[str, Any]]] = []
        seen: set[str] = set()
        for t in self.pool:
            if t.task_id == task_id or not t.ordered:
                continue
            steps = clauses(t.instruction)
            if len(steps) != len(t.subgoals) or any(len(sg) != 1 for sg in t.subgoals):
                continue
            for text, sg in zip(steps, t.subgoals, strict=True):
                key = text.lower()
                if key in seen:
                    continue
                seen.add(key)
                pred = sg[0]
                words = _words(text)
                things = set().union(
                    *(_type_words(x) for x in (*pred.object_types, *pred.in_types))
                )
                score = (len((words - things) & doing), len(words & said))
                pairs.append((score, text, t.task_id, _compact(pred)))
        pairs.sort(key=lambda p: (-p[0][0], -p[0][1], p[1], p[2]))
        best = pairs[: self.config.examples]
        return [(text, pred) for _n, text, _id, pred in reversed(best)]

    # ------------------------------------------------------------------ the prompt
    def _prompt(self, instruction: str, vocab: Vocabulary, task_id: str) -> str:
        said = _words(instruction)
        types = [t for t in vocab.objects if _type_words(t) & said]
        places = [t for t in vocab.receptacles if _type_words(t) & said and t not in types]
        examples = "".join(
            f"Instruction: {t.instruction}\nGoal: "
            f"{json.dumps({'subgoals': goal_of(t)}, separators=(',', ':'))}\n\n"
            for t in self._examples(instruction, task_id)
        )
        return self.template.format(
            types=", ".join(types + places) or ", ".join(vocab.objects[:40]),
            examples=examples,
            instruction=instruction,
        )

    def _examples(self, instruction: str, task_id: str) -> list[Task]:
        """The pool's tasks sharing most words with the instruction (ties: shorter goal,
        then id), never ``task_id`` itself."""
        said = _words(instruction)
        cands = [t for t in self.pool if t.task_id != task_id]
        cands.sort(key=lambda t: (-len(_words(t.instruction) & said), len(t.predicates), t.task_id))
        return cands[: self.config.examples]

    # ------------------------------------------------------------------ checks
    def _check_predicate(
        self, text: str, scene: str, clause: str, schema: dict[str, Any], task_id: str
    ) -> tuple[dict[str, Any] | None, str]:
        try:
            answer = json.loads(text)
        except (json.JSONDecodeError, RecursionError):
            return None, "the answer is not JSON"
        try:
            jsonschema.validate(answer, schema)
        except jsonschema.ValidationError as exc:
            return None, f"the answer does not fit the goal schema: {exc.message[:160]}"
        task, reason = self._as_task([[answer]], scene, clause, task_id)
        return (answer, "") if task is not None else (None, reason)

    def _as_task(
        self, subgoals: list[list[dict[str, Any]]], scene: str, instruction: str, task_id: str
    ) -> tuple[Task | None, str]:
        try:
            task = parse_task(
                {"id": task_id, "scene": scene, "instruction": instruction, "subgoals": subgoals}
            )
        except (TaskFormatError, ValueError, TypeError) as exc:
            return None, f"the answer is not a valid goal: {exc}"
        for pred in task.predicates:
            problem = self._impossible(pred)
            if problem:
                return None, problem
        return task, ""

    def _check(
        self,
        text: str,
        scene: str,
        instruction: str,
        vocab: Vocabulary,
        schema: dict[str, Any],
        task_id: str,
    ) -> tuple[Task | None, str]:
        try:
            answer = json.loads(text)
        except (json.JSONDecodeError, RecursionError):
            return None, "the answer is not JSON"
        try:
            jsonschema.validate(answer, schema)
        except jsonschema.ValidationError as exc:
            return None, f"the answer does not fit the goal schema: {exc.message[:160]}"
        return self._as_task(answer["subgoals"], scene, instruction, task_id)

    def _impossible(self, pred: Predicate) -> str:
        """Why AI2-THOR could not make the predicate true, or ""."""
        aff = self.aff
        t = pred.object_types[0]
        whole = made_from(t)
        if pred.in_types:
            place = pred.in_types[0]
            if not aff.pickupable(t):
                return f"a {t} cannot be moved"
            if not aff.can_place(t, place):
                return f"a {t} cannot go in or on a {place}"
        needs = {
            "isOpen": aff.openable,
            "isToggled": aff.toggleable,
            "isSliced": aff.sliceable,
            "isCooked": aff.cookable,
            "isFilledWithLiquid": aff.fillable,
            "isBroken": aff.breakable,
            "isDirty": aff.dirtyable,
            "isCleaned": lambda x: aff.cleanable(x) or aff.dirtyable(x),
            "isHeated": lambda x: aff.heatable(x) or aff.cookable(x),
            "isCooled": aff.coolable,
        }
        for key, value in pred.state.items():
            if key == "temperature":
                ok = (
                    aff.heatable(t) or aff.cookable(t) or aff.coolable(t)
                    if value != "RoomTemp"
                    else True
                )
            elif key == "isPickedUp":
                ok = aff.pickupable(t)
            else:
                check = needs.get(key)
                ok = check is None or check(t) or check(whole)
            if not ok:
                return f"a {t} cannot have {key}={json.dumps(value)}"
        return ""
