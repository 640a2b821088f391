"""Carts: server-side, per store, addressed by an unguessable token (guests) or by the signed-in customer."""
