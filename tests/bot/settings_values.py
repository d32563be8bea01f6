"""Settings of a production deployment, all fictional, for tests that start the bot as production."""

from __future__ import annotations

#: Credentials of a production deployment (all fictional).
PRODUCTION = {
    "FRONTDOOR_ENV": "production",
    "MicrosoftAppId": "00000000-0000-0000-0000-000000000001",
    "MicrosoftAppPassword": "not-a-real-secret",
    "MicrosoftAppTenantId": "00000000-0000-0000-0000-0000000000aa",
    "FRONTDOOR_TENANTS": "tenant-a",
}
