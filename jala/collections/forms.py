"""Special collections forms (Flask-WTF: CSRF on every one)."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from jala.collections.dublin_core import ELEMENTS, label
from jala.collections.models import COLLECTION_KINDS


class CollectionForm(FlaskForm):
    """A collection: its library, title, description and kind."""

    library_id = SelectField(_l("Library building the collection"), coerce=int)
    title = StringField(_l("Collection title"), validators=[DataRequired(), Length(max=200)])
    description = TextAreaField(_l("About the collection"), validators=[Length(max=5000)])
    kind = SelectField(_l("Kind of collection"),
                       choices=[SelectChoice(k, k) for k in COLLECTION_KINDS])


class ItemForm(FlaskForm):
    """An item's Dublin Core: one box per element, one value a line."""

    @classmethod
    def element_fields(cls):
        return ELEMENTS


for _element in ELEMENTS:
    setattr(ItemForm, f"dc_{_element}", TextAreaField(label(_element)))


class ImageForm(FlaskForm):
    """An image of an item (PNG, JPEG or TIFF)."""

    image = FileField(_l("Image (PNG, JPEG or TIFF)"))
    label = StringField(_l("Caption of the image"), validators=[Length(max=200)])

