"""Accounts: member libraries, users, roles, login with a second factor, the audit log."""
from flask import Blueprint

bp = Blueprint("accounts", __name__)
