"""Webhooks for the site's own services, following the Standard Webhooks specification.

Endpoints (URL, secret, events) are configured in the admin; every event makes one delivery per
subscribed endpoint, which the worker sends with exponential backoff and logs (attempts, status,
last error). Bodies are signed with the `standardwebhooks` package: `webhook-id`,
`webhook-timestamp` and `webhook-signature` headers, verifiable by any Standard Webhooks library.
"""
