"""A real HTTP server on 127.0.0.1 that speaks the chat-completions protocol.

It answers from a scripted policy: a list of behaviours consumed one per request
(then the policy function for every later request). Behaviours: ("json", dict),
("text", str), ("status", code), ("sleep", seconds), ("raw", bytes: the whole response
body, sent as it is), ("trickle", seconds: a valid reply sent one byte per that many
seconds, as a server that hangs mid-answer does).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Behaviour = tuple[str, Any]


class ChatServer:
    def __init__(self, script: list[Behaviour], policy: Callable[[str], dict[str, Any]]) -> None:
        self.script = list(script)
        self.policy = policy
        self.requests: list[dict[str, Any]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                server.requests.append(body)
                prompt = body["messages"][-1]["content"]
                kind, value = server.script.pop(0) if server.script else ("json", None)
                if kind == "status":
                    self.send_response(value)
                    self.end_headers()
                    self.wfile.write(b'{"error": {"message": "scripted failure"}}')
                    return
                if kind == "raw":
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(value)))
                    self.end_headers()
                    self.wfile.write(value)
                    return
                trickle = 0.0
                if kind == "trickle":
                    trickle, kind, value = value, "json", None
                if kind == "sleep":
                    time.sleep(value)
                    kind, value = "json", None
                if kind == "json":
                    content = json.dumps(value if value is not None else server.policy(prompt))
                else:
                    content = value
                reply = {
                    "id": "x",
                    "object": "chat.completion",
                    "created": 0,
                    "model": body["model"],
                    "choices": [
                        {
                            "index": 0,
                            "finish_reason": "stop",
                            "message": {"role": "assistant", "content": content},
                        }
                    ],
                    "usage": {
                        "prompt_tokens": len(prompt) // 4,
                        "completion_tokens": 10,
                        "total_tokens": len(prompt) // 4 + 10,
                    },
                }
                data = json.dumps(reply).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if not trickle:
                    self.wfile.write(data)
                    return
                try:
                    for i in range(len(data)):
                        self.wfile.write(data[i : i + 1])
                        self.wfile.flush()
                        if server.closing.wait(trickle):
                            return
                except OSError:
                    return  # the client gave up and closed the connection

        self.closing = threading.Event()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def __enter__(self) -> ChatServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.closing.set()
        self.httpd.shutdown()
        self.httpd.server_close()
