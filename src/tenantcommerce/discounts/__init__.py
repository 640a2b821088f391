"""Discount codes of a store: percentage, fixed amount, free shipping; limits that hold under concurrency."""
