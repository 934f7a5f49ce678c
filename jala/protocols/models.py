"""What the protocols keep: each member library's SIP2 server."""
from jala import clock
from jala.extensions import db

ENCODINGS = ("utf-8", "gb18030", "cp850")


class Sip2Endpoint(db.Model):
    """A member library's SIP2 server, asked for the live status of the library's items."""

    __tablename__ = "sip2_endpoints"

    library_id = db.Column(db.Integer, db.ForeignKey("libraries.id"), primary_key=True,
                           autoincrement=False)
    host = db.Column(db.String(253), nullable=False)
    port = db.Column(db.Integer, nullable=False)
    # AO: the institution id the library's system expects in every request
    institution_id = db.Column(db.String(64), nullable=False, default="")
    # 93 login (CN, CO, CP); without a user the portal asks without logging in
    login_user = db.Column(db.String(64))
    # the login password, encrypted with a key derived from SECRET_KEY (sip2_config.py)
    password_sealed = db.Column(db.Text)
    location_code = db.Column(db.String(64))
    encoding = db.Column(db.String(10), nullable=False, default="utf-8")
    updated_at = db.Column(db.DateTime(timezone=True), nullable=False, default=clock.now)
    updated_by_id = db.Column(db.Integer, db.ForeignKey("users.id"))

    library = db.relationship("Library")

    __table_args__ = (
        db.CheckConstraint("port BETWEEN 1 AND 65535", name="port_in_range"),
        db.CheckConstraint("encoding IN ('utf-8', 'gb18030', 'cp850')", name="known_encoding"),
    )
