"""The Microsoft Teams adapter: aiohttp app, Bot Framework endpoint, handlers and cards."""
