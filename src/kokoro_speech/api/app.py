"""The ASGI app factory: wiring, middleware, engine loading, and the one place errors become HTTP."""

from __future__ import annotations

import asyncio
import logging
import threading
from contextlib import asynccontextmanager

import swagger_ui_bundle
from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from kokoro_speech import __version__
from kokoro_speech.api import captions, dev, downloads as download_routes
from kokoro_speech.api import jobs as job_routes
from kokoro_speech.api.auth import KeyChecker
from kokoro_speech.api.kept import Downloads
from kokoro_speech.api.limits import KeyLimits
from kokoro_speech.api.metrics import Metrics, MetricsMiddleware
from kokoro_speech.api.policy import PUBLIC, declared, policy, undeclared
from kokoro_speech.api.middleware import BodyLimit, ResponseHeaders, SendTimeout
from kokoro_speech.api.routes import router, v1
from kokoro_speech.api.schemas import error_body, error_response, validation_error_body
from kokoro_speech.api.state import ServerState, route_guard
from kokoro_speech.api.websocket import router as websocket_router
from kokoro_speech.api.wyoming import start as start_wyoming
from kokoro_speech.config import Settings
from kokoro_speech.errors import ApiError
from kokoro_speech.model.voices import VoiceRegistry
from kokoro_speech.pipeline.engine import Engine

log = logging.getLogger(__name__)

UPLOAD_OVERHEAD = 64 << 10  # a multipart body's boundaries and form fields, beside the book itself
_HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 413: "request_too_large"}


def _api_error(_: Request, exc: ApiError) -> JSONResponse:
    return error_response(exc)


def _validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
    return JSONResponse(validation_error_body(exc.errors()), 400)


def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    if exc.status_code == 404:
        message = f"Unknown request URL: {request.method} {request.url.path}."
    elif exc.status_code == 405:
        message = f"Method {request.method} is not allowed for {request.url.path}."
    else:
        message = str(exc.detail)
    return JSONResponse(error_body(message, "invalid_request_error", None, _HTTP_CODES.get(exc.status_code)),
                        exc.status_code, headers=getattr(exc, "headers", None))


def _server_error(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return JSONResponse(error_body("The server had an error while processing your request.", "server_error",
                                   code="internal_error"), 500)


def create_app(settings: Settings, engine: Engine | None = None, voices: VoiceRegistry | None = None) -> FastAPI:
    """The app; with no `engine` given it loads one in the background (/health says 503 until it is warm),
    from `voices` when the caller has loaded them already."""
    origins = [o.strip() for o in settings.cors_origins.split(",") if o.strip()]
    limits = KeyLimits(concurrent=settings.max_requests_per_key, per_minute=settings.requests_per_minute_per_key)
    downloads = Downloads(settings.downloads_folder(), max_age_seconds=settings.download_ttl_seconds,
                          max_bytes=settings.downloads_max_bytes)
    state = ServerState(keys=KeyChecker(settings.keys()), metrics=Metrics(lambda: state.engine), limits=limits,
                        downloads=downloads, engine=engine, cors_origins=tuple(origins))
    state.jobs = job_routes.runner_for(settings, lambda: state.engine)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        loader = None
        if state.engine is None:
            def load() -> None:
                try:
                    state.engine = Engine.load(settings, voices=voices)
                    log.info("model loaded and warm")
                except Exception as exc:  # reported by /health; the process stays up to say why
                    log.exception("the engine failed to load")
                    state.load_error = str(exc)

            loader = threading.Thread(target=load, name="engine-loader", daemon=True)
            loader.start()
        # Wyoming (Home Assistant) in this process and loop: the same engine, limits and metrics
        wyoming = await start_wyoming(settings, state) if settings.wyoming_port is not None else None
        jobs = job_routes.start(state, settings)  # book jobs read on the same engine, behind people
        yield
        if jobs is not None:
            await jobs.close()
        if wyoming is not None:
            await wyoming.stop()
        if loader is not None:
            await asyncio.to_thread(loader.join)
        if state.engine is not None and engine is None:
            state.engine.close()

    app = FastAPI(title="kokoro-speech", version=__version__, lifespan=lifespan, docs_url=None, redoc_url=None,
                  description="OpenAI-compatible text-to-speech with Kokoro-82M.", dependencies=[Depends(route_guard)])
    app.state.server = state
    metrics = state.metrics

    @app.get("/metrics", include_in_schema=False)
    @policy(PUBLIC)
    async def metrics_page() -> Response:
        body, content_type = metrics.exposition()
        return Response(body, media_type=content_type)

    # The API docs page, with Swagger UI served from this server: self-hosted means no CDN.
    app.mount("/docs-assets", declared(StaticFiles(directory=swagger_ui_bundle.swagger_ui_path), PUBLIC),
              name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    @policy(PUBLIC)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url="/openapi.json", title="kokoro-speech API",
                                   swagger_js_url="/docs-assets/swagger-ui-bundle.js",
                                   swagger_css_url="/docs-assets/swagger-ui.css",
                                   swagger_favicon_url="/docs-assets/favicon-32x32.png")

    app.include_router(v1)
    app.include_router(websocket_router)
    app.include_router(captions.router)
    app.include_router(dev.router)
    app.include_router(download_routes.router)
    app.include_router(job_routes.router)
    app.include_router(router)
    app.mount("/static", declared(StaticFiles(packages=[("kokoro_speech", "static")]), PUBLIC), name="static")
    for route in app.routes:
        if getattr(route, "path", None) == app.openapi_url:  # FastAPI's own schema route
            policy(PUBLIC)(route.endpoint)
    if undeclared(app.routes):
        raise RuntimeError(f"routes without a policy (api/policy.py): {', '.join(undeclared(app.routes))}")
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _server_error)

    # The last added is the outermost: CORS wraps everything, so browsers can read even a 413.
    app.add_middleware(SendTimeout, timeout=settings.send_timeout)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes, read_timeout=settings.read_timeout,
                       larger={"/v1/audio/jobs": settings.jobs_max_upload_bytes + UPLOAD_OVERHEAD})
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    app.add_middleware(ResponseHeaders)
    if origins:
        app.add_middleware(CORSMiddleware, allow_origins=origins, allow_methods=["GET", "POST", "DELETE"],
                           allow_headers=["Authorization", "Content-Type"],
                           expose_headers=["X-Request-ID", "X-Sample-Rate"])
    return app
