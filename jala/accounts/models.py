"""Member libraries, users, their roles and sessions, and one-time tokens."""

from jala import clock
from jala.extensions import db

ROLE_LIBRARIAN = "librarian"
ROLE_LIBRARY_ADMIN = "library_admin"
ROLE_COMMITTEE_MEMBER = "committee_member"
ROLE_PORTAL_ADMIN = "portal_admin"
STAFF_ROLES = (ROLE_LIBRARIAN, ROLE_LIBRARY_ADMIN, ROLE_COMMITTEE_MEMBER, ROLE_PORTAL_ADMIN)
# the password hash of an account with no password: no argon2 hash starts like this
NO_PASSWORD = "!"


class Library(db.Model):
    """A member library (成员馆), current or former; ``code`` is immutable and upper case."""

    __tablename__ = "libraries"

    id = db.Column(db.Integer, primary_key=True)
    code = db.Column(db.String(16), nullable=False, unique=True)
    name_zh = db.Column(db.String(100), nullable=False)
    name_en = db.Column(db.String(200), nullable=False)
    city = db.Column(db.String(50), nullable=False)
    city_en = db.Column(db.String(50), nullable=False)
    joined_on = db.Column(db.Date, nullable=False)
    # False when the sources only say the library joined on or before ``joined_on``
    join_date_exact = db.Column(db.Boolean, nullable=False, default=True)
    founding = db.Column(db.Boolean, nullable=False, default=False)
    left_on = db.Column(db.Date)
    website = db.Column(db.String(200))
    # what a reader looks for on the library's page (``jala library-info`` changes them)
    address = db.Column(db.String(300))
    opening_hours = db.Column(db.String(300))
    phone = db.Column(db.String(50))
    email = db.Column(db.String(254))

    __table_args__ = (
        db.CheckConstraint("code = upper(code) AND code ~ '^[A-Z][A-Z0-9]{1,15}$'",
                           name="code_upper"),
    )

    def __repr__(self):
        return f"<Library {self.code}>"


class ChairTerm(db.Model):
    """The chair library (轮值主任馆) of one calendar year."""

    __tablename__ = "chair_terms"

    year = db.Column(db.Integer, primary_key=True, autoincrement=False)
    library_id = db.Column(db.Integer, db.ForeignKey("libraries.id"), nullable=False)
    # set when the library takes office (at the handover); planned terms have none yet
    took_office_at = db.Column(db.DateTime(timezone=True))
    approved_by_item_id = db.Column(db.Integer)
    library = db.relationship(Library)


class User(db.Model):
    """A person with a portal account: a reader of a member library, or a public user."""

    __tablename__ = "users"

    id = db.Column(db.Integer, primary_key=True)
    email = db.Column(db.String(254), nullable=False)
    email_confirmed_at = db.Column(db.DateTime(timezone=True))
    password_hash = db.Column(db.String(255), nullable=False)
    display_name = db.Column(db.String(100), nullable=False)
    home_library_id = db.Column(db.Integer, db.ForeignKey("libraries.id"))
    card_number = db.Column(db.String(40))
    # student / faculty / staff, as the library's sign-on service said (None: not told)
    reader_type = db.Column(db.String(10))
    verified_at = db.Column(db.DateTime(timezone=True))
    verified_by_id = db.Column(db.Integer, db.ForeignKey("users.id"))
    totp_secret = db.Column(db.String(64))
    totp_enabled_at = db.Column(db.DateTime(timezone=True))
    totp_last_step = db.Column(db.BigInteger)
    locale = db.Column(db.String(10))
    disabled_at = db.Column(db.DateTime(timezone=True))
    created_at = db.Column(db.DateTime(timezone=True), nullable=False, default=clock.now)

    home_library = db.relationship(Library, foreign_keys=[home_library_id])
    grants = db.relationship(
        "RoleGrant",
        primaryjoin="and_(User.id == RoleGrant.user_id, RoleGrant.revoked_at.is_(None))",
        viewonly=True,
        lazy="selectin",
    )

    __table_args__ = (
        db.Index("uq_users_email_lower", db.func.lower(email), unique=True),
        db.Index(
            "uq_users_library_card",
            home_library_id,
            card_number,
            unique=True, postgresql_where=db.text("card_number IS NOT NULL"), ),
        db.CheckConstraint(
            "(home_library_id IS NULL) = (card_number IS NULL)", name="card_with_library"
        ),
        db.CheckConstraint("reader_type IN ('student', 'faculty', 'staff')",
                           name="known_reader_type"),
    )

    # flask-login protocol; ``auth_session_id`` is set when the user is loaded for a request
    auth_session_id = None
    is_anonymous = False

    @property
    def is_authenticated(self):
        return True

    @property
    def is_active(self):
        return self.disabled_at is None

    def get_id(self):
        return self.auth_session_id

    @property
    def has_password(self):
        """Accounts made by campus sign-on have none until the person sets one."""
        return not self.password_hash.startswith(NO_PASSWORD)

    @property
    def is_public_user(self):
        """A public user (社会用户) has no home member library."""
        return self.home_library_id is None

    @property
    def is_verified_reader(self):
        return self.home_library_id is not None and self.verified_at is not None

    def has_role(self, role, library_id=None):
        """Whether the user holds ``role`` (at ``library_id`` when given)."""
        return any(
            g.role == role and (library_id is None or g.library_id == library_id)
            for g in self.grants
        )

    @property
    def is_staff(self):
        return any(g.role in STAFF_ROLES for g in self.grants)

    @property
    def is_portal_admin(self):
        return self.has_role(ROLE_PORTAL_ADMIN)

    def libraries_with_role(self, *roles):
        """Ids of the libraries where the user holds any of ``roles``."""
        return {g.library_id for g in self.grants if g.role in roles}

    def __repr__(self):
        return f"<User {self.id} {self.email}>"


