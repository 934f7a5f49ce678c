"""Accounts: member libraries and users, registration, login with a second factor, staff roles."""
from flask import Blueprint

bp = Blueprint("accounts", __name__)
