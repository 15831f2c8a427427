"""Sign-in, sessions, MFA, password life cycle and service tokens."""

from datetime import datetime

import strawberry

from models import identity as identity_models
from models.identity import RefreshSession
from models.permissions import Can
from resolvers.identity import connections, mfa, passwords, service_tokens, sessions
from resolvers.identity import sign_in as auth
from resolvers.identity.credentials import AuthResult
from schema.core.context import Info
from schema.core.domains import Domain
from schema.core.permissions import Allowed, IsAuthenticated
from schema.users import User


@strawberry.type
class AuthPayload:
    access_token: str
    refresh_token: str
    expires_at: datetime
    user: User

    @classmethod
    def from_result(cls, result: AuthResult) -> "AuthPayload":
        return cls(
            access_token=result.access_token,
            refresh_token=result.refresh_token,
            expires_at=result.expires_at,
            user=User.from_model(result.user),
        )


@strawberry.type
class Session:
    id: strawberry.ID
    created_at: datetime
    last_used_at: datetime | None
    user_agent: str | None
    current: bool


@strawberry.type
class MfaEnrollment:
    secret: str
    otpauth_uri: str


@strawberry.type
class ServiceToken:
    id: strawberry.ID
    name: str
    scopes: list[str]
    token: str | None = strawberry.field(description="Only in the create response")
    created_at: datetime


def _service_token(doc: identity_models.ServiceToken, secret: str | None = None) -> ServiceToken:
    return ServiceToken(
        id=strawberry.ID(str(doc.id)),
        name=doc.name,
        scopes=list(doc.scopes),
        token=secret,
        created_at=doc.created_at,
    )


def _session(doc: RefreshSession, info: Info) -> Session:
    principal = info.context.principal
    return Session(
        id=strawberry.ID(str(doc.id)),
        created_at=doc.created_at,
        last_used_at=doc.last_used_at,
        user_agent=doc.user_agent,
        current=principal is not None and principal.session_id == doc.id,
    )


@strawberry.type
class IdentityQueries:
    @strawberry.field(permission_classes=[IsAuthenticated])
    async def sessions(self, info: Info) -> list[Session]:
        return [_session(doc, info) for doc in await sessions.list_sessions(info.context)]

    @strawberry.field(permission_classes=[Allowed(Can.MANAGE_SERVICE_TOKENS)])
    async def service_tokens(self, info: Info) -> list[ServiceToken]:
        return [_service_token(doc) for doc in await service_tokens.list_tokens(info.context)]


@strawberry.type
class IdentityMutations:
    @strawberry.mutation
    async def login(
        self, info: Info, tenant: str, email: str, password: str, otp: str | None = None
    ) -> AuthPayload:
        return AuthPayload.from_result(await auth.login(info.context, tenant, email, password, otp))

    @strawberry.mutation
    async def refresh_token(self, info: Info, refresh_token: str) -> AuthPayload:
        return AuthPayload.from_result(await auth.refresh(info.context, refresh_token))

    @strawberry.mutation
    async def logout(self, info: Info, refresh_token: str) -> bool:
        return await auth.logout(info.context, refresh_token)

    @strawberry.mutation
    async def accept_invitation(self, info: Info, token: str, password: str) -> AuthPayload:
        return AuthPayload.from_result(
            await passwords.accept_invitation(info.context, token, password)
        )

    @strawberry.mutation(permission_classes=[IsAuthenticated])
    async def change_password(self, info: Info, current_password: str, new_password: str) -> bool:
        return await passwords.change_password(info.context, current_password, new_password)

    @strawberry.mutation(description="Always true: no account enumeration")
    async def request_password_reset(self, info: Info, tenant: str, email: str) -> bool:
        return await passwords.request_password_reset(info.context, tenant, email)

    @strawberry.mutation
    async def reset_password(self, info: Info, token: str, new_password: str) -> bool:
        return await passwords.reset_password(info.context, token, new_password)

    @strawberry.mutation(permission_classes=[IsAuthenticated])
    async def enroll_mfa(self, info: Info) -> MfaEnrollment:
        enrollment = await mfa.enroll(info.context)
        return MfaEnrollment(secret=enrollment.secret, otpauth_uri=enrollment.otpauth_uri)

    @strawberry.mutation(permission_classes=[IsAuthenticated])
    async def confirm_mfa(self, info: Info, code: str) -> bool:
        return await mfa.confirm(info.context, code)

    @strawberry.mutation(permission_classes=[IsAuthenticated])
    async def disable_mfa(self, info: Info, code: str) -> bool:
        return await mfa.disable(info.context, code)

    @strawberry.mutation(permission_classes=[IsAuthenticated])
    async def revoke_session(self, info: Info, id: strawberry.ID) -> bool:
        return await sessions.revoke_session(info.context, id)

    @strawberry.mutation(
        permission_classes=[IsAuthenticated],
        description="Over the WebSocket only: run it as this fresh access token of the same "
        "user and session from now on, so streams outlive the old token; the new expiry",
    )
    async def renew_connection(self, info: Info, access_token: str) -> datetime:
        return await connections.renew_connection(info.context, access_token)

    @strawberry.mutation(permission_classes=[Allowed(Can.MANAGE_SERVICE_TOKENS)])
    async def create_service_token(self, info: Info, name: str, scopes: list[str]) -> ServiceToken:
        doc, secret = await service_tokens.create(info.context, name, scopes)
        return _service_token(doc, secret)

    @strawberry.mutation(permission_classes=[Allowed(Can.MANAGE_SERVICE_TOKENS)])
    async def revoke_service_token(self, info: Info, id: strawberry.ID) -> bool:
        return await service_tokens.revoke(info.context, id)


DOMAIN = Domain(queries=IdentityQueries, mutations=IdentityMutations)
