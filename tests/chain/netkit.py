"""Small real network peers for failover tests: a TCP proxy that can be stopped or made to hang, and
a JSON-RPC HTTP front that forwards to Anvil but can refuse methods or answer garbage."""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

import httpx


class TcpProxy:
    """Forwards 127.0.0.1:<port> to a target port. ``stop()`` closes it and every open connection;
    ``hang = True`` makes it accept requests and never answer (timeouts)."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = 0
        self.hang = False
        self.bytes_up = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> TcpProxy:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, up: bool) -> None:
        with contextlib.suppress(OSError, asyncio.CancelledError):
            while data := await reader.read(65536):
                if up:
                    self.bytes_up += len(data)
                    if self.hang:
                        continue
                writer.write(data)
                await writer.drain()
        with contextlib.suppress(OSError, RuntimeError):
            writer.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.close()
            return
        self._writers |= {writer, up_writer}
        await asyncio.gather(self._pipe(reader, up_writer, True), self._pipe(up_reader, writer, False))
        self._writers -= {writer, up_writer}

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            for w in list(self._writers):
                with contextlib.suppress(OSError, RuntimeError):
                    w.close()
            await self._server.wait_closed()
            self._server = None


class RpcFront:
    """A minimal HTTP/1.1 JSON-RPC server in front of Anvil. ``refuse`` lists methods answered with
    -32601 (method not found); ``mode`` "garbage" answers non-JSON, "http500" answers HTTP 500."""

    def __init__(
        self, target_url: str, *, refuse: frozenset[str] = frozenset(), mode: str = "forward"
    ) -> None:
        self.target_url = target_url
        self.refuse = refuse
        self.mode = mode
        self.port = 0
        self.methods: list[str] = []
        self._server: asyncio.Server | None = None
        self._client = httpx.AsyncClient(timeout=30)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> RpcFront:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        await self._client.aclose()

    async def _answer(self, body: bytes) -> tuple[int, bytes]:
        if self.mode == "http500":
            return 500, b"internal error"
        if self.mode == "garbage":
            return 200, b"<html>not json</html>"
        request: Any = json.loads(body)
        items = request if isinstance(request, list) else [request]
        self.methods += [i["method"] for i in items]
        refused = [i for i in items if i["method"] in self.refuse]
        passed = [i for i in items if i["method"] not in self.refuse]
        answers = []
        if passed:
            answers = (await self._client.post(self.target_url, json=passed)).json()
        answers += [
            {"jsonrpc": "2.0", "id": i["id"], "error": {"code": -32601, "message": "Method not found"}}
            for i in refused
        ]
        return 200, json.dumps(answers if isinstance(request, list) else answers[0]).encode()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, asyncio.IncompleteReadError, ConnectionError):
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                if not head.startswith(b"POST"):  # e.g. a websocket upgrade: this front is HTTP only
                    writer.write(b"HTTP/1.1 400 X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                    await writer.drain()
                    break
                length = 0
                for line in head.decode().split("\r\n"):
                    if line.lower().startswith("content-length:"):
                        length = int(line.split(":", 1)[1])
                status, payload = await self._answer(await reader.readexactly(length))
                writer.write(
                    f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\n"
                    f"Content-Length: {len(payload)}\r\n\r\n".encode()
                    + payload
                )
                await writer.drain()
        writer.close()
