"""The ``teams_channel`` fixture fails a test at teardown when the bot sends an invalid card, a card
that does not render whole within a Teams card's width, or calls a route Teams does not have.
Proven by running such tests in a separate pytest process."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from tests.harness.cards import PROJECT_ROOT

GENERATED_TESTS = textwrap.dedent(
    """
    from tests.harness.teams import TeamsChannel, TeamsUser
    from tests.harness_selftest.echo_bot import EchoBot, echo_adapter, echo_app

    ALICE = TeamsUser("0a1ce000-0000-4000-8000-000000000001", "Alice Officer")


    async def say(channel: TeamsChannel, aiohttp_server, text: str) -> None:
        bot, adapter = EchoBot(), echo_adapter()
        server = await aiohttp_server(echo_app(bot, adapter))
        channel.attach(server.make_url("/api/messages"))
        response = await channel.say(channel.personal(ALICE), ALICE, text)
        assert response.status == 201


    async def test_good_card(teams_channel, aiohttp_server):
        await say(teams_channel, aiohttp_server, "card")


    async def test_bad_card(teams_channel, aiohttp_server):
        await say(teams_channel, aiohttp_server, "bad card")


    async def test_wide_card(teams_channel, aiohttp_server):
        await say(teams_channel, aiohttp_server, "wide card")


    async def test_stray_route(teams_channel, aiohttp_server):
        await say(teams_channel, aiohttp_server, "stray")
    """
)


def test_invalid_cards_and_unexpected_routes_fail_the_test_at_teardown(tmp_path: Path) -> None:
    test_file = tmp_path / "test_generated_bot.py"
    test_file.write_text(GENERATED_TESTS)

    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-rE",
            "-p",
            "no:cacheprovider",
            "-p",
            "tests.harness.fixtures",
            "-c",
            str(PROJECT_ROOT / "pyproject.toml"),
            "--rootdir",
            str(PROJECT_ROOT),
            str(test_file),
        ],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "4 passed, 3 errors" in output, output
    assert "ERROR at teardown of test_bad_card" in output, output
    assert "ERROR at teardown of test_wide_card" in output, output
    assert "ERROR at teardown of test_stray_route" in output, output
    assert 'Unknown element type "Sparkline"' in output, output
    assert 'DuplicateId: Duplicate Id "a"' in output, output
    assert 'Property "labelPosition" is supported in version 1.6' in output, output
    # The rendering check: the element the renderer drops, the card wider than a Teams card.
    dropped = "render (light, dark): dropped: $.body[0] (Sparkline): the renderer does not know it"
    assert dropped in output, output
    assert "render (light, dark): too wide: $: the card is" in output, output
    assert "unexpected request GET /v3/conversations: no such Bot Framework connector route" in output, output
