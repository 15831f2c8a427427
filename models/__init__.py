"""Beanie documents and pure domain rules. Imports nothing of ours above it."""

from beanie import Document

from models.audit import AuditEntry
from models.crm import Activity, Prospect, ProspectTask
from models.documents.records import DocumentRecord
from models.events import Event, Registration
from models.funds.products import FundInvitation, FundProduct
from models.identity import (
    ActionToken,
    LoginThrottle,
    OutboxMessage,
    RefreshSession,
    ServiceToken,
    SigningKey,
)
from models.investments import Investment, Redemption
from models.messaging import Conversation, Message
from models.mt5 import Mt5Account, Mt5Deal
from models.opportunities import Interest, Opportunity
from models.persisted_queries import PersistedQuery
from models.portfolios.records import Portfolio, Transaction
from models.tenants import Tenant
from models.users import User
from models.webhooks import WebhookDelivery, WebhookEndpoint

ALL_DOCUMENTS: list[type[Document]] = [
    Tenant,
    User,
    RefreshSession,
    ActionToken,
    LoginThrottle,
    OutboxMessage,
    ServiceToken,
    SigningKey,
    AuditEntry,
    DocumentRecord,
    FundProduct,
    FundInvitation,
    Investment,
    Redemption,
    Opportunity,
    Interest,
    PersistedQuery,
    Portfolio,
    Transaction,
    Mt5Account,
    Mt5Deal,
    Event,
    Registration,
    Conversation,
    Message,
    Prospect,
    Activity,
    ProspectTask,
    WebhookEndpoint,
    WebhookDelivery,
]
