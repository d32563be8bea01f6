"""Test harness: a loopback Teams channel and Microsoft's Adaptive Cards SDK."""
