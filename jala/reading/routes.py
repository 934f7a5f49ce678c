"""Thin views for reading."""
