"""The broker (the only module that knows Redis/broadcaster), topics, typed payloads and
the async streams that schema subscription fields iterate."""
