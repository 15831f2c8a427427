"""Liveness and readiness."""

import asyncio

import pymongo
from pymongo import AsyncMongoClient
from pymongo.errors import PyMongoError
from starlette.requests import Request
from starlette.responses import JSONResponse

from subscriptions.broker import Broker


async def live(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


async def mongo_answers(client: AsyncMongoClient[dict[str, object]], within: float) -> bool:
    # PyMongo's own deadline, not a cancellation from outside: cancelling the driver in
    # the middle of server selection is what app.pymongo_compat guards against.
    try:
        with pymongo.timeout(within):
            await client.admin.command("ping")
        return True
    except (TimeoutError, PyMongoError, OSError):
        return False


async def ready(request: Request) -> JSONResponse:
    runtime = request.app.state.runtime
    client: AsyncMongoClient[dict[str, object]] = runtime.mongo
    broker: Broker = runtime.services.broker
    mongo_ok, broker_ok = await asyncio.gather(mongo_answers(client, 1.0), broker.ping(1.0))
    checks = {
        "mongodb": "ok" if mongo_ok else "unavailable",
        "broker": "ok" if broker_ok else "unavailable",
    }
    if runtime.worker is not None:  # informational: one process in a deployment is active
        checks["worker"] = "active" if runtime.worker.active else "standby"
    if mongo_ok and broker_ok:
        return JSONResponse({"status": "ready", "checks": checks})
    failed = [name for name, state in checks.items() if state == "unavailable"]
    return JSONResponse(
        {"status": "unavailable", "failed": failed, "checks": checks}, status_code=503
    )
