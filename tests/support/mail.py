"""The emails a test caused: the outbox rows (in the test's transaction)."""
from sqlalchemy import select

from jala.extensions import db
from jala.jobs import OutboxEmail


def emails_to(address, kind=None):
    """The outbox rows to ``address`` (of one ``kind`` if given), oldest first."""
    query = select(OutboxEmail).where(OutboxEmail.to_addr == address)
    if kind:
        query = query.where(OutboxEmail.kind == kind)
    return db.session.execute(query.order_by(OutboxEmail.id)).scalars().all()
