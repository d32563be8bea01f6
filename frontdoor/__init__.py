"""The domain core of the front door bot: standard library only."""
