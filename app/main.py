"""The app factory: `create_app(settings)` builds one Walkaround app."""

from __future__ import annotations

import hashlib
import logging

from advanced_alchemy.extensions.litestar import (
    AsyncSessionConfig,
    SQLAlchemyAsyncConfig,
    SQLAlchemyPlugin,
)
from litestar import Litestar
from litestar.config.compression import CompressionConfig
from litestar.datastructures import CacheControlHeader, State
from litestar.di import Provide
from litestar.logging import LoggingConfig
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme
from litestar.plugins.htmx import HTMXPlugin, HTMXRequest
from litestar.static_files import create_static_files_router

from app import __version__, wiring
from app.db import create_engine
from app.routes.admin import AdminController
from app.routes.api import BEARER_SCHEME, ApiController
from app.routes.api_appointments import ApiAppointmentController
from app.routes.appointments import AppointmentController
from app.routes.appointments_tomorrow import TomorrowController
from app.routes.auth import AuthController
from app.routes.board import BoardController
from app.routes.catalogue import CatalogueController
from app.routes.check_in import CheckInController
from app.routes.complaints import ComplaintController
from app.routes.daily_summary import DailySummaryController
from app.routes.delivery import DeliveryController
from app.routes.documents import DocumentController
from app.routes.estimate import EstimateController
from app.routes.final_check import FinalCheckController
from app.routes.follow_ups import FollowUpController
from app.routes.health import healthz
from app.routes.health_check import (
    ChecklistController,
    HealthCheckAnswerController,
    HealthCheckController,
)
from app.routes.lane_board import LaneBoardController
from app.routes.photos import PhotoController
from app.routes.pwa import PwaController
from app.routes.reminders import ReminderController
from app.routes.reports import ReportController
from app.routes.review import ReviewController
from app.routes.supplements import ApprovalController, SupplementController
from app.routes.technician import TechnicianController
from app.routes.vehicle_file import VehicleFileController
from app.routes.walk_in import WalkInController
from app.routes.work_orders import WorkOrderController
from app.routes.workshop import WorkshopController
from app.services.storage.configured import open_store
from app.settings import Settings, from_env
from app.web import request_log
from app.web.api_docs import LocalSwaggerPlugin
from app.web.auth import CurrentUserMiddleware, require_sign_in
from app.web.caching import no_store_unless_chosen
from app.web.csrf import CsrfMiddleware
from app.web.errors import EXCEPTION_HANDLERS
from app.web.limits import FormBodyMiddleware, PathIdMiddleware
from app.web.request_log import RequestIdMiddleware
from app.web.security import API_DOCS_PATH, security_headers
from app.web.startup import relay_board_events, remind_appointments, sweep_photo_store
from app.web.templating import STATIC_DIR, template_config
from app.web.webhook_dispatcher import dispatcher_lifespan


def _derived_key(secret: str, purpose: str, length: int = 32) -> bytes:
    return hashlib.sha256(f"{purpose}:{secret}".encode()).digest()[:length]


def create_app(settings: Settings | None = None) -> Litestar:
    settings = (settings or from_env()).with_secret()
    request_log.stamp_records()
    wiring.install()
    engine = create_engine(settings.database_url)
    db_config = SQLAlchemyAsyncConfig(
        engine_instance=engine,
        session_config=AsyncSessionConfig(expire_on_commit=False),
        before_send_handler="autocommit_include_redirects",
    )
    store = open_store(settings)
    state = State({"settings": settings, "db_config": db_config, "store": store})
    return Litestar(
        route_handlers=[
            AuthController,
            LaneBoardController,
            TomorrowController,
            ComplaintController,
            WalkInController,
            AppointmentController,
            CheckInController,
            EstimateController,
            ReviewController,
            WorkOrderController,
            SupplementController,
            ApprovalController,
            PhotoController,
            DocumentController,
            AdminController,
            CatalogueController,
            PwaController,
            ApiController,
            ApiAppointmentController,
            WorkshopController,
            TechnicianController,
            HealthCheckController,
            HealthCheckAnswerController,
            ChecklistController,
            VehicleFileController,
            FinalCheckController,
            DeliveryController,
            FollowUpController,
            ReportController,
            BoardController,
            DailySummaryController,
            ReminderController,
            healthz,
            create_static_files_router(
                path="/static",
                directories=[STATIC_DIR],
                opt={"public": True},
                # Asset URLs carry the shell version (?v=...), so they may be cached for good.
                cache_control=CacheControlHeader(
                    max_age=365 * 24 * 3600, public=True, immutable=True
                ),
                send_as_attachment=False,
                include_in_schema=False,
            ),
        ],
        plugins=[SQLAlchemyPlugin(config=db_config), HTMXPlugin()],
        request_class=HTMXRequest,
        # Sessions live on the server (app.services.staff.sessions): the cookie is set at
        # sign-in and cleared at sign-out only, and the CSRF token is tied to the session.
        middleware=[
            RequestIdMiddleware(settings.slow_request_ms),
            PathIdMiddleware(),
            CurrentUserMiddleware(),
            FormBodyMiddleware(),
            CsrfMiddleware(_derived_key(settings.secret_key, "csrf"), settings.https),
        ],
        before_send=[
            request_log.add_header,
            no_store_unless_chosen,
            security_headers,
            *request_log.instance_header(settings.instance),
        ],
        guards=[require_sign_in],
        dependencies={
            "settings": Provide(lambda: settings, sync_to_thread=False),
            "store": Provide(lambda: store, sync_to_thread=False),
        },
        template_config=template_config(settings),
        exception_handlers=EXCEPTION_HANDLERS,
        # Event streams stay uncompressed: tiny messages, and a cut stream would
        # leave the gzip compressor unclosed.
        compression_config=CompressionConfig(
            backend="gzip", minimum_size=1024, exclude="^/workshop/events"
        ),
        openapi_config=OpenAPIConfig(
            title="Walkaround",
            version=__version__,
            path=API_DOCS_PATH,
            render_plugins=[LocalSwaggerPlugin()],
            components=Components(
                security_schemes={BEARER_SCHEME: SecurityScheme(type="http", scheme="bearer")}
            ),
        ),
        logging_config=LoggingConfig(
            **request_log.logging_dict(),
            root={"level": "INFO", "handlers": ["queue_listener"]},
            log_exceptions="always" if settings.debug else "debug",
        ),
        state=state,
        lifespan=[sweep_photo_store, relay_board_events, dispatcher_lifespan, remind_appointments],
        debug=settings.debug,
    )


def create_app_from_env() -> Litestar:
    """Entry point for `uvicorn --factory app.main:create_app_from_env`."""
    logging.getLogger("walkaround").setLevel(logging.INFO)
    return create_app(from_env())
