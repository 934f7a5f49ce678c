"""Campus sign-on (统一身份认证): each member library's own OIDC, CAS or SAML provider."""
from flask import Blueprint

bp = Blueprint("signon", __name__)
