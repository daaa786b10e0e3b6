"""The playground's web server: a Starlette app on uvicorn.

HTTP endpoints change a session (setup, points, weights, uploads) and answer with clear 4xx
errors when a request is malformed or over a limit; a WebSocket per session carries the
play/pause/step commands in and the frames out. Each session belongs to the tab that created it:
its id is a random 144-bit token and the session ends when that tab's socket closes.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import logging
import re
import socket
import sys
import time
import webbrowser
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket, WebSocketDisconnect

from .._checks import show
from ..errors import ChainruleError, ConfigError, InputError, TrainingDivergedError
from . import config as c
from .codegen import python_script
from .config import MAX_STEP_EPOCHS, Config
from .session import DEFAULT_MAX_RATE, Session
from .wire import parse_json

log = logging.getLogger("chainrule.playground")
STATIC = Path(__file__).parent / "static"
MAX_BODY = 256 * 1024  # bytes per request (a 2,000-point CSV is about 60 kB)
MAX_JSON = 16 * 1024  # bytes per JSON request (the page's largest, a setup, is under 1 kB)
MAX_MESSAGE = 4096  # characters per WebSocket command
SOCKET_WAIT = 5.0  # seconds a new session's slot is kept for its socket when the server is full
MAX_MESSAGES_PER_S = 200  # commands per second per socket before it is closed
SLICE = 1 / 90  # seconds of training between frames while playing
MAX_INFLIGHT = 3  # frames sent but not yet drawn: enough to hide the page's round trip
LOCAL_HOSTS = ["127.0.0.1", "localhost", "::1", "[::1]"]
DEFAULT_PORTS = {"http": 80, "https": 443}
SECURITY_HEADERS = {
    "content-security-policy": (
        "default-src 'self'; img-src 'self' data: blob:; connect-src 'self'; "
        "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
    ),
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
}


@dataclass
class Settings:
    """Server limits. ``allowed_hosts``: the Host header values accepted (others get 400)."""

    allowed_hosts: list[str] = field(default_factory=lambda: list(LOCAL_HOSTS))
    max_sessions: int = 32
    max_rate: int = DEFAULT_MAX_RATE  # epochs per second per session
    idle_timeout: float = 120.0  # seconds a session without a socket is kept
    socket_wait: float = SOCKET_WAIT  # ... or, when the server is full, this many


class HttpError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class Handle:
    """A session and what the server keeps alongside it."""

    session: Session
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    socket: WebSocket | None = None
    seen: float = field(default_factory=time.monotonic)
    state_dirty: bool = True
    frame_dirty: bool = True
    closed: bool = False

    def changed(self, state: bool = True) -> None:
        """Ask the socket loop to send a new frame (and the state, if it changed)."""
        self.state_dirty = self.state_dirty or state
        self.frame_dirty = True
        self.wake.set()


class Registry:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.handles: dict[str, Handle] = {}

    def make_room(self) -> None:
        """Refuse with 429 unless one more session fits (sessions without a socket may go)."""
        if len(self.handles) >= self.settings.max_sessions:
            # A tab whose socket never came (closed at once, blocked, a script) keeps no slot
            # from a tab that is opening now.
            self.reap(self.settings.socket_wait)
        if len(self.handles) >= self.settings.max_sessions:
            raise HttpError(
                429,
                f"the server already runs {self.settings.max_sessions} sessions, its limit; "
                "close another playground tab and reload",
            )

    def add(self, session: Session) -> Handle:
        """Register a new session (429 if the server filled up meanwhile)."""
        self.make_room()  # again: others may have been added while this one was built
        handle = Handle(session)
        self.handles[session.id] = handle
        return handle

    def get(self, sid: str) -> Handle:
        handle = self.handles.get(sid)
        if handle is None:
            raise HttpError(404, "no such session (it ended when its tab closed); reload the page")
        handle.seen = time.monotonic()
        return handle

    def remove(self, sid: str) -> None:
        handle = self.handles.pop(sid, None)
        if handle is not None:
            handle.closed = True
            handle.wake.set()

    def reap(self, idle: float) -> None:
        """Drop sessions that have no socket and were not used for ``idle`` seconds."""
        now = time.monotonic()
        for sid, handle in list(self.handles.items()):
            if handle.socket is None and now - handle.seen > idle:
                self.remove(sid)


# ---------------------------------------------------------------------- HTTP helpers
async def read_body(request: Request, limit: int = MAX_BODY) -> bytes:
    """The request body, refusing more than ``limit`` bytes with 413."""
    declared = request.headers.get("content-length")
    # Length first: int() of a header of thousands of digits raises (uvicorn refuses those
    # anyway, other servers may not).
    if (
        declared is not None
        and declared.isdigit()
        and (len(declared) > 18 or int(declared) > limit)
    ):
        raise HttpError(413, f"the request body has {declared} bytes; the limit is {limit}")
    chunks, size = [], 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise HttpError(413, f"the request body is over the limit of {limit} bytes")
            chunks.append(chunk)
    except ClientDisconnect:  # the client went away: nobody reads the answer, nothing to log
        raise HttpError(400, "the client closed the connection before sending the body") from None
    return b"".join(chunks)


async def read_json(request: Request) -> dict:
    """The body as a JSON object, size- and depth-limited before parsing (400, 413, 415, 422)."""
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != "application/json":
        raise HttpError(415, "send the body as JSON with Content-Type: application/json")
    body = await read_body(request, MAX_JSON)
    try:
        data = parse_json(body or b"{}")
    except InputError as exc:
        raise HttpError(400, str(exc)) from None
    if not isinstance(data, dict):
        raise HttpError(422, "the request body must be a JSON object of field: value")
    return data


def _field(data: dict, key: str) -> object:
    if key not in data:
        raise InputError(f"the request has no {key!r}; send it as a number")
    return data[key]


def _number(data: dict, key: str) -> float:
    value = _field(data, key)
    # A range test, not math.isfinite: that raises OverflowError for a huge int.
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not (-sys.float_info.max <= value <= sys.float_info.max)
    ):
        raise InputError(f"{key}={show(value)} must be a finite number")
    return float(value)


def _index(data: dict, key: str) -> int:
    value = _field(data, key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise InputError(f"{key}={show(value)} must be a whole number")
    return value


def _path_index(text: str) -> int:
    """A point index from the URL path (starlette's int convertor fails on 5,000 digits)."""
    if not re.fullmatch(r"[0-9]{1,9}", text):
        raise InputError(f"point index {show(text)} in the path must be a whole number from 0")
    return int(text)


def same_origin(origin: str, scheme: str, host: str | None) -> bool:
    """Whether a socket's Origin is this server's page: same scheme, host and port."""
    if host is None:
        return False
    page = "https" if scheme == "wss" else "http"
    try:
        theirs, ours = urlsplit(origin), urlsplit(f"//{host}")
        their_port = theirs.port or DEFAULT_PORTS.get(theirs.scheme)
        our_port = ours.port or DEFAULT_PORTS[page]
    except ValueError:  # a port out of range, a malformed IPv6 address
        return False
    return (theirs.scheme, theirs.hostname, their_port) == (page, ours.hostname, our_port)


def json_response(data: object, status: int = 200) -> JSONResponse:
    return JSONResponse(data, status_code=status)


def endpoint(func: Callable[..., Awaitable[Response]]) -> Callable[[Request], Awaitable[Response]]:
    """Turn library and HTTP errors into JSON 4xx answers: ``{"error": message}``."""

    async def wrapper(request: Request) -> Response:
        try:
            return await func(request)
        except HttpError as exc:
            return json_response({"error": str(exc)}, exc.status)
        except (ConfigError, InputError) as exc:
            return json_response({"error": str(exc)}, 422)
        except ChainruleError as exc:
            return json_response({"error": str(exc)}, 409)

    return wrapper


async def http_error(request: Request, exc: HTTPException) -> Response:
    """Starlette's own refusals (404, 405) as JSON, like the endpoints' errors."""
    message = f"{exc.detail}: {request.method} {show(request.url.path)}"
    return JSONResponse({"error": message}, exc.status_code, headers=exc.headers)


# ---------------------------------------------------------------------- the app
def create_app(settings: Settings | None = None) -> Starlette:
    """The playground as an ASGI app (serve it with uvicorn; see :func:`serve`)."""
    settings = settings or Settings()
    registry = Registry(settings)

    def handle_of(request: Request) -> Handle:
        return registry.get(request.path_params["sid"])

    async def index(request: Request) -> Response:
        return FileResponse(STATIC / "index.html", headers=SECURITY_HEADERS)

    @endpoint
    async def create_session(request: Request) -> Response:
        config = Config.from_dict(await read_json(request))
        registry.make_room()  # before the work of building a session that may not fit
        session = await asyncio.to_thread(Session, config)
        registry.add(session)
        return json_response({"id": session.id, "limits": limits(settings), **session.state()}, 201)

    @endpoint
    async def session_state(request: Request) -> Response:
        handle = handle_of(request)
        async with handle.lock:
            return json_response(handle.session.state())

    @endpoint
    async def delete_session(request: Request) -> Response:
        handle = handle_of(request)
        registry.remove(handle.session.id)
        if handle.socket is not None:
            with contextlib.suppress(Exception):
                await handle.socket.close(1000)
        return Response(status_code=204)

    async def mutate(request: Request, change: Callable[[Session], object]) -> Response:
        handle = handle_of(request)
        async with handle.lock:
            await asyncio.to_thread(change, handle.session)
            state = handle.session.state()
        handle.changed()
        return json_response(state)

    @endpoint
    async def set_config(request: Request) -> Response:
        data = await read_json(request)
        handle = handle_of(request)
        config = Config.from_dict(data, handle.session.config)
        return await mutate(request, lambda s: s.apply_config(config))

    @endpoint
    async def reset(request: Request) -> Response:
        return await mutate(request, Session.reset)

    @endpoint
    async def regenerate(request: Request) -> Response:
        return await mutate(request, Session.regenerate)

    @endpoint
    async def add_point(request: Request) -> Response:
        data = await read_json(request)
        x, y, label = _number(data, "x"), _number(data, "y"), _number(data, "label")
        return await mutate(request, lambda s: s.add_point(x, y, label))

    @endpoint
    async def delete_point(request: Request) -> Response:
        index = _path_index(request.path_params["index"])
        return await mutate(request, lambda s: s.delete_point(index))

    @endpoint
    async def upload(request: Request) -> Response:
        kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if kind not in ("text/csv", "text/plain"):
            raise HttpError(415, "upload the CSV with Content-Type: text/csv")
        body = await read_body(request)
        try:
            text = body.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise HttpError(400, "the CSV is not UTF-8 text") from None
        return await mutate(request, lambda s: s.upload(text))

    @endpoint
    async def set_weight(request: Request) -> Response:
        data = await read_json(request)
        layer, row, col = _index(data, "layer"), _index(data, "row"), _index(data, "col")
        value = _number(data, "value")
        handle = handle_of(request)
        async with handle.lock:
            handle.session.set_weight(layer, row, col, value)
        handle.changed(state=True)
        return json_response({"layer": layer, "row": row, "col": col, "value": value})

    @endpoint
    async def trace(request: Request) -> Response:
        data = await read_json(request)
        handle = handle_of(request)
        if not hasattr(handle.session.net, "trace"):
            raise HttpError(
                501, "this chainrule has no Network.trace; update chainrule for the trace panel"
            )
        if "index" in data:
            args = {"index": _index(data, "index")}
        else:
            args = {"xy": (_number(data, "x"), _number(data, "y")), "label": _number(data, "label")}
        async with handle.lock:
            result = await asyncio.to_thread(handle.session.trace, **args)
        return json_response(result)

    @endpoint
    async def step(request: Request) -> Response:
        data = await read_json(request)
        epochs = _index(data, "epochs") if "epochs" in data else 1
        handle = handle_of(request)
        async with handle.lock:
            with contextlib.suppress(TrainingDivergedError):  # recorded in session.error
                await asyncio.to_thread(handle.session.step, epochs)
            epoch, error = handle.session.epoch, handle.session.error
        handle.changed(state=False)
        return json_response({"epoch": epoch, "error": error})

    @endpoint
    async def frame(request: Request) -> Response:
        handle = handle_of(request)
        async with handle.lock:
            data = await asyncio.to_thread(handle.session.frame)
        return Response(data, media_type="application/octet-stream")

    @endpoint
    async def model(request: Request) -> Response:
        handle = handle_of(request)
        async with handle.lock:
            data = await asyncio.to_thread(handle.session.model_file)
        return Response(
            data,
            media_type="application/octet-stream",
            headers={"content-disposition": 'attachment; filename="playground.crnet"'},
        )

    @endpoint
    async def code(request: Request) -> Response:
        handle = handle_of(request)
        async with handle.lock:
            text = python_script(handle.session)
        return Response(
            text,
            media_type="text/x-python; charset=utf-8",
            headers={"content-disposition": 'attachment; filename="playground_network.py"'},
        )

    async def socket_endpoint(websocket: WebSocket) -> None:
        origin = websocket.headers.get("origin")
        host = websocket.headers.get("host")
        if origin is not None and not same_origin(origin, websocket.url.scheme, host):
            await websocket.close(code=1008, reason="cross-origin socket refused")
            return
        handle = registry.handles.get(websocket.path_params["sid"])
        if handle is None or handle.socket is not None:
            await websocket.close(code=1008, reason="no such session, or it has a socket")
            return
        await websocket.accept()
        handle.socket = websocket
        try:
            await Runner(handle, websocket, settings).run()
        finally:
            registry.remove(handle.session.id)  # a closed tab ends its session

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):
        async def reaper() -> None:
            while True:
                await asyncio.sleep(10)
                registry.reap(settings.idle_timeout)

        task = asyncio.create_task(reaper())
        try:
            yield
        finally:
            task.cancel()

    sid = "/api/sessions/{sid:str}"
    routes = [
        Route("/", index),
        Route("/api/sessions", create_session, methods=["POST"]),
        Route(sid, session_state, methods=["GET"]),
        Route(sid, delete_session, methods=["DELETE"]),
        Route(sid + "/config", set_config, methods=["PUT"]),
        Route(sid + "/reset", reset, methods=["POST"]),
        Route(sid + "/regenerate", regenerate, methods=["POST"]),
        Route(sid + "/points", add_point, methods=["POST"]),
        Route(sid + "/points/{index:str}", delete_point, methods=["DELETE"]),
        Route(sid + "/upload", upload, methods=["POST"]),
        Route(sid + "/weights", set_weight, methods=["PUT"]),
        Route(sid + "/trace", trace, methods=["POST"]),
        Route(sid + "/step", step, methods=["POST"]),
        Route(sid + "/frame", frame, methods=["GET"]),
        Route(sid + "/model", model, methods=["GET"]),
        Route(sid + "/code", code, methods=["GET"]),
        WebSocketRoute(sid + "/ws", socket_endpoint),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    middleware = [
        Middleware(TrustedHostMiddleware, allowed_hosts=settings.allowed_hosts),
        Middleware(SecurityHeaders),
    ]
    app = Starlette(
        routes=routes,
        middleware=middleware,
        lifespan=lifespan,
        exception_handlers={HTTPException: http_error},
    )
    app.state.registry = registry
    return app


def limits(settings: Settings) -> dict:
    """The limits the page shows and checks before asking (the server checks them anyway)."""
    return {
        "layers": c.MAX_LAYERS,
        "neurons": c.MAX_NEURONS,
        "classes": c.MAX_CLASSES,
        "samples": c.MAX_SAMPLES,
        "batch": c.MAX_BATCH,
        "lr": c.MAX_LR,
        "speed": min(c.MAX_SPEED, settings.max_rate),
        "body": MAX_BODY,
    }


class SecurityHeaders:
    """Adds the content-security policy and friends to every HTTP answer."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message) -> None:
            if message["type"] == "http.response.start":
                names = {k.lower() for k, _ in message.get("headers", [])}
                extra = [
                    (k.encode(), v.encode())
                    for k, v in SECURITY_HEADERS.items()
                    if k.encode() not in names
                ]
                message["headers"] = list(message.get("headers", [])) + extra
            await send(message)

        await self.app(scope, receive, send_with_headers)


# ---------------------------------------------------------------------- the socket loop
class Runner:
    """Drives one session from its socket: trains while playing, sends frames as acked.

    At most MAX_INFLIGHT frames are in flight: the page acknowledges frames after drawing, so a slow
    page gets fewer frames, never a backlog, and training goes on meanwhile.
    """

    def __init__(self, handle: Handle, ws: WebSocket, settings: Settings) -> None:
        self.handle, self.ws, self.settings = handle, ws, settings
        self.playing = False
        self.steps = 0
        self.inflight = 0
        self.tokens = 0.0
        self.last = time.monotonic()

    async def run(self) -> None:
        receiver = asyncio.create_task(self.receive())
        try:
            while not receiver.done() and not self.handle.closed:
                await self.tick()
            if receiver.done():
                receiver.result()  # what ended the receiver, if it failed, is handled below
        except (WebSocketDisconnect, RuntimeError, OSError):
            pass  # the tab went away mid-send (starlette: RuntimeError once closed)
        except Exception:  # a bug: say so in the server's log and close this tab's socket only
            log.exception("playground session %s failed", self.handle.session.id[:6])
            with contextlib.suppress(Exception):
                await self.ws.close(code=1011, reason="server error; see the server's log")
        finally:
            receiver.cancel()
            with contextlib.suppress(BaseException):
                await receiver

    async def tick(self) -> None:
        handle, session = self.handle, self.handle.session
        handle.wake.clear()
        if handle.state_dirty:
            handle.state_dirty = False
            async with handle.lock:
                state = session.state()
            await self.ws.send_text(json.dumps(state))
        trained = await self.train()
        if trained:
            handle.frame_dirty = True
        if handle.frame_dirty and self.inflight < MAX_INFLIGHT:
            handle.frame_dirty = False
            async with handle.lock:
                data = await asyncio.to_thread(session.frame)
            self.inflight += 1
            await self.ws.send_bytes(data)
            return
        if not (self.playing or self.steps):
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(handle.wake.wait(), timeout=5.0)

    async def train(self) -> int:
        """Run the pending step, or a slice of play; returns the epochs run."""
        handle, session = self.handle, self.handle.session
        if self.steps:
            self.steps -= 1
            async with handle.lock:
                return await self._run(lambda: session.step(1))
        if not self.playing:
            return 0
        rate = min(session.config.speed or self.settings.max_rate, self.settings.max_rate)
        now = time.monotonic()
        self.tokens = min(self.tokens + (now - self.last) * rate, max(1.0, rate * SLICE * 2))
        self.last = now
        if self.tokens < 1:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(handle.wake.wait(), timeout=(1 - self.tokens) / rate)
            return 0
        async with handle.lock:
            if session.stop_reached():
                self.playing = False
                await self.ws.send_text(json.dumps({"type": "stopped", "epoch": session.epoch}))
                return 0
            done = await self._run(lambda: session.train(SLICE, int(self.tokens)))
        self.tokens -= done
        return done

    async def _run(self, work: Callable[[], int]) -> int:
        before = self.handle.session.epoch
        try:
            return await asyncio.to_thread(work)
        except TrainingDivergedError as exc:
            self.playing = False
            await self.ws.send_text(json.dumps({"type": "diverged", "error": str(exc)}))
            return self.handle.session.epoch - before

    async def receive(self) -> None:
        """Carry out the page's commands; a malformed one gets an error reply, not the end."""
        window, count = time.monotonic(), 0
        while True:
            message = await self.ws.receive()
            if message["type"] == "websocket.disconnect":
                self.handle.wake.set()
                return
            now = time.monotonic()
            if now - window > 1.0:
                window, count = now, 0
            count += 1
            if count > MAX_MESSAGES_PER_S:
                await self.ws.close(code=1008, reason="too many messages per second")
                return
            try:
                self.command(parse_command(message))
            except ChainruleError as exc:
                await self.ws.send_text(json.dumps({"type": "error", "error": str(exc)}))
            self.handle.wake.set()

    def command(self, command: dict) -> None:
        kind = command["type"]
        view = self.handle.session.view
        if kind == "ack":  # the page drew the frames it got: n of them
            n = command.get("n", 1)
            if isinstance(n, bool) or not isinstance(n, int) or n < 1:
                raise InputError(f"ack n={show(n)} must be a positive whole number")
            self.inflight = max(0, self.inflight - n)
        elif kind == "play":
            self.playing = True
            self.last = time.monotonic()
            self.tokens = 0.0
        elif kind == "pause":
            self.playing = False
        elif kind == "step":
            self.steps = min(self.steps + 1, MAX_STEP_EPOCHS)
        elif kind == "view":
            hover, warp = _ints(command, "hover", 2), _ints(command, "warp", 3)
            view.hover, view.warp = hover, warp  # both or neither: a refused view changes nothing
            self.handle.frame_dirty = True
        else:
            raise InputError(
                f"unknown command type {show(kind)}; send one of: ack, play, pause, step, view"
            )


def parse_command(message: dict) -> dict:
    """A socket message as a command object ``{"type": ..., ...}``, or InputError saying why not."""
    text = message.get("text")
    if text is None:
        raise InputError("commands are JSON text messages; this one was binary")
    if len(text) > MAX_MESSAGE:
        raise InputError(
            f"the command has {len(text)} characters; commands have at most {MAX_MESSAGE}"
        )
    command = parse_json(text, "the command")
    if not isinstance(command, dict) or not isinstance(command.get("type"), str):
        raise InputError('a command is a JSON object with a "type", such as {"type": "play"}')
    return command


def _ints(command: dict, key: str, n: int) -> tuple[int, ...] | None:
    value = command.get(key)
    if value is None:
        return None
    if (
        not isinstance(value, list)
        or len(value) != n
        or not all(isinstance(v, int) and not isinstance(v, bool) and 0 <= v < 1000 for v in value)
    ):
        raise InputError(
            f"view {key}={show(value)} must be null or a list of {n} whole numbers from 0 to 999"
        )
    return tuple(value)


# ---------------------------------------------------------------------- serving
class ClientTextNotUtf8(logging.Filter):
    """One warning line, not a traceback, when a socket's text frame is not UTF-8.

    uvicorn closes such a socket with 1007 (what RFC 6455 asks) and logs the UnicodeDecodeError
    with its traceback; the fault is the client's, so the server's log needs one line.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        # Matched on the message too, so that an app bug's UnicodeDecodeError keeps its trace.
        if isinstance(exc, UnicodeDecodeError) and "UTF-8" in record.getMessage():
            record.msg, record.args = "a WebSocket client sent text that is not UTF-8: closed", ()
            record.exc_info = record.exc_text = None
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


def allowed_hosts_for(host: str) -> list[str]:
    """Host header values to accept when bound to ``host``."""
    hosts = list(LOCAL_HOSTS)
    with contextlib.suppress(ValueError):
        if ipaddress.ip_address(host).is_unspecified:  # 0.0.0.0 / ::: this machine's names
            name = socket.gethostname()
            hosts += [name, socket.getfqdn()]
            with contextlib.suppress(OSError):
                hosts += [info[4][0] for info in socket.getaddrinfo(name, None)]
    if host not in hosts:
        hosts.append(host)
    return sorted({h.lower() for h in hosts})


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on (host, port), or a ConfigError that says what to do."""
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
        raise ConfigError(f"port={port!r} must be a whole number from 0 to 65535")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror:
        raise ConfigError(f"host={host!r} is not an address or name of this machine") from None
    family, _, _, _, address = infos[0]
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError as exc:
        sock.close()
        raise ConfigError(
            f"cannot listen on {host}:{port} ({exc.strerror}); pass another --port "
            "(0 picks a free one)"
        ) from None
    sock.listen(128)
    sock.setblocking(False)
    return sock


def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    *,
    open_browser: bool = True,
    settings: Settings | None = None,
    on_ready: Callable[[str], None] | None = None,
) -> None:
    """Serve the playground until interrupted. Binds 127.0.0.1 unless ``host`` says otherwise."""
    import uvicorn
    from threadpoolctl import threadpool_limits

    # One BLAS thread: the playground's matrices are small, sessions already run side by side,
    # and the browser drawing the page needs the other cores. With OpenBLAS's default pool the
    # threads spin against the browser and a frame takes three times as long.
    threadpool_limits(1, user_api="blas")
    sock = bind(host, port)
    bound_port = sock.getsockname()[1]
    settings = settings or Settings(allowed_hosts=allowed_hosts_for(host))
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    url = f"http://{'[' + shown + ']' if ':' in shown else shown}:{bound_port}/"
    config = uvicorn.Config(
        create_app(settings),
        log_level="warning",
        ws_max_size=64 * 1024,  # page commands are tiny; frames only go out
        ws_per_message_deflate=False,  # compressing frames costs more than it saves locally
        timeout_graceful_shutdown=2,
    )
    logging.getLogger("uvicorn.error").addFilter(ClientTextNotUtf8())
    server = uvicorn.Server(config)
    ready = on_ready or print

    async def main() -> None:
        task = asyncio.create_task(server.serve(sockets=[sock]))
        while not server.started and not task.done():
            await asyncio.sleep(0.05)
        if server.started:
            ready(f"chainrule playground: {url}  (Ctrl-C stops it)")
            if open_browser:
                webbrowser.open(url)
        await task

    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
    finally:
        sock.close()
