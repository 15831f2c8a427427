"""All configuration, from the environment only (prefix ``FIDUS_``, plus the conventional
``MONGODB_URL`` and ``REDIS_URL``)."""

import ipaddress
import json
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import unquote_plus

from pydantic import (
    AliasChoices,
    Field,
    IPvAnyNetwork,
    SecretStr,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from app.logs import LogFormat
from resolvers.core.context import IdentityPolicy, PersistedQueryLimits, WebhookConfig, WriteLimits
from schema import SchemaLimits


def database_in_url(url: str) -> str | None:
    """The database a MongoDB URL names (``mongodb://host/<db>?...``), read as PyMongo
    reads it (without resolving a ``mongodb+srv`` name); None when it names none."""
    hosts_and_path = url.partition("://")[2].partition("?")[0]
    database = unquote_plus(hosts_and_path.partition("/")[2]).split(".", 1)[0]
    return database or None


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FIDUS_", extra="ignore", populate_by_name=True)

    mongodb_url: str | None = Field(
        default=None, validation_alias=AliasChoices("MONGODB_URL", "FIDUS_MONGODB_URL")
    )
    redis_url: str | None = Field(
        default=None, validation_alias=AliasChoices("REDIS_URL", "FIDUS_REDIS_URL")
    )
    # the database; a database named in MONGODB_URL's path wins over it
    db_name: str = "fidus"
    # MongoDB unreachable: a request fails after about this long instead of hanging
    # (server selection and connection timeouts; README "Faults")
    mongo_timeout_ms: int = Field(default=3000, ge=100, le=120_000)
    # the embedded SecantusDB fsyncs its journal on every commit (a killed server keeps
    # every acknowledged write); off trades that for write throughput
    embedded_sync_on_commit: bool = True
    data_dir: Path = Path(".fidus")
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    graphiql: bool | None = None  # default: on for the embedded install, off otherwise

    jwt_secret: SecretStr | None = None  # unset: generated once, kept in the database
    access_token_minutes: int = Field(default=15, ge=1, le=24 * 60)
    refresh_token_days: int = Field(default=30, ge=1, le=365)
    argon2_time_cost: int = Field(default=3, ge=1)
    argon2_memory_kib: int = Field(default=65536, ge=8)
    argon2_parallelism: int = Field(default=4, ge=1)

    login_failures_per_account: int = Field(default=5, ge=1)
    login_failures_per_address: int = Field(default=20, ge=1)

    max_query_depth: int = Field(default=12, ge=2)
    max_aliases: int = Field(default=30, ge=1)
    max_tokens: int = Field(default=5000, ge=100)
    max_query_cost: int = Field(default=10_000, ge=10)
    # off | auto (clients may register by hash) | only (registered operations only)
    persisted_queries: Literal["off", "auto", "only"] = "auto"
    # what clients may register: operation length, lifetime, registrations per user a minute
    persisted_query_max_chars: int = Field(default=50_000, ge=100, le=1_000_000)
    persisted_query_ttl_days: int = Field(default=30, ge=1, le=3650)
    persisted_query_registrations_per_minute: int = Field(default=30, ge=1)
    # mutations per minute (sliding window, shared through Redis)
    mutations_per_minute_per_user: int = Field(default=120, ge=1)
    mutations_per_minute_per_address: int = Field(default=600, ge=1)
    sign_ins_per_minute_per_address: int = Field(default=30, ge=1)
    max_subscriptions_per_connection: int = Field(default=20, ge=1)
    max_page_size: int = Field(default=100, ge=1, le=1000)
    ws_keepalive_seconds: float = Field(default=15.0, gt=0)
    # permessage-deflate costs more CPU per message than it saves on ~150-byte ticks
    ws_compression: bool = False
    # open WebSocket connections per user, across this process
    max_connections_per_user: int = Field(default=10, ge=1, le=1000)
    # sockets re-check their session this often, should a revocation broadcast be lost
    ws_session_recheck_seconds: float = Field(default=10.0, gt=0, le=3600)
    # what one subscriber may have queued before it counts as behind (then ticks conflate
    # to the newest per symbol, other streams close)
    subscriber_buffer_messages: int = Field(default=10_000, ge=10, le=1_000_000)
    subscriber_buffer_bytes: int = Field(default=4 * 1_048_576, ge=1024, le=256 * 1_048_576)
    # with Redis, each symbol's ticks of the last this many seconds are kept, so a process
    # whose pub/sub connection was lost (a Redis restart) delivers the ones it missed
    tick_log_seconds: float = Field(default=30.0, ge=1, le=3600)

    bootstrap_tenant: str | None = None
    bootstrap_email: str | None = None
    bootstrap_password: SecretStr | None = None

    worker: bool = True  # run the valuation worker here (one instance wins the Redis lease)
    valuation_window_ms: int = Field(default=250, ge=10, le=60_000)
    # the valuation worker's Redis lease: a crashed worker is replaced within about this
    worker_lease_ms: int = Field(default=10_000, ge=1_000, le=300_000)

    # HTTP hardening
    cors_origins: list[str] = Field(default_factory=list)  # e.g. ["https://app.example.com"]
    cors_allow_credentials: bool = False
    # reverse proxies (addresses or CIDR networks) whose X-Forwarded-For is believed;
    # none: the client address is always the TCP peer (app.client_address)
    trusted_proxies: Annotated[list[IPvAnyNetwork], NoDecode] = Field(default_factory=list)
    hsts: bool = False  # behind TLS: Strict-Transport-Security on every response
    max_request_bytes: int = Field(default=1_048_576, ge=1024)
    max_multipart_bytes: int = Field(default=12 * 1_048_576, ge=1024)
    introspection: bool | None = None  # default: on where GraphiQL is on
    # set: GET /metrics needs this bearer token; unset, it is served only on loopback
    metrics_token: SecretStr | None = None
    # OpenTelemetry tracing (the otel extra): OTLP/HTTP to otel_endpoint, or the standard
    # OTEL_EXPORTER_OTLP_* variables when unset
    otel_enabled: bool = False
    otel_endpoint: str | None = None  # e.g. http://collector:4318/v1/traces
    otel_service_name: str = "fidus"
    event_join_link_minutes: int = Field(default=15, ge=1, le=24 * 60)

    max_upload_bytes: int = Field(default=10 * 1024 * 1024, ge=1, le=1024 * 1024 * 1024)
    download_url_seconds: int = Field(default=300, ge=10, le=3600)

    # an investor's own deposit may be dated at most this many days before the server's
    # today (staff may back-date further, with an audited reason)
    investor_backdate_days: int = Field(default=0, ge=0, le=31)

    sanctions_file: Path | None = None  # unset: no automatic AML screening (see docs)
    aml_hit_threshold: float = Field(default=90.0, gt=0, le=100)
    aml_review_threshold: float = Field(default=75.0, gt=0, le=100)
    # outbound webhooks (README "Webhooks"); every process may run the dispatcher
    webhook_dispatcher: bool = True
    # seals endpoint signing secrets at rest; unset: derived from the JWT/signing secret
    webhook_secret_key: SecretStr | None = None
    webhook_allow_loopback: bool = False  # development/tests: 127.0.0.1, ::1, localhost, http
    webhook_allow_private_networks: bool = False  # RFC 1918, CGNAT, IPv6 ULA targets
    webhook_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    webhook_max_attempts: int = Field(default=15, ge=1, le=30)
    webhook_retry_base_seconds: float = Field(default=2.0, gt=0, le=3600)
    webhook_retry_max_seconds: float = Field(default=3600.0, gt=0, le=86_400)
    webhook_lease_seconds: float = Field(default=60.0, gt=0, le=3600)
    webhook_poll_seconds: float = Field(default=5.0, gt=0, le=300)
    webhook_idle_poll_seconds: float = Field(default=60.0, gt=0, le=3600)
    webhook_concurrency: int = Field(default=8, ge=1, le=256)

    log_level: str = "INFO"
    # auto: one readable line per record when stderr is a terminal, JSON lines otherwise
    log_format: LogFormat = "auto"
    log_json: bool | None = None  # the earlier switch: true = json, false = text
    # one uvicorn line per HTTP request (off: GraphQL operations are still logged one line
    # each, and every request is counted in /metrics)
    access_log: bool = False

    @field_validator("jwt_secret")
    @classmethod
    def _long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 32:
            raise ValueError("FIDUS_JWT_SECRET must be at least 32 characters")
        return value

    @field_validator("metrics_token")
    @classmethod
    def _blank_token_is_unset(cls, value: SecretStr | None) -> SecretStr | None:
        """``FIDUS_METRICS_TOKEN=`` (docker compose passes it on empty) is no token: an
        empty bearer token would match a request without one."""
        return value if value is None or value.get_secret_value().strip() else None

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _proxy_list(cls, value: object) -> object:
        """A JSON list or comma-separated addresses/networks (``10.0.0.0/8, 192.0.2.7``)."""
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                return json.loads(text)
            return [item.strip() for item in text.split(",") if item.strip()]
        return value

    @field_validator("cors_origins")
    @classmethod
    def _explicit_origins(cls, value: list[str]) -> list[str]:
        for origin in value:
            if origin != "*" and not origin.startswith(("https://", "http://")):
                raise ValueError(f"CORS origin {origin!r} must start with https:// or http://")
        return value

    @model_validator(mode="after")
    def _database_from_the_url(self) -> "Settings":
        named = database_in_url(self.mongodb_url) if self.mongodb_url else None
        if named:
            self.db_name = named
        return self

    @model_validator(mode="after")
    def _log_json_names_a_format(self) -> "Settings":
        """FIDUS_LOG_JSON (before FIDUS_LOG_FORMAT) still applies when the format is unset."""
        if self.log_json is not None and "log_format" not in self.model_fields_set:
            self.log_format = "json" if self.log_json else "text"
        return self

    @model_validator(mode="after")
    def _no_wildcard_with_credentials(self) -> "Settings":
        if self.cors_allow_credentials and "*" in self.cors_origins:
            raise ValueError("FIDUS_CORS_ORIGINS cannot be * when credentials are allowed")
        return self

    @property
    def introspection_enabled(self) -> bool:
        return self.graphiql_enabled if self.introspection is None else self.introspection

    @field_validator("webhook_secret_key")
    @classmethod
    def _webhook_key_long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 32:
            raise ValueError("FIDUS_WEBHOOK_SECRET_KEY must be at least 32 characters")
        return value

    @model_validator(mode="after")
    def _lease_outlasts_an_attempt(self) -> "Settings":
        if self.webhook_lease_seconds <= self.webhook_timeout_seconds + 1:
            raise ValueError(
                "FIDUS_WEBHOOK_LEASE_SECONDS must exceed FIDUS_WEBHOOK_TIMEOUT_SECONDS by more "
                "than a second (a delivery must not be taken over while it is being sent)"
            )
        return self

    @property
    def embedded(self) -> bool:
        """No MONGODB_URL: Fidus starts its own SecantusDB under the data dir."""
        return self.mongodb_url is None

    @property
    def listens_on_loopback(self) -> bool:
        """FIDUS_HOST is a loopback address (or ``localhost``): nothing off this machine
        reaches the server directly."""
        if self.host.lower() == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host.strip("[]")).is_loopback
        except ValueError:
            return False  # a host name (or all interfaces): assume reachable

    @property
    def graphiql_enabled(self) -> bool:
        return self.embedded if self.graphiql is None else self.graphiql

    def identity_policy(self) -> IdentityPolicy:
        return IdentityPolicy(
            refresh_ttl=timedelta(days=self.refresh_token_days),
            account_failure_limit=self.login_failures_per_account,
            address_failure_limit=self.login_failures_per_address,
        )

    def write_limits(self) -> WriteLimits:
        return WriteLimits(
            per_user=self.mutations_per_minute_per_user,
            per_address=self.mutations_per_minute_per_address,
            auth_per_address=self.sign_ins_per_minute_per_address,
        )

    def persisted_query_limits(self) -> PersistedQueryLimits:
        return PersistedQueryLimits(
            max_chars=self.persisted_query_max_chars,
            ttl=timedelta(days=self.persisted_query_ttl_days),
            registrations_per_minute=self.persisted_query_registrations_per_minute,
        )

    def schema_limits(self) -> SchemaLimits:
        return SchemaLimits(
            max_depth=self.max_query_depth,
            max_aliases=self.max_aliases,
            max_tokens=self.max_tokens,
            introspection=self.introspection_enabled,
            max_cost=self.max_query_cost,
            max_page_size=self.max_page_size,
        )

    def webhook_config(self, secret_key: bytes) -> WebhookConfig:
        return WebhookConfig(
            secret_key=secret_key,
            allow_loopback=self.webhook_allow_loopback,
            allow_private_networks=self.webhook_allow_private_networks,
            timeout=self.webhook_timeout_seconds,
            max_attempts=self.webhook_max_attempts,
            retry_base=self.webhook_retry_base_seconds,
            retry_max=self.webhook_retry_max_seconds,
            lease=self.webhook_lease_seconds,
            poll=self.webhook_poll_seconds,
            idle_poll=self.webhook_idle_poll_seconds,
            concurrency=self.webhook_concurrency,
        )
