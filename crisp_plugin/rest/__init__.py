"""Async client of Crisp's REST API v1: every route, typed short forms, safe retries.

```python
from crisp_plugin.rest import RestClient

async with RestClient(identifier, key, urn="urn:acme:bot:1") as rest:
    await rest.send_message(website_id, session_id, "Hello!")
    await rest.website.get_conversation(website_id, session_id)  # any of the 229 routes
```
"""

from __future__ import annotations

from crisp_plugin.rest.client import ConversationStateName, RestClient
from crisp_plugin.rest.core import Body, Query, RestCore, Tier
from crisp_plugin.rest.limits import DailyQuota, RequestLimiter, RequestQuota, TokenBucket
from crisp_plugin.rest.models import (
    ConnectAccount,
    ConnectEndpoints,
    ConnectWebsite,
    Conversation,
    ConversationMeta,
    ConversationState,
    CreatedConversation,
    Message,
    MessageUser,
    PeopleProfile,
    SentMessage,
    SocketEndpoint,
    SubscriptionSettings,
)
from crisp_plugin.rest.retry import RetryPolicy, parse_retry_after
from crisp_plugin.rest.routes_table import ROUTES, Route

__all__ = [
    "ROUTES",
    "Body",
    "ConnectAccount",
    "ConnectEndpoints",
    "ConnectWebsite",
    "Conversation",
    "ConversationMeta",
    "ConversationState",
    "ConversationStateName",
    "CreatedConversation",
    "DailyQuota",
    "Message",
    "MessageUser",
    "PeopleProfile",
    "Query",
    "RequestLimiter",
    "RequestQuota",
    "RestClient",
    "RestCore",
    "RetryPolicy",
    "Route",
    "SentMessage",
    "SocketEndpoint",
    "SubscriptionSettings",
    "Tier",
    "TokenBucket",
    "parse_retry_after",
]
