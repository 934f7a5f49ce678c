"""Demo data for a new installation: one account for every role (``jala seed-demo``)."""
import pyotp

from jala import clock
from jala.accounts.models import (
    ROLE_COMMITTEE_MEMBER,
    ROLE_LIBRARIAN,
    ROLE_LIBRARY_ADMIN,
    ROLE_PORTAL_ADMIN,
)
from jala.accounts.services import (
    create_user_with_role,
    current_chair_library,
    find_user_by_email,
    register_user,
)
from jala.extensions import db

DEMO_PASSWORD = "jala-demo-2026"


def _demo_accounts(chair_code):
    # email, name, library, card, role (None: reader), verified, second factor
    return [
        ("reader@demo.jala", "示例读者 Demo Reader", "JXUFE", "JX2026001", None, True, False),
        ("newreader@demo.jala", "待验证读者 New Reader", "ECJTU", "EC2026002", None, False, False),
        ("public@demo.jala", "社会用户 Public User", None, None, None, False, False),
        ("librarian@demo.jala", "馆员 Librarian", "JXUFE", "JX-STAFF-01", ROLE_LIBRARIAN, True,
         True),
        ("libadmin@demo.jala", "馆管理员 Library Admin", "JXUFE", "JX-STAFF-02",
         ROLE_LIBRARY_ADMIN, True, True),
        ("committee@demo.jala", "委员 Committee Member", "JXUFE", "JX-STAFF-03",
         ROLE_COMMITTEE_MEMBER, True, True),
        ("admin@demo.jala", "门户管理员 Portal Admin", chair_code, "CHAIR-ADMIN-01",
         ROLE_PORTAL_ADMIN, True, True),
    ]


def seed_demo():
    """Create the demo accounts that do not exist yet; returns lines to print."""
    chair = current_chair_library()
    lines = [f"Demo accounts (password for all: {DEMO_PASSWORD}):"]
    for email, name, library, card, role, verified, second_factor in _demo_accounts(chair.code):
        user = find_user_by_email(email)
        if user is None:
            if role:
                user = create_user_with_role(email=email, password=DEMO_PASSWORD,
                                             display_name=name, library_code=library, role=role,
                                             card_number=card)
            else:
                user = register_user(email=email, password=DEMO_PASSWORD, display_name=name,
                                     library_code=library, card_number=card)
                user.email_confirmed_at = clock.now()
                if verified:
                    user.verified_at = clock.now()
            if second_factor:
                user.totp_secret = pyotp.random_base32()
                user.totp_enabled_at = clock.now()
        label = role or ("public user" if library is None else
                         "reader" if verified else "reader awaiting verification")
        extra = f"  second factor: `jala totp-code {email}`" if user.totp_enabled_at else ""
        lines.append(f"  {label:<30} {email}{extra}")
    db.session.commit()
    return lines
