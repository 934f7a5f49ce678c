"""Commendations (先进集体、先进个人) and book lists (书单)."""
