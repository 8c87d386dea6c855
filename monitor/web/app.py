"""The FastAPI application factory. Built per call with its settings and engine, so tests get their own."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, select

from monitor.config import Settings
from monitor.storage.models import BaselineClaim, Source, WatchTerm


def create_app(settings: Settings, engine: Engine) -> FastAPI:
    app = FastAPI(title="Claim Monitor", version="0.1.0")
    app.state.settings = settings
    app.state.engine = engine

    @app.get("/healthz", tags=["service"])
    def healthz() -> JSONResponse:
        """Liveness and readiness: the database answers and the baseline is loaded."""
        body: dict[str, Any] = {"status": "ok"}
        try:
            with Session(engine) as session:
                body["baseline_claims"] = session.exec(select(func.count()).select_from(BaselineClaim)).one()
                body["watch_terms"] = session.exec(select(func.count()).select_from(WatchTerm)).one()
                body["sources"] = session.exec(select(func.count()).select_from(Source)).one()
            body["database"] = "ok"
        except SQLAlchemyError as exc:
            body.update(status="error", database=type(exc).__name__)
            return JSONResponse(body, status_code=503)
        return JSONResponse(body)

    return app
