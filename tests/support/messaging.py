"""Messaging for tests: conversations and messages through the API, paged reads, and the
``messageReceived`` catch-up subscription."""

from gql import gql

START = """mutation($p: [ID!]!, $s: String) { startConversation(participantIds: $p, subject: $s) {
  id subject participants { id role } unreadCount lastMessage { id } } }"""
SEND = """mutation($c: ID!, $b: String!, $k: String) {
  sendMessage(conversationId: $c, body: $b, clientMessageId: $k) {
    id conversationId body sentAt clientMessageId sender { id } } }"""
MESSAGES = """query($c: ID!, $first: Int, $after: String) {
  messages(conversationId: $c, first: $first, after: $after) {
    edges { cursor node { id body sender { id } } } pageInfo { hasNextPage endCursor } } }"""
CONVERSATIONS = """query($first: Int, $after: String) { conversations(first: $first, after: $after) {
  edges { node { id subject unreadCount lastMessage { body } participants { id } } }
  pageInfo { hasNextPage endCursor } } }"""
CATCH_UP = gql("""subscription($c: ID!, $after: String) {
  messageReceived(conversationId: $c, after: $after) { id body sender { id } } }""")


async def start(api, who, participants, subject=None):
    return await api.gql(START, {"p": participants, "s": subject}, token=who.token)


async def conversation_between(api, world, tenant="acme", subject="Hello"):
    """A conversation the tenant's investor starts with its manager: its id."""
    investor, manager = world(tenant, "investor"), world(tenant, "manager")
    result = await start(api, investor, [manager.id], subject)
    return result.ok()["startConversation"]["id"]


async def send(api, who, conversation, body, key=None):
    return await api.gql(SEND, {"c": conversation, "b": body, "k": key}, token=who.token)


async def all_messages(api, who, conversation, first=100):
    """The ids of every message ``who`` reads in ``conversation``, page after page."""
    ids, after = [], None
    while True:
        page = (
            await api.gql(
                MESSAGES, {"c": conversation, "first": first, "after": after}, token=who.token
            )
        ).ok()["messages"]
        ids += [edge["node"]["id"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return ids
        after = page["pageInfo"]["endCursor"]


async def newest_cursor(api, who, conversation) -> str:
    page = (await api.gql(MESSAGES, {"c": conversation, "first": 1}, token=who.token)).ok()
    return page["messages"]["edges"][0]["cursor"]
