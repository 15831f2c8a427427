"""LiveConversation: sync returns once the subscription receives its own marker (then
every later message arrives, markers never do); a broker that never delivers it ends in
NotLive instead of waiting forever."""

import asyncio
from collections.abc import AsyncGenerator
from datetime import UTC, datetime
from typing import cast

import pytest

from subscriptions.broker import Broker
from subscriptions.messaging import (
    LiveConversation,
    MessagePayload,
    NotLive,
    SyncMarker,
    conversation_topic,
    message_stream,
)

MESSAGE = MessagePayload("m1", "c1", "u1", "hi", datetime(2026, 1, 1, tzinfo=UTC))


class Mute(Broker):
    async def publish(self, topic: str, message: str) -> None:
        """Published nowhere: no marker ever comes back."""


@pytest.fixture
async def broker():
    memory = Broker()
    await memory.connect()
    yield memory
    await memory.disconnect()


async def test_after_sync_messages_arrive_and_markers_are_skipped(broker: Broker):
    plain = cast(AsyncGenerator[MessagePayload, None], message_stream(broker, "t1", "c1"))
    first = asyncio.ensure_future(anext(plain))
    live = LiveConversation(broker, "t1", "c1")
    try:
        await asyncio.wait_for(live.sync(), 5)
        await broker.publish(conversation_topic("t1", "c1"), SyncMarker("x").encode())
        await broker.publish(conversation_topic("t1", "c1"), MESSAGE.encode())
        assert await asyncio.wait_for(anext(live.messages()), 5) == MESSAGE
        assert await asyncio.wait_for(first, 5) == MESSAGE  # the markers were skipped
    finally:
        await live.close()
        await plain.aclose()
    await asyncio.sleep(0.05)  # the inner listen() is closed by the loop's finalizer
    assert broker.active_topics == 0


async def test_no_marker_back_is_not_live():
    mute = Mute()
    await mute.connect()
    live = LiveConversation(mute, "t1", "c1")
    try:
        with pytest.raises(NotLive):
            await live.sync(within=0.3)
    finally:
        await live.close()
        await mute.disconnect()
    assert mute.active_topics == 0
