"""Special collections (特色资源数据库).

Member libraries' local and special resources with Dublin Core metadata, images through IIIF.
"""
from flask import Blueprint

bp = Blueprint("collections", __name__)
