"""Helpers the tests share (fixtures stay in the conftest.py files).

Each module holds one kind of helper; look here before writing one in a test module.
"""
