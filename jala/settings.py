"""Admin-editable settings (quotas, time limits) with typed defaults declared in code."""
from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.dialects.postgresql import JSONB

from jala import clock
from jala.audit import record_audit
from jala.errors import RuleViolation
from jala.extensions import db
from jala.permissions import require_portal_admin


class Setting(db.Model):
    """A value an admin changed from its default."""

    __tablename__ = "settings"

    key = db.Column(db.String(64), primary_key=True)
    value = db.Column(JSONB, nullable=False)
    updated_at = db.Column(db.DateTime(timezone=True), nullable=False, default=clock.now)
    updated_by_id = db.Column(db.Integer, db.ForeignKey("users.id"))


@dataclass(frozen=True)
class SettingSpec:
    """What a setting is: its default, bounds and the words shown to the admin."""

    key: str
    default: int
    minimum: int
    maximum: int
    label: object
    unit: object


SPECS = {}


def declare(key, default, minimum, maximum, label, unit=""):
    """Declare a setting (domains call this at import time)."""
    SPECS[key] = SettingSpec(key, default, minimum, maximum, label, unit)
    return SPECS[key]


declare("accounts.idle_timeout_minutes", 120, 5, 24 * 60, _l("Idle timeout"), _l("minutes"))
declare("accounts.reset_link_hours", 2, 1, 48, _l("Password reset link lifetime"), _l("hours"))
declare("files.link_days", 20, 1, 365, _l("Download link lifetime"), _l("days"))
declare("files.link_downloads", 20, 1, 1000, _l("Downloads per link"), _l("downloads"))
declare("delivery.requests_per_day", 10, 0, 1000, _l("Delivery requests per reader per day"))
declare("delivery.pages_per_request", 50, 1, 10000, _l("Pages per book request"), _l("pages"))
declare("delivery.book_share_percent", 20, 1, 100, _l("Share of one book per reader per week"), "%")
declare("delivery.public_requests_per_day", 3, 0, 1000,
        _l("Delivery requests per public user per day"))
declare("delivery.max_upload_mb", 30, 1, 50, _l("Maximum size of a delivered PDF"), "MB")
declare("delivery.response_hours", 24, 1, 24 * 14, _l("Response time before re-routing"),
        _l("hours"))


def get_setting(key):
    """Return the current value of a declared setting."""
    spec = SPECS[key]
    row = db.session.get(Setting, key)
    return spec.default if row is None else row.value


def all_settings():
    """Return ``[(spec, value)]`` for every declared setting."""
    stored = {row.key: row.value for row in db.session.query(Setting).all()}
    return [(spec, stored.get(spec.key, spec.default)) for spec in SPECS.values()]


def change_setting(key, raw_value, actor):
    """Set a declared setting after checking its bounds; writes the audit entry."""
    require_portal_admin(actor)
    spec = SPECS.get(key)
    if spec is None:
        raise RuleViolation(_("Unknown setting %(key)s.", key=key))
    try:
        value = int(str(raw_value).strip())
    except ValueError as exc:
        raise RuleViolation(_("%(label)s: a whole number is needed.", label=spec.label)) from exc
    if not spec.minimum <= value <= spec.maximum:
        raise RuleViolation(_("%(label)s: must be between %(low)d and %(high)d.", label=spec.label,
                              low=spec.minimum, high=spec.maximum))
    row = db.session.get(Setting, key)
    old = spec.default if row is None else row.value
    if row is None:
        row = Setting(key=key, value=value, updated_by_id=actor.id)
        db.session.add(row)
    else:
        row.value = value
        row.updated_by_id = actor.id
        row.updated_at = clock.now()
    record_audit(actor, "setting.change", "setting", key, details={"from": old, "to": value})
    db.session.flush()
    return value