class RoleGrant(db.Model):
    """A staff role held at one library; revoked grants are kept for the record."""

    __tablename__ = "role_grants"

    id = db.Column(db.Integer, primary_key=True)
    user_id = db.Column(db.Integer, db.ForeignKey("users.id"), nullable=False)
    role = db.Column(db.String(32), nullable=False)
    library_id = db.Column(db.Integer, db.ForeignKey("libraries.id"), nullable=False)
    granted_at = db.Column(db.DateTime(timezone=True), nullable=False, default=clock.now)
    granted_by_id = db.Column(db.Integer, db.ForeignKey("users.id"))
    revoked_at = db.Column(db.DateTime(timezone=True))
    revoked_by_id = db.Column(db.Integer, db.ForeignKey("users.id"))

    user = db.relationship(User, foreign_keys=[user_id])
    library = db.relationship(Library)

    __table_args__ = (
        db.CheckConstraint(
            "role IN ('librarian', 'library_admin', 'committee_member', 'portal_admin')",
            name="known_role",
        ),
        db.Index(
            "uq_role_grants_committee_seat",
            library_id,
            unique=True,
            postgresql_where=db.text("role = 'committee_member' AND revoked_at IS NULL"), ),
        db.Index(
            "uq_role_grants_active",
            user_id,
            role,
            library_id,
            unique=True, postgresql_where=db.text("revoked_at IS NULL"), ),
    )


class AuthSession(db.Model):
    """A logged-in browser session; logout or idleness ends it on the server."""

    __tablename__ = "auth_sessions"

    id = db.Column(db.String(64), primary_key=True)
    user_id = db.Column(db.Integer, db.ForeignKey("users.id"), nullable=False, index=True)
    created_at = db.Column(db.DateTime(timezone=True), nullable=False, default=clock.now)
    last_seen_at = db.Column(db.DateTime(timezone=True), nullable=False, default=clock.now)
    ended_at = db.Column(db.DateTime(timezone=True))
    ip = db.Column(db.String(64))
    user_agent = db.Column(db.String(300))

    user = db.relationship(User)


class EmailToken(db.Model):
    """A single-use, expiring token sent by email (password reset, address confirmation)."""

    __tablename__ = "email_tokens"

    id = db.Column(db.Integer, primary_key=True)
    token_hash = db.Column(db.String(64), nullable=False, unique=True)
    purpose = db.Column(db.String(20), nullable=False)
    user_id = db.Column(db.Integer, db.ForeignKey("users.id"), nullable=False)
    created_at = db.Column(db.DateTime(timezone=True), nullable=False, default=clock.now)
    expires_at = db.Column(db.DateTime(timezone=True), nullable=False)
    used_at = db.Column(db.DateTime(timezone=True))

    user = db.relationship(User)
