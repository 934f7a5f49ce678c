"""The union cataloguing centre (联合编目中心).

Original records and corrections submitted by member cataloguers, reviewed by the centre,
downloaded as MARC for copy cataloguing.
"""
from flask import Blueprint

bp = Blueprint("cataloguing", __name__)
