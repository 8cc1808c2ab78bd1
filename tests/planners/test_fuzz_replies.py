"""Property-based fuzzing of what an LLM server may send back (Hypothesis; bounded, in
`make test`): the chat envelope and the answers inside it are a value or an invalid
answer, never an exception — random bytes, random JSON, and JSON nested deep enough to
exhaust a recursive validator."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planners.instruct import _parsed
from planners.llm import answer_schema
from planners.llm_client import parse_chat_reply

FUZZ = settings(
    max_examples=300, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)

json_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.floats(allow_nan=False, allow_infinity=False),
        st.integers(),
        st.text(max_size=20),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=25,
)
envelope_keys = st.sampled_from(["choices", "message", "content", "usage", "total_tokens"])
envelopes = st.recursive(
    json_values,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(envelope_keys, inner, max_size=3)
    ),
    max_leaves=25,
)


@FUZZ
@given(st.one_of(st.binary(max_size=200), envelopes.map(lambda v: json.dumps(v).encode())))
def test_any_reply_body_is_a_reply_or_none(body: bytes) -> None:
    reply = parse_chat_reply(body)
    if reply is not None:
        assert isinstance(reply.text, str) and isinstance(reply.tokens, int) and reply.tokens >= 0


def _deep(n: int) -> str:
    return "[" * n + "]" * n


SCHEMA = answer_schema(["Apple|1", "Fridge|2"])


@FUZZ
@given(
    st.one_of(st.text(max_size=200), json_values.map(json.dumps), st.integers(1, 3000).map(_deep))
)
def test_any_answer_text_is_an_answer_or_refused(text: str) -> None:
    answer, why = _parsed(text, SCHEMA)
    assert (answer is None) == bool(why)


def test_an_answer_nested_past_the_validators_recursion_is_refused() -> None:
    deep: Any = _deep(2500)
    answer, why = _parsed(deep, SCHEMA)
    assert answer is None and why
