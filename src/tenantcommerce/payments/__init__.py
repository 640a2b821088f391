"""Payments recorded against orders."""
