"""Discovery: /discover (a personal feed of the server's own work), /similar, "More like this" on
every result, and the signals that shape feeds (bot/discovery has the ranking and its state)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.core.client import AtelierClient

__all__ = ["setup"]


async def setup(bot: AtelierClient) -> None:
    """Build the discovery service, add the cog and buttons, follow deliveries and embeddings."""
    from bot.discovery.repository import DiscoveryRepository
    from bot.discovery.service import DiscoveryService
    from bot.exts.discover.buttons import BUTTONS, more_button
    from bot.exts.discover.cog import DiscoverCog

    services = bot.services
    runtime = services.deliverer.runtime
    discovery = DiscoveryService(
        DiscoveryRepository(runtime.database), services.settings.discovery, runtime.celery
    )
    await discovery.start()
    cog = DiscoverCog(services, discovery)
    await bot.add_cog(cog)
    bot.add_dynamic_items(*BUTTONS)
    services.result_buttons.add("discover.more", more_button, priority=600)
    services.deliverer.event_listeners.append(discovery.on_event)
    services.deliverer.delivered_listeners.append(cog.on_delivered)


async def teardown(bot: AtelierClient) -> None:
    from bot.exts.discover.buttons import BUTTONS
    from bot.exts.discover.cog import DiscoverCog

    bot.remove_dynamic_items(*BUTTONS)
    bot.services.result_buttons.remove("discover.more")
    cog = bot.get_cog("DiscoverCog")
    if isinstance(cog, DiscoverCog):
        deliverer = bot.services.deliverer
        deliverer.event_listeners[:] = [f for f in deliverer.event_listeners if f != cog.discovery.on_event]
        deliverer.delivered_listeners[:] = [f for f in deliverer.delivered_listeners if f != cog.on_delivered]
