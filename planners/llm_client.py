"""One chat call to an OpenAI-compatible server, bounded in time and in what it accepts.

Shared by every planner that asks an LLM. Two guarantees the plain client does not give:

- ``timeout_s`` bounds the *whole* call. The HTTP client's timeout is per read, so a server
  that trickles one byte every few seconds kept a call open for minutes; here the call runs
  on the client's own event loop under :func:`asyncio.wait_for` and is cancelled (its
  connection closed) at the deadline.
- The reply is parsed from the raw body by this module, defensively: HTML, a bare list,
  ``choices`` of the wrong type, ``message: null``, content that is not a string, deeply
  nested JSON or a non-numeric token count is an invalid answer (``None``), never an
  exception from deep inside a client library.

Connection failures on the first call raise :class:`LLMError` (nothing is listening);
later failures count as invalid answers, so a flaky server ends an episode through the
planner's ``max_invalid`` bound instead of a traceback.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from memory_core import LociError

__all__ = ["ChatReply", "LLMClient", "LLMConfig", "LLMError", "parse_chat_reply"]

log = logging.getLogger(__name__)


class LLMError(LociError):
    """The LLM endpoint cannot be used (unreachable, misconfigured)."""


@dataclass(frozen=True, slots=True)
class LLMConfig:
    base_url: str = ""
    model: str = ""
    api_key: str = "none"
    timeout_s: float = 30.0
    """Upper bound on one whole call, connection to last byte."""
    max_steps: int = 40
    max_invalid: int = 6
    """Invalid answers (bad JSON, unknown ids, refusals, errors) before the episode ends."""
    max_tokens: int = 48
    constrain: bool = True
    context_budget_tokens: int = 300
    max_targets: int = 30
    max_repeats: int = 2
    """A skill that failed this many times on one target is not executed again: the
    answer is refused (a loop guard: a model once made the same failing call 40 times)."""

    def __post_init__(self) -> None:
        if not 0 < self.timeout_s < float("inf"):
            raise LLMError(f"LLM timeout_s must be a positive number, got {self.timeout_s}")
        if min(self.max_steps, self.max_invalid, self.max_tokens, self.max_repeats) < 1:
            raise LLMError("LLM max_steps, max_invalid, max_tokens and max_repeats must be >= 1")

    @classmethod
    def from_env(cls, **overrides: Any) -> LLMConfig:
        values: dict[str, Any] = {
            "base_url": os.environ.get("LOCI_LLM_BASE_URL", ""),
            "model": os.environ.get("LOCI_LLM_MODEL", ""),
            "api_key": os.environ.get("LOCI_LLM_API_KEY", "none"),
        }
        values.update(overrides)
        return cls(**values)


@dataclass(frozen=True, slots=True)
class ChatReply:
    text: str
    """The first choice's message content (may be empty)."""
    tokens: int
    """``usage.total_tokens`` when the server reported a usable number, else 0."""


def parse_chat_reply(body: bytes | str) -> ChatReply | None:
    """The content and token count of a chat-completions response body; ``None`` when the
    body is not a chat completion of the expected shape."""
    try:
        data = orjson.loads(body)  # orjson refuses nesting deeper than 1024: no RecursionError
    except orjson.JSONDecodeError:
        return None
    if not isinstance(data, Mapping):
        return None
    choices = data.get("choices")
    if not isinstance(choices, Sequence) or isinstance(choices, str) or not choices:
        return None
    first = choices[0]
    message = first.get("message") if isinstance(first, Mapping) else None
    content = message.get("content") if isinstance(message, Mapping) else None
    if content is None and isinstance(message, Mapping):
        content = ""
    if not isinstance(content, str):
        return None
    usage = data.get("usage")
    total = usage.get("total_tokens") if isinstance(usage, Mapping) else None
    tokens = total if type(total) is int and 0 <= total < 1 << 40 else 0
    return ChatReply(content, tokens)


class LLMClient:
    """A chat-completions client for one endpoint; counts calls and tokens."""

    def __init__(self, config: LLMConfig) -> None:
        if not config.base_url or not config.model:
            raise LLMError("no LLM endpoint configured: set LOCI_LLM_BASE_URL and LOCI_LLM_MODEL")
        try:
            from openai import AsyncOpenAI
        except ImportError as exc:
            raise LLMError("the openai client is not installed (pip install -e .)") from exc
        self.config = config
        self._loop = asyncio.new_event_loop()
        self._client = AsyncOpenAI(
            base_url=config.base_url,
            api_key=config.api_key,
            timeout=config.timeout_s,
            max_retries=0,
        )
        self.calls = 0
        self.tokens = 0
        self.timeouts = 0

    def close(self) -> None:
        if not self._loop.is_closed():
            self._loop.run_until_complete(self._client.close())
            self._loop.close()

    def __enter__(self) -> LLMClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            if not self._loop.is_closed():
                self._loop.close()
        except Exception:
            pass

    def chat(
        self,
        messages: list[dict[str, str]],
        max_tokens: int | None = None,
        schema: Mapping[str, Any] | None = None,
    ) -> ChatReply | None:
        """One call; ``None`` for an invalid or failed answer. With ``schema`` the server is
        asked to decode JSON under it (llama.cpp's ``json_object`` + ``schema``)."""
        if self._loop.is_closed():
            raise LLMError("this LLM client is closed")
        kwargs: dict[str, Any] = {}
        if schema is not None:
            kwargs["response_format"] = {"type": "json_object", "schema": dict(schema)}
        self.calls += 1
        create = self._client.chat.completions.with_raw_response.create
        call = create(
            model=self.config.model,
            messages=messages,  # type: ignore[arg-type]
            max_tokens=max_tokens or self.config.max_tokens,
            temperature=0.0,
            **kwargs,
        )
        try:
            raw = self._loop.run_until_complete(asyncio.wait_for(call, self.config.timeout_s))
            body = raw.content
        except TimeoutError:
            self.timeouts += 1
            log.warning("LLM call exceeded %.1f s and was cancelled", self.config.timeout_s)
            return None
        except Exception as exc:
            log.warning("LLM call failed: %s", exc)
            if type(exc).__name__ == "APIConnectionError" and self.calls == 1:
                raise LLMError(f"LLM endpoint {self.config.base_url} unreachable: {exc}") from exc
            return None
        reply = parse_chat_reply(body)
        if reply is None:
            log.info("LLM reply is not a chat completion: %r", bytes(body[:120]))
            return None
        self.tokens += reply.tokens
        return reply
