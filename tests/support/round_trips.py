"""The MongoDB commands one GraphQL operation sends (the root conftest's ``command_counter``
listens on the server's own client): round trips per request, counted."""

import asyncio


async def commands_for(api, command_counter, query, variables, token) -> list[str]:
    await asyncio.sleep(0.6)  # let the valuation worker finish revaluing after the set-up writes
    command_counter.commands.clear()
    command_counter.recording = True
    try:
        result = await api.gql(query, variables, token=token)
    finally:
        command_counter.recording = False
    assert not result.errors, result.errors
    return list(command_counter.commands)
