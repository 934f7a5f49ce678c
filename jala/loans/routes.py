"""Thin views for loans."""
