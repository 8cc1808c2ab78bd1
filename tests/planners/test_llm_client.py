"""The LLM client against a real HTTP server on 127.0.0.1: the timeout bounds the whole
call, and every malformed reply is an invalid answer, never an exception."""

from __future__ import annotations

import time

import pytest

from planners.llm_client import LLMClient, LLMConfig, LLMError, parse_chat_reply
from tests.planners.chat_server import ChatServer

_OK = b'{"choices": [{"message": {"content": "hi"}}], "usage": {"total_tokens": 7}}'


def _client(server: ChatServer, timeout_s: float = 1.0) -> LLMClient:
    return LLMClient(LLMConfig(base_url=server.base_url, model="m", timeout_s=timeout_s))


def test_a_trickling_server_is_cut_off_at_the_timeout() -> None:
    # One byte every 0.5 s: a reply of ~300 bytes would take minutes; each read returns
    # well inside the per-read timeout, so only a deadline on the whole call ends it.
    with (
        ChatServer([("trickle", 0.5), ("json", {"ok": 1})], lambda _p: {}) as server,
        _client(server, timeout_s=2.0) as client,
    ):
        t0 = time.monotonic()
        assert client.chat([{"role": "user", "content": "x"}]) is None
        elapsed = time.monotonic() - t0
        assert client.timeouts == 1
        # The next call on the same client works.
        reply = client.chat([{"role": "user", "content": "x"}])
    assert reply is not None and reply.text == '{"ok": 1}'
    assert elapsed < 10.0, f"the call ran {elapsed:.1f} s with timeout_s=2"


MALFORMED = [
    b"<html><body>502 Bad Gateway</body></html>",
    b"[1, 2, 3]",
    b'"just a string"',
    b"null",
    b'{"choices": "abc"}',
    b'{"choices": []}',
    b'{"choices": [{"message": null}]}',
    b'{"choices": [null]}',
    b'{"choices": [{"message": {"content": {"skill": "pickup"}}}]}',
    b'{"choices": [{"message": {"content": 42}}]}',
    b'{"choices": [{"message": {"content": ["a"]}}]}',
    b"[" * 100_000 + b"]" * 100_000,
    b'{"choices": [{"message": {"content": "x"}}], "usage": {"total_tokens": Infinity}}',
    b'{"choices": [{"message": {"content": "x"}}], "usage": {"total_tokens": 1e400}}',
    b'{"choices": [{"message": {"content": "' + b"[" * 100_000 + b'"}}]}',
]


@pytest.mark.parametrize("body", MALFORMED, ids=range(len(MALFORMED)))
def test_malformed_replies_are_invalid_answers(body: bytes) -> None:
    reply = parse_chat_reply(body)
    if reply is not None:  # well-formed envelope around text that is not an answer
        assert isinstance(reply.text, str) and reply.tokens == 0
    with ChatServer([("raw", body)], lambda _p: {}) as server, _client(server) as client:
        got = client.chat([{"role": "user", "content": "x"}])
    assert got == reply


@pytest.mark.parametrize(
    "usage", [b'"abc"', b'{"total_tokens": "abc"}', b'{"total_tokens": [1]}',
              b'{"total_tokens": -5}', b'{"total_tokens": true}', b'{"total_tokens": 1e30}']
)  # fmt: skip
def test_unusable_token_counts_count_zero(usage: bytes) -> None:
    body = b'{"choices": [{"message": {"content": "hi"}}], "usage": ' + usage + b"}"
    reply = parse_chat_reply(body)
    assert reply is not None and reply.text == "hi" and reply.tokens == 0


def test_a_good_reply_counts_tokens() -> None:
    with ChatServer([("raw", _OK)], lambda _p: {}) as server, _client(server) as client:
        reply = client.chat([{"role": "user", "content": "x"}])
        assert reply is not None and reply.text == "hi"
        assert (client.calls, client.tokens) == (1, 7)


def test_bad_configuration_is_refused() -> None:
    with pytest.raises(LLMError, match="timeout_s"):
        LLMConfig(base_url="http://127.0.0.1:1/v1", model="m", timeout_s=float("inf"))
    with pytest.raises(LLMError, match="no LLM endpoint"):
        LLMClient(LLMConfig())
