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

import functools
import json
import logging
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, TypeVar

import jsonschema
import yaml

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
    "clause_parts",
    "clause_schema",
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
    context_budget_tokens: int = 120
    """Memory's context in the prompt (what it holds that the instruction may mean: "the
    mug I left in the sink"), retrieved as the LLM planner's is, under this budget."""
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
            # The examples' order: a server that decodes under the schema writes the keys
            # in this order, and a small model follows an example best.
            "object": {"type": "string", "enum": list(vocab.objects)},
            "held": {"type": "boolean"},
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


def clause_schema(vocab: Vocabulary, many: bool = False) -> dict[str, Any]:
    """What one clause asks for: one predicate, or (``many``) a few that hold together
    ("examine the book under the lamp": the book held and the lamp on). One shape, not
    a choice of both: under a grammar that allows either, Gemma-3-270M opened a list for
    "hold a pillow" and wrote the wrong condition in it; with the shape of the nearest
    example it copies that example."""
    pred = predicate_schema(vocab)
    return {"type": "array", "minItems": 1, "maxItems": 4, "items": pred} if many else pred


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


@functools.cache
def _lexicon() -> tuple[dict[str, frozenset[str]], frozenset[str]]:
    """``prompts/words.yaml``: the words that name each type beyond its own, and the verbs
    that start a second action within a clause."""
    text = resources.files("planners").joinpath("prompts/words.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    aliases = {t: frozenset(str(w).lower() for w in ws) for t, ws in data["aliases"].items()}
    return aliases, frozenset(str(v).lower() for v in data["verbs"])


_SOURCE = re.compile(
    r"\s+from(?:\s+(?!and\b|then\b)[a-z]+){1,3}?(?=\s+(?:to|into|onto|on|in|and)\b|\s*,|\s*$)",
    re.IGNORECASE,
)
_PART_BREAK = re.compile(r"\s*,\s*(?:and\s+)?|\s+and\s+|\s+while\s+", re.IGNORECASE)
_PRONOUN = re.compile(r"\b(?:it|them)\b", re.IGNORECASE)


def clause_parts(clause: str) -> list[str]:
    """A clause's actions that hold together: split where a comma, "and" or "while" is
    followed by a verb ("hold a pillow while turning on a lamp"); where a thing comes
    from is dropped ("move the book from the desk to the sofa": the sofa is the goal)."""
    clause = _SOURCE.sub("", clause)
    verbs = _lexicon()[1]
    pieces = _PART_BREAK.split(clause)
    joiners = _PART_BREAK.findall(clause)
    parts = [pieces[0]]
    for joiner, piece in zip(joiners, pieces[1:], strict=True):
        first = piece.split(maxsplit=1)[0].lower() if piece.strip() else ""
        if first in verbs:
            parts.append(piece)
        else:
            parts[-1] = parts[-1] + joiner + piece
    return [p.strip(" .,") for p in parts if p.strip(" .,")]


_STOP = frozenset({"the", "a", "an", "of", "to", "it"})


def _words(text: str) -> set[str]:
    """Lower-case words, "on"/"off"/"in" kept (they decide a switch's state)."""
    spaced = re.sub(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", " ", text)
    return {w for w in re.findall(r"[a-z]+", spaced.lower()) if w not in _STOP}


def _type_words(t: str) -> set[str]:
    base = made_from(t)
    words = _words(base) | _lexicon()[0].get(base, frozenset())
    if t in TABLES:
        words.add("table")
    return words


def _compact(pred: Predicate) -> dict[str, Any]:
    """A predicate as the model writes it (one type, one place)."""
    out: dict[str, Any] = {"object": pred.object_types[0]}
    if pred.held:
        out["held"] = True
    if pred.in_types:
        out["in"] = pred.in_types[0]
    if pred.state:
        out["state"] = dict(pred.state)
    if pred.count > 1:
        out["count"] = pred.count
    return out


def goal_of(task: Task) -> list[list[dict[str, Any]]]:
    return [[_compact(p) for p in sg] for sg in task.subgoals]


def _aligned(step: str, subgoal: Sequence[Predicate]) -> list[tuple[str, list[Predicate]]]:
    """A pool clause's examples: each of its parts with the one predicate whose object it
    names (as the clause is asked part by part), else the whole clause with its subgoal."""
    parts = clause_parts(step)
    if len(parts) == len(subgoal) > 1:
        matched: list[tuple[str, list[Predicate]]] = []
        for text in parts:
            said = _words(text)
            hits = [p for p in subgoal if _type_words(p.object_types[0]) & said]
            if len(hits) != 1:
                break
            matched.append((text, hits))
        if len(matched) == len(parts) and len({id(m[1][0]) for m in matched}) == len(parts):
            return matched
    return [(step, list(subgoal))]


def _parsed(text: str, schema: dict[str, Any]) -> tuple[Any, str]:
    """An answer's JSON if it fits ``schema``, else None and why not."""
    try:
        answer = json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        return None, "the answer is not JSON"
    try:
        jsonschema.validate(answer, schema)
    except jsonschema.ValidationError as exc:
        return None, f"the answer does not fit the goal schema: {exc.message[:160]}"
    return answer, ""


def _without_means(subgoal: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A subgoal without the holding that only leads to a placement of the same thing
    ("pick up the apple and put the apple in the fridge": the apple in the fridge)."""
    placed = {p["object"] for p in subgoal if "in" in p}
    kept = [
        p
        for p in subgoal
        if not (p.get("held") and p["object"] in placed and set(p) <= {"object", "held"})
    ]
    return kept or subgoal


def _clause_answer(subgoal: Sequence[Predicate]) -> dict[str, Any] | list[dict[str, Any]]:
    """A subgoal as the model writes it for its clause: one predicate, or a list."""
    preds = [_compact(p) for p in subgoal]
    return preds[0] if len(preds) == 1 else preds


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


_PLAIN_TYPE = re.compile(r"[A-Za-z0-9][A-Za-z0-9 _.|-]*")


def _type_list(types: list[str]) -> str:
    """The types for the prompt: a plain comma-separated list of type names, as the
    examples were written for, or a JSON list when a type (a label memory learned) holds
    a comma, a quote or anything else that could be read as more than a name. Given the
    JSON list for plain names, Gemma-3-270M matched 88.9% of the household goals, not
    94.4% (it took places for things: "a CoffeeTable cannot be moved")."""
    if all(_PLAIN_TYPE.fullmatch(t) for t in types):
        return ", ".join(types)
    return json.dumps(types, ensure_ascii=False)


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
        self,
        instruction: str,
        scene: str,
        vocab: Vocabulary,
        task_id: str = "instruction",
        memory: Memory | None = None,
    ) -> Translation:
        """The goal the instruction asks for, checked; ``task_id`` names the task (and is
        left out of the few-shot examples); ``memory``: what the robot remembers, its
        context retrieved for the instruction under the configured budget."""
        remembered = self._remembered(instruction, memory)
        if self.config.per_clause:
            return self._per_clause(instruction, scene, vocab, task_id, remembered)
        calls0, tokens0 = self.client.calls, self.client.tokens
        schema = goal_schema(vocab, self.config.max_subgoals)
        prompt = self._prompt(instruction, vocab, task_id, remembered)
        task, rejections = self._ask(
            prompt,
            schema,
            lambda text: self._check(text, scene, instruction, schema, task_id),
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

    def _remembered(self, instruction: str, memory: Memory | None) -> str:
        """The prompt's memory section: "" when memory is absent or holds nothing."""
        if memory is None or self.config.context_budget_tokens <= 0:
            return ""
        if not any(True for _ in memory.graph.nodes()):
            return ""
        text = memory.context(instruction, None, self.config.context_budget_tokens).text
        return f"The robot remembers:\n{text}\n\n" if text else ""

    def _per_clause(
        self, instruction: str, scene: str, vocab: Vocabulary, task_id: str, remembered: str
    ) -> Translation:
        calls0, tokens0 = self.client.calls, self.client.tokens
        steps = clauses(instruction)[: self.config.max_subgoals]
        subgoals: list[list[dict[str, Any]]] = []
        rejections: list[str] = []
        for step in steps:
            subgoal: list[dict[str, Any]] = []
            for clause in self._parts(step, vocab):
                prompt, many = self._clause_prompt(clause, vocab, task_id, remembered)
                schema = clause_schema(_named_in(clause, vocab), many)
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
                subgoal += found
            subgoals.append(_without_means(subgoal))
        task, reason = self._as_task(subgoals, scene, instruction, task_id)
        if task is None:
            rejections.append(reason)
        return Translation(
            task, self.client.calls - calls0, self.client.tokens - tokens0, tuple(rejections)
        )

    def _parts(self, step: str, vocab: Vocabulary) -> list[str]:
        """The step's parts, a pronoun in a later part read as the thing the part before
        it named ("pick up the apple and put it in the fridge")."""
        parts = clause_parts(step)
        for i in range(1, len(parts)):
            said = _words(parts[i - 1])
            things = [t for t in vocab.objects if self.aff.pickupable(t) and _type_words(t) & said]
            if things and _PRONOUN.search(parts[i]):
                name = " ".join(sorted(_type_words(things[0]) & said))
                parts[i] = _PRONOUN.sub(f"the {name}", parts[i])
        return parts

    def _clause_prompt(
        self, clause: str, vocab: Vocabulary, task_id: str, remembered: str = ""
    ) -> tuple[str, bool]:
        """The clause's prompt, and whether its nearest example answers with a list."""
        examples = self._clause_examples(clause, vocab, task_id)
        prompt = self._fill(clause, vocab, examples, remembered)
        return prompt, bool(examples) and isinstance(examples[-1][1], list)

    def _clause_examples(
        self, clause: str, vocab: Vocabulary, task_id: str
    ) -> list[tuple[str, dict[str, Any] | list[dict[str, Any]]]]:
        """(clause, answer) pairs from the pool's tasks whose clauses are their subgoals
        one for one (ordered, or one clause for one subgoal), none from ``task_id``: those
        doing the same (shared words that name no thing: "turn on", "rinse", "put … in")
        first, then those sharing the most words; the most alike last, right before the
        clause asked about."""
        said = _words(clause)
        named = set().union(*(_type_words(t) for t in (*vocab.objects, *vocab.receptacles)))
        doing = said - named
        pairs: list[tuple[tuple[int, int], str, str, dict[str, Any] | list[dict[str, Any]]]] = []
        seen: set[str] = set()
        for t in self.pool:
            if t.task_id == task_id or not (t.ordered or len(t.subgoals) == 1):
                continue
            steps = clauses(t.instruction)
            if len(steps) != len(t.subgoals):
                continue
            for step, sg in zip(steps, t.subgoals, strict=True):
                for text, part in _aligned(step, sg):
                    key = text.lower()
                    if key in seen:
                        continue
                    seen.add(key)
                    words = _words(text)
                    things = set().union(
                        *(_type_words(x) for p in part for x in (*p.object_types, *p.in_types))
                    )
                    score = (len((words - things) & doing), len(words & said))
                    pairs.append((score, text, t.task_id, _clause_answer(part)))
        pairs.sort(key=lambda p: (-p[0][0], -p[0][1], p[1], p[2]))
        best = pairs[: self.config.examples]
        return [(text, pred) for _n, text, _id, pred in reversed(best)]

    # ------------------------------------------------------------------ the prompt
    def _prompt(
        self, instruction: str, vocab: Vocabulary, task_id: str, remembered: str = ""
    ) -> str:
        examples = [
            (t.instruction, {"subgoals": goal_of(t)}) for t in self._examples(instruction, task_id)
        ]
        return self._fill(instruction, vocab, examples, remembered)

    def _fill(
        self,
        instruction: str,
        vocab: Vocabulary,
        examples: Sequence[tuple[str, Any]],
        remembered: str,
    ) -> str:
        """The prompt template filled: the types the words name (all, up to 40, where they
        name none), the (instruction, answer) examples, what memory holds."""
        said = _words(instruction)
        types = [t for t in vocab.objects if _type_words(t) & said]
        places = [t for t in vocab.receptacles if _type_words(t) & said and t not in types]
        shown = "".join(
            f"Instruction: {text}\nGoal: {json.dumps(answer, separators=(',', ':'))}\n\n"
            for text, answer in examples
        )
        return self.template.format(
            types=_type_list(types + places or list(vocab.objects[:40])),
            examples=shown,
            memory=remembered,
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
    ) -> tuple[list[dict[str, Any]] | None, str]:
        """The clause's subgoal (its predicates), checked, or None and why not."""
        answer, reason = _parsed(text, schema)
        if answer is None:
            return None, reason
        subgoal = answer if isinstance(answer, list) else [answer]  # the schema's shape
        task, reason = self._as_task([subgoal], scene, clause, task_id)
        return (subgoal, "") if task is not None else (None, reason)

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
        self, text: str, scene: str, instruction: str, schema: dict[str, Any], task_id: str
    ) -> tuple[Task | None, str]:
        answer, reason = _parsed(text, schema)
        if answer is None:
            return None, reason
        return self._as_task(answer["subgoals"], scene, instruction, task_id)

    def _impossible(self, pred: Predicate) -> str:
        """Why AI2-THOR could not make the predicate true, or ""."""
        aff = self.aff
        t = pred.object_types[0]
        whole = made_from(t)
        if pred.held and not aff.pickupable(t):
            return f"a {t} cannot be held"
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
