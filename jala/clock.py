"""The portal's clock: UTC instants, Asia/Shanghai dates, and a hook for tests to move time."""
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")
_offset = timedelta(0)
_frozen = None


def now():
    """Return the current instant (aware, UTC), as the tests may have set it."""
    if _frozen is not None:
        return _frozen
    return datetime.now(UTC) + _offset


def local_now():
    """Return the current time in Asia/Shanghai, where dates and daily limits are counted."""
    return now().astimezone(SHANGHAI)


def local_today():
    """Return today's date in Asia/Shanghai."""
    return local_now().date()


def start_of_day(day=None):
    """The instant a Shanghai day (today by default) begins, where daily limits are counted."""
    return datetime.combine(day or local_today(), time.min, tzinfo=SHANGHAI)


def first_of_month_back(months):
    """The first day of the month ``months - 1`` months before this one (Shanghai dates)."""
    first = local_today().replace(day=1)
    for _step in range(months - 1):
        first = (first - timedelta(days=1)).replace(day=1)
    return first


def advance(delta):
    """Move the clock forward (tests only)."""
    global _offset, _frozen
    if _frozen is not None:
        _frozen = _frozen + delta
    else:
        _offset += delta


def freeze(instant):
    """Stop the clock at ``instant`` (tests only)."""
    global _frozen
    _frozen = instant


def reset():
    """Return to the real clock."""
    global _offset, _frozen
    _offset = timedelta(0)
    _frozen = None
