"""Prometheus metrics per store, with a bounded label set.

The first ``TC_METRICS_STORE_LABELS`` stores seen get their own ``store`` label value (their slug); later stores share
``_other``, and requests without a store use ``_platform``. Routes are labelled by their template, never by the raw
path, so the series count stays bounded.
"""

from __future__ import annotations

import threading

from prometheus_client import CollectorRegistry, Counter, Histogram

OTHER_STORES = "_other"
NO_STORE = "_platform"


class StoreLabels:
    """Hands out at most ``limit`` distinct store labels."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._known: set[str] = set()
        self._lock = threading.Lock()

    def label(self, slug: str | None) -> str:
        """The label value for a store slug (``None`` for platform requests)."""
        if slug is None:
            return NO_STORE
        if slug in self._known:
            return slug
        with self._lock:
            if slug in self._known:
                return slug
            if len(self._known) < self.limit:
                self._known.add(slug)
                return slug
        return OTHER_STORES


class Metrics:
    """The app's metrics, in a registry of its own (several apps in one process do not collide)."""

    def __init__(self, store_label_limit: int) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.stores = StoreLabels(store_label_limit)
        self.requests = Counter(
            "tenantcommerce_http_requests",
            "HTTP requests answered, by store, method, route template and status.",
            ["store", "method", "route", "status"],
            registry=self.registry,
        )
        self.errors = Counter(
            "tenantcommerce_http_errors",
            "HTTP requests answered with a 5xx status, by store and route template.",
            ["store", "route"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "tenantcommerce_http_request_duration_seconds",
            "Time to answer an HTTP request, by store and route template.",
            ["store", "route"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
            registry=self.registry,
        )
        self.plugin_failures = Counter(
            "tenantcommerce_plugin_failures",
            "Plugin calls that failed, by plugin, hook or provider call, and reason (error or timeout).",
            ["plugin", "call", "reason"],
            registry=self.registry,
        )
        self.event_deliveries = Counter(
            "tenantcommerce_event_deliveries",
            "Event deliveries to plugins by the outbox worker, by event and outcome (delivered or failed).",
            ["event", "outcome"],
            registry=self.registry,
        )
        self.orders = Counter(
            "tenantcommerce_orders_placed",
            "Orders placed, by store and payment status at placement (paid, or pending: settles later).",
            ["store", "payment_status"],
            registry=self.registry,
        )
        self.payments = Counter(
            "tenantcommerce_payments",
            "Payment attempts at checkout, by store, gateway and outcome (the gateway's status, or error).",
            ["store", "gateway", "status"],
            registry=self.registry,
        )
        self.payment_events = Counter(
            "tenantcommerce_payment_events",
            "Payment provider webhook events, by gateway, kind and outcome (applied, ignored, flagged, duplicate).",
            ["gateway", "kind", "outcome"],
            registry=self.registry,
        )
        self._series: dict[tuple[str, str, str, int], tuple[Counter, Counter | None, Histogram]] = {}

    def plugin_failure(self, plugin_id: str, call: str, reason: str) -> None:
        """Count a failed plugin call (plugins and calls are bounded sets: installed code)."""
        self.plugin_failures.labels(plugin_id, call, reason).inc()

    def event_delivery(self, event: str, outcome: str) -> None:
        """Count one delivery attempt of an event to a plugin."""
        self.event_deliveries.labels(event, outcome).inc()

    def order_placed(self, store: str, payment_status: str) -> None:
        """Count an order placed in ``store`` (a slug; stores beyond the label limit share one label)."""
        self.orders.labels(self.stores.label(store), payment_status).inc()

    def payment_attempt(self, store: str, gateway: str, status: str) -> None:
        """Count a payment the checkout asked a gateway for."""
        self.payments.labels(self.stores.label(store), gateway, status).inc()

    def payment_event(self, gateway: str, kind: str, outcome: str) -> None:
        """Count a provider webhook event (gateways and kinds are bounded sets)."""
        self.payment_events.labels(gateway, kind, outcome).inc()

    def observe(self, *, store: str | None, method: str, route: str, status: int, seconds: float) -> None:
        """Record one answered request."""
        label = self.stores.label(store)
        key = (label, method, route, status)
        series = self._series.get(key)
        if series is None:
            # Looked up once per label set (a bounded number), then reused: labels() costs a lock and a dict.
            series = self._series[key] = (
                self.requests.labels(label, method, route, str(status)),
                self.errors.labels(label, route) if status >= 500 else None,
                self.latency.labels(label, route),
            )
        requests, errors, latency = series
        requests.inc()
        if errors is not None:
            errors.inc()
        latency.observe(seconds)
