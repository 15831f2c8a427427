"""Who may do what, by role: each rule named once, as a capability (``Can.MANAGE_EVENTS``).

The schema derives a field's permission class from the rule
(``schema.core.permissions.Allowed``), so a refused caller learns it before anything is
resolved; the use case checks the same rule with ``RequestContext.require``, so it holds
for every caller (the CLI, REST routes, the demo seeding, a field added later). Rules on a
particular object (the owner, a participant, "managers only for investors") stay in the use
case that loads the object."""

from dataclasses import dataclass, field

from models.users import STAFF_ROLES, TENANT_READERS, Role

ROLE_FORBIDDEN = "Your role does not allow this operation"


@dataclass(frozen=True, eq=False)
class Rule:
    """A capability: the roles that have it, and what the others are told (FORBIDDEN)."""

    roles: frozenset[Role]
    message: str = ROLE_FORBIDDEN
    name: str = field(default="", init=False)

    def __set_name__(self, owner: type, name: str) -> None:
        if not self.name:  # named by Can; later holders (a permission class) keep that
            object.__setattr__(self, "name", name)

    def allows(self, role: Role) -> bool:
        return role in self.roles

    def __repr__(self) -> str:
        return f"Can.{self.name}"


_ADMIN = frozenset({Role.ADMIN})
_INVESTOR = frozenset({Role.INVESTOR})
_ACTORS = STAFF_ROLES | _INVESTOR  # every role but ANALYST, who only reads


class Can:
    """Every role rule of the API. Signed in at all is ``IsAuthenticated`` in the schema."""

    # ADMIN
    MANAGE_SERVICE_TOKENS = Rule(_ADMIN)  # list, create and revoke machine credentials
    CHANGE_FUNDS = Rule(_ADMIN)  # a fund product's terms (updateFund)
    MAP_MT5_ACCOUNTS = Rule(_ADMIN)
    READ_AUDIT_LOG = Rule(_ADMIN)
    ADMINISTER_WEBHOOKS = Rule(_ADMIN)  # endpoints, secrets, test events, delivery log
    ERASE_USERS = Rule(_ADMIN)

    # ADMIN, MANAGER
    CREATE_USERS = Rule(STAFF_ROLES)  # (a MANAGER: investors only, checked on the input)
    REVIEW_KYC = Rule(STAFF_ROLES)  # a user's KYC status and their KYC documents
    INVITE_TO_FUNDS = Rule(STAFF_ROLES)
    RECORD_TRANSACTIONS = Rule(STAFF_ROLES)  # in any portfolio of the tenant
    SETTLE_REDEMPTIONS = Rule(STAFF_ROLES)  # approve, reject, complete
    MANAGE_OPPORTUNITIES = Rule(STAFF_ROLES)  # create, update, publish, close
    MANAGE_EVENTS = Rule(STAFF_ROLES)  # create, update, publish, cancel; attendees, check-in
    MANAGE_PROSPECTS = Rule(STAFF_ROLES)  # the CRM's writes: pipeline, AML, timeline, tasks

    # ADMIN, MANAGER, ANALYST
    READ_TENANT = Rule(TENANT_READERS)  # users, prospects and analytics across the tenant

    # ADMIN, MANAGER, INVESTOR (not ANALYST)
    CREATE_INVESTMENTS = Rule(_ACTORS)  # (an INVESTOR: their own)
    REQUEST_REDEMPTIONS = Rule(_ACTORS)  # (an INVESTOR: of their own investments)
    UPLOAD_DOCUMENTS = Rule(_ACTORS)  # (an INVESTOR: for themself, not issued categories)
    SHARE_DOCUMENTS = Rule(_ACTORS)  # (an INVESTOR: what they own)
    CONVERSE = Rule(_ACTORS)  # start conversations, send, mark read: never an ANALYST

    # INVESTOR
    INVEST_IN_OPPORTUNITIES = Rule(_INVESTOR)  # express interest, invest
