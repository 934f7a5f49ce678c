"""Tables of news (新闻公告): an article of the centre or a member library, and its files."""
from jala import clock
from jala.accounts.models import Library, User
from jala.extensions import db
from jala.files import StoredFile

CATEGORIES = ("news", "notice", "decision", "commendation")


class News(db.Model):
    """A news item or notice; a draft until ``published_at`` is set (unpublishing clears it)."""

    __tablename__ = "news_items"

    id = db.Column(db.Integer, primary_key=True)
    # None: the alliance centre (the chair library's admins publish for it)
    library_id = db.Column(db.Integer, db.ForeignKey("libraries.id"), index=True)
    category = db.Column(db.String(16), nullable=False)
    title = db.Column(db.String(200), nullable=False)
    body = db.Column(db.Text, nullable=False)  # Markdown
    pinned = db.Column(db.Boolean, nullable=False, default=False)
    author_id = db.Column(db.Integer, db.ForeignKey("users.id"))
    created_at = db.Column(db.DateTime(timezone=True), nullable=False, default=clock.now)
    updated_at = db.Column(db.DateTime(timezone=True), nullable=False, default=clock.now)
    updated_by_id = db.Column(db.Integer, db.ForeignKey("users.id"))
    published_at = db.Column(db.DateTime(timezone=True))

    library = db.relationship(Library)
    author = db.relationship(User, foreign_keys=[author_id])
    updated_by = db.relationship(User, foreign_keys=[updated_by_id])
    attachments = db.relationship("NewsAttachment", order_by="NewsAttachment.id",
                                  lazy="selectin", back_populates="news")

    __table_args__ = (
        db.CheckConstraint(f"category IN {CATEGORIES}", name="known_category"),
        db.Index("ix_news_items_published_at", published_at,
                 postgresql_where=db.text("published_at IS NOT NULL")),
    )

    @property
    def is_published(self):
        """Whether readers see it."""
        return self.published_at is not None

    @property
    def images(self):
        """The attached pictures, in upload order."""
        return [a for a in self.attachments if a.is_image]

    @property
    def documents(self):
        """The attached documents (PDF), in upload order."""
        return [a for a in self.attachments if not a.is_image]


class NewsAttachment(db.Model):
    """A picture or a PDF attached to a news item (kept privately, shown through signed links)."""

    __tablename__ = "news_attachments"

    id = db.Column(db.Integer, primary_key=True)
    news_id = db.Column(db.Integer, db.ForeignKey("news_items.id", ondelete="CASCADE"),
                        nullable=False, index=True)
    file_id = db.Column(db.Integer, db.ForeignKey("stored_files.id"), nullable=False)
    is_image = db.Column(db.Boolean, nullable=False)
    created_at = db.Column(db.DateTime(timezone=True), nullable=False, default=clock.now)

    news = db.relationship(News, back_populates="attachments")
    file = db.relationship(StoredFile, lazy="joined")
