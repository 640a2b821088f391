"""``POST /api/payments/{plugin_id}/webhook``: payment providers' webhooks (signature-verified by the plugin's
gateway, applied once per event; see :mod:`tenantcommerce.payments.webhooks`). Exempt from CSRF: no cookie is
involved, the signature is the proof."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.status_codes import HTTP_200_OK

from tenantcommerce.auth.admin_controllers import request_id
from tenantcommerce.errors import problem_responses
from tenantcommerce.payments.webhooks import WebhookReceipt, receive_webhook
from tenantcommerce.plugins.providers import WebhookRequest
from tenantcommerce.runtime import Runtime


class PaymentWebhooksController(Controller):
    """Where payment providers deliver events."""

    path = "/api/payments"
    tags = ["payments: webhooks"]

    @post("/{plugin_id:str}/webhook", status_code=HTTP_200_OK, responses=problem_responses(400, 404, 409, 502, 504))
    async def receive(
        self, request: Request[Any, Any, Any], runtime: NamedDependency[Runtime], plugin_id: FromPath[str]
    ) -> WebhookReceipt:
        """Verify the call with the plugin's gateway and apply the event once. 200 says what became of it
        (``applied``, ``ignored``, ``flagged``, ``duplicate``); 400 a bad signature or body (nothing written); 409
        the payment is not recorded yet (the provider delivers again later)."""
        body = await request.body()
        headers = {name.lower(): value for name, value in request.headers.items()}
        webhook = WebhookRequest(headers=headers, body=body)
        return await receive_webhook(runtime, plugin_id, webhook, request_id=request_id(request))
