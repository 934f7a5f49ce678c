"""Thin views for reference."""
