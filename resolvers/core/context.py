"""The typed context every use case takes, and the ports the app layer fills in."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from beanie import PydanticObjectId

from models.base import utc_now
from models.errors import Forbidden, Unauthenticated
from models.permissions import Rule
from models.sanctions import SanctionsList
from models.users import Role, User
from resolvers.core.background import Background
from resolvers.core.signed_tokens import TokenKeys
from resolvers.core.transaction_sessions import TransactionSessions
from subscriptions.broker import Broker


class PasswordHasher(Protocol):
    def hash(self, password: str) -> str: ...
    def verify(self, password_hash: str, password: str) -> bool: ...
    def needs_rehash(self, password_hash: str) -> bool: ...


class AccessTokenIssuer(Protocol):
    def issue(self, user: User, session_id: PydanticObjectId) -> tuple[str, datetime]: ...


class LiveConnection(Protocol):
    """The WebSocket an operation arrived on (the app layer implements it)."""

    async def renew(self, access_token: str) -> datetime:
        """Run as this access token from now on (same user and session); its expiry."""
        ...


@dataclass(frozen=True)
class IdentityPolicy:
    """Tunable identity rules (filled in from Settings)."""

    refresh_ttl: timedelta = timedelta(days=30)
    password_reset_ttl: timedelta = timedelta(hours=1)
    invitation_ttl: timedelta = timedelta(days=7)
    password_min_length: int = 12
    password_max_length: int = 256
    account_failure_limit: int = 5
    address_failure_limit: int = 20
    failure_window: timedelta = timedelta(minutes=15)
    lockout_base: timedelta = timedelta(seconds=30)
    lockout_max: timedelta = timedelta(minutes=15)
    mfa_issuer: str = "Fidus"


@dataclass(frozen=True)
class WriteLimits:
    """Mutations per minute: per user, per client address, and sign-in family per address."""

    per_user: int = 120
    per_address: int = 600
    auth_per_address: int = 30


@dataclass(frozen=True)
class PersistedQueryLimits:
    """What clients may add to the persisted-query registry (resolvers.core.persisted_queries)."""

    max_chars: int = 50_000  # longer operations run, but are not stored
    ttl: timedelta = timedelta(days=30)  # automatic registrations expire (manifests do not)
    registrations_per_minute: int = 30  # per signed-in user; beyond, operations run unstored


@dataclass(frozen=True)
class WebhookConfig:
    """Outbound webhook rules (filled in from Settings; see resolvers/webhooks/endpoints.py)."""

    secret_key: bytes = field(default=b"", repr=False)  # AES-GCM key sealing endpoint secrets
    allow_loopback: bool = False  # 127.0.0.0/8, ::1, localhost (and plain http to them)
    allow_private_networks: bool = False  # RFC 1918, CGNAT, IPv6 ULA (https only)
    timeout: float = 10.0  # seconds, one whole attempt
    max_attempts: int = 15
    retry_base: float = 2.0  # seconds before the 2nd attempt, doubling after each failure
    retry_max: float = 3600.0
    lease: float = 60.0  # a claimed delivery is retried after this if its sender vanished
    poll: float = 5.0  # with deliveries outstanding, look for due ones at least this often
    idle_poll: float = 60.0  # with none outstanding (new events wake dispatchers at once)
    concurrency: int = 8  # deliveries in flight per dispatcher


@dataclass
class Services:
    """Process-wide collaborators shared by every request."""

    passwords: PasswordHasher
    access_tokens: AccessTokenIssuer
    token_keys: TokenKeys  # cursors, join links, download links (resolvers.core.signed_tokens)
    broker: Broker
    policy: IdentityPolicy = field(default_factory=IdentityPolicy)
    max_page_size: int = 100
    max_subscriptions_per_connection: int = 20
    clock: Callable[[], datetime] = utc_now
    dummy_password_hash: str | None = None
    write_limits: WriteLimits = field(default_factory=WriteLimits)
    persisted_queries: str = "auto"  # off | auto | only (see resolvers.core.persisted_queries)
    persisted_query_limits: PersistedQueryLimits = field(default_factory=PersistedQueryLimits)
    event_join_ttl: timedelta = timedelta(minutes=15)
    max_upload_bytes: int = 10 * 1024 * 1024
    download_ttl: timedelta = timedelta(minutes=5)
    sanctions: SanctionsList | None = None  # None: no list configured, no automatic screening
    webhooks: WebhookConfig = field(default_factory=WebhookConfig)
    # work started for a request and finished after its answer (resolvers.core.background)
    background: Background = field(default_factory=Background)
    investor_backdate_days: int = 0  # how far before today an investor may date a deposit
    # announces this process's transaction sessions; ends those of processes that died
    transactions: TransactionSessions = field(default_factory=TransactionSessions)


@dataclass
class Principal:
    """Who is calling: the user as loaded from the database, and the session used."""

    user: User
    session_id: PydanticObjectId | None
    expires_at: datetime | None = None  # of the access token the caller presented

    @property
    def tenant_id(self) -> PydanticObjectId:
        return self.user.tenant_id

    @property
    def user_id(self) -> PydanticObjectId:
        assert self.user.id is not None
        return self.user.id

    @property
    def role(self) -> Role:
        return self.user.role


@dataclass
class RequestContext:
    """Per request (HTTP) or per connection (WebSocket)."""

    services: Services
    request_id: str = ""
    client_ip: str | None = None
    user_agent: str | None = None
    principal: Principal | None = None
    auth_error: str | None = None
    connection_params: dict[str, Any] | None = None
    active_subscriptions: int = 0
    loaders: Any = None  # the schema layer's per-request DataLoaders
    response: Any = None
    connection: LiveConnection | None = None  # set for operations over a WebSocket

    def require_principal(self) -> Principal:
        if self.principal is None:
            raise Unauthenticated(self.auth_error or "Authentication required")
        return self.principal

    def require(self, rule: Rule) -> Principal:
        """The caller, if their role has ``rule`` (a ``Can.*``), else FORBIDDEN."""
        principal = self.require_principal()
        if not rule.allows(principal.role):
            raise Forbidden(rule.message)
        return principal

    def now(self) -> datetime:
        return self.services.clock()
