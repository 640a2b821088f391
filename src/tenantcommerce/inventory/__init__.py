"""Inventory: stock on hand and its history."""
