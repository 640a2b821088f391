"""Catalog: products, their variants and prices; the storefront's hot read path."""
