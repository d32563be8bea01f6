"""Bot state on the SQL store: eTag compare-and-set, and dialog state that survives a restart."""

from __future__ import annotations

import pytest
from botbuilder.core import ConversationState, TurnContext
from botbuilder.core.adapters import TestAdapter
from botbuilder.dialogs import (
    DialogSet,
    DialogTurnStatus,
    WaterfallDialog,
    WaterfallStepContext,
)
from botbuilder.dialogs.prompts import PromptOptions, TextPrompt
from botbuilder.schema import Activity, ActivityTypes, ChannelAccount, ConversationAccount

from bot.storage import SqlStorage, StateSerializationError, decode, encode
from frontdoor.ports import EtagConflictError
from store.sql import SqlStore

DIALOG = "test.two-questions"


async def test_a_stale_write_raises(database_url: str) -> None:
    store = SqlStore(database_url)
    storage = SqlStorage(store)
    try:
        await storage.write({"k": {"count": 1}})
        first = (await storage.read(["k"]))["k"]
        second = (await storage.read(["k"]))["k"]
        first["count"] = 2
        await storage.write({"k": first})
        second["count"] = 3
        with pytest.raises(EtagConflictError):
            await storage.write({"k": second})
        assert (await storage.read(["k"]))["k"]["count"] == 2
        second["e_tag"] = "*"
        await storage.write({"k": second})
        assert (await storage.read(["k"]))["k"]["count"] == 3
        await storage.delete(["k"])
        assert await storage.read(["k"]) == {}
    finally:
        await store.close()


def test_unknown_objects_are_refused_not_silently_lost() -> None:
    with pytest.raises(StateSerializationError):
        encode({"x": object()})
    value = {"a": [1, "two", None, {"b": True}]}
    assert decode(encode(value)) == value


class _Bot:
    """A two-step waterfall whose dialog state lives in ``SqlStorage``."""

    def __init__(self, store: SqlStore) -> None:
        self.state = ConversationState(SqlStorage(store))
        self.dialogs = DialogSet(self.state.create_property("dialogs"))
        self.dialogs.add(TextPrompt("text"))
        self.dialogs.add(WaterfallDialog(DIALOG, [self._ask_first, self._ask_second, self._finish]))

    async def _ask_first(self, step: WaterfallStepContext):
        return await step.prompt("text", PromptOptions(prompt=Activity(type="message", text="first?")))

    async def _ask_second(self, step: WaterfallStepContext):
        step.values["first"] = step.result
        return await step.prompt("text", PromptOptions(prompt=Activity(type="message", text="second?")))

    async def _finish(self, step: WaterfallStepContext):
        await step.context.send_activity(f"got {step.values['first']} and {step.result}")
        return await step.end_dialog()

    async def on_turn(self, context: TurnContext) -> None:
        dialog_context = await self.dialogs.create_context(context)
        result = await dialog_context.continue_dialog()
        if result.status == DialogTurnStatus.Empty:
            await dialog_context.begin_dialog(DIALOG)
        await self.state.save_changes(context)


def _activity(text: str) -> Activity:
    return Activity(
        type=ActivityTypes.message,
        text=text,
        channel_id="msteams",
        conversation=ConversationAccount(id="conv-storage-1"),
        from_property=ChannelAccount(id="29:user", aad_object_id="aad-user"),
        recipient=ChannelAccount(id="28:bot"),
    )


async def test_a_dialog_continues_after_a_restart(database_url: str) -> None:
    store = SqlStore(database_url)
    bot = _Bot(store)
    adapter = TestAdapter(bot.on_turn)
    await adapter.test(_activity("hi"), "first?")
    await adapter.test(_activity("alpha"), "second?")
    await store.close()

    # A new process: new store, new storage, new dialog set; the conversation is mid-dialog.
    restarted_store = SqlStore(database_url)
    restarted = _Bot(restarted_store)
    adapter = TestAdapter(restarted.on_turn)
    await adapter.test(_activity("beta"), "got alpha and beta")
    await restarted_store.close()
