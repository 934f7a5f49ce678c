"""Thin views for special collections: the readers' pages, the staff's forms, IIIF."""
from flask import abort, flash, jsonify, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from wtforms.fields.choices import SelectChoice

from jala.accounts.models import Library
from jala.collections import bp, iiif
from jala.collections import services as collections
from jala.collections.dublin_core import ELEMENTS, label, type_name
from jala.collections.forms import CollectionForm, ImageForm, ItemForm
from jala.collections.manifest import build_manifest, image_service_id
from jala.extensions import db, limiter
from jala.membership import library_name
from jala.permissions import staff_library_ids
from jala.reading.forms import ConfirmForm
from jala.web import attempt, require_form

bp.add_app_template_global(collections.collection_titles, "collection_titles")
IIIF_MAX_AGE = 3600
IMAGE_UPLOAD_LIMIT = "20 per hour"


@bp.context_processor
def _names():
    return {"kind_names": collections.KIND_NAMES, "dc_label": label, "dc_elements": ELEMENTS,
            "dc_type_name": type_name}


# --- readers' pages ------------------------------------------------------------------------

@bp.get("/collections")
def index():
    """Every special collection with published items."""
    return render_template("collections/index.html", rows=collections.public_collections(),
                           can_manage=bool(current_user.is_authenticated
                                           and staff_library_ids(current_user)))


@bp.get("/collections/<id:collection_id>")
def collection(collection_id):
    """A collection and the items its readers may see."""
    found = collections.get_collection(collection_id)
    return render_template("collections/collection.html", collection=found,
                           items=collections.items_of(current_user, found),
                           can_edit=collections.can_edit(current_user, found))


@bp.get("/collections/items/<id:item_id>")
def item(item_id):
    """One item: its Dublin Core and its images in the IIIF viewer."""
    found = collections.get_item(current_user, item_id)
    images = [(image, iiif.viewing_size(image)) for image in found.images]
    return render_template("collections/item.html", item=found, images=images,
                           record=collections.record_of(found),
                           can_edit=collections.can_edit(current_user, found.collection),
                           step_form=ConfirmForm())


# --- staff ---------------------------------------------------------------------------------

def _collection_form(collection=None):
    form = CollectionForm(obj=collection)
    libraries = {lib.id: lib for lib in _staff_libraries()}
    form.library_id.choices = [SelectChoice(lib_id, library_name(lib))
                              for lib_id, lib in libraries.items()]
    form.kind.choices = [SelectChoice(k, str(v)) for k, v in collections.KIND_NAMES.items()]
    return form


def _staff_libraries():
    ids = staff_library_ids(current_user)
    return [db.session.get(Library, lib_id) for lib_id in sorted(ids)]


@bp.route("/collections/manage", methods=["GET", "POST"])
@login_required
def manage():
    """The staff's collections, and a form to start one."""
    form = _collection_form()
    if request.method == "POST":
        made, refusal = attempt(lambda: collections.create_collection(
            current_user, require_form(form).library_id.data, title=form.title.data,
            description=form.description.data, kind=form.kind.data), form=form)
        if refusal is None:
            flash(_("The collection is started: now describe its items."), "success")
            return redirect(url_for("collections.collection", collection_id=made.id), code=303)
    elif not staff_library_ids(current_user):
        abort(403)
    return render_template("collections/manage.html", form=form,
                           mine=collections.staff_collections(current_user),
                           ), 400 if form.errors else 200


@bp.route("/collections/<id:collection_id>/edit", methods=["GET", "POST"])
@login_required
def edit_collection(collection_id):
    """Change a collection's title, description or kind."""
    found = collections.get_collection(collection_id)
    form = _collection_form(found)
    if request.method == "POST":
        _done, refusal = attempt(lambda: collections.update_collection(
            current_user, collection_id, title=require_form(form).title.data,
            description=form.description.data, kind=form.kind.data), form=form)
        if refusal is None:
            flash(_("The collection is saved."), "success")
            return redirect(url_for("collections.collection", collection_id=found.id), code=303)
    elif not collections.can_edit(current_user, found):
        abort(403)
    return render_template("collections/collection_form.html", form=form, collection=found
                           ), 400 if form.errors else 200


def _dc_from(form):
    return {element: form[f"dc_{element}"].data or "" for element in ELEMENTS}


def _item_form(item=None):
    form = ItemForm(formdata=None) if item is not None else ItemForm()
    if item is not None:
        for element in ELEMENTS:
            form[f"dc_{element}"].data = "\n".join(item.dc.get(element, []))
    return form


@bp.route("/collections/<id:collection_id>/items/new", methods=["GET", "POST"])
@login_required
def new_item(collection_id):
    """Describe a new item in Dublin Core (a draft)."""
    found = collections.get_collection(collection_id)
    form = ItemForm()
    if request.method == "POST":
        made, refusal = attempt(lambda: collections.create_item(
            current_user, collection_id, _dc_from(require_form(form))), form=form)
        if refusal is None:
            flash(_("The item is saved as a draft: add its images, then publish it."),
                  "success")
            return redirect(url_for("collections.edit_item", item_id=made.id), code=303)
    elif not collections.can_edit(current_user, found):
        abort(403)
    return render_template("collections/item_form.html", form=form, collection=found,
                           item=None), 400 if form.errors else 200


@bp.route("/collections/items/<id:item_id>/edit", methods=["GET", "POST"])
@login_required
def edit_item(item_id):
    """Change an item's Dublin Core; add images; publish or withdraw it."""
    found = collections.get_item(current_user, item_id)
    if not collections.can_edit(current_user, found.collection):
        abort(403)
    form = ItemForm() if request.method == "POST" else _item_form(found)
    if request.method == "POST":
        _done, refusal = attempt(lambda: collections.update_item(
            current_user, item_id, _dc_from(require_form(form))), form=form)
        if refusal is None:
            flash(_("The item's description is saved."), "success")
            return redirect(url_for("collections.edit_item", item_id=item_id), code=303)
    return _edit_page(found, form=form)


def _edit_page(found, form=None, image_form=None, status=None):
    form = form or _item_form(found)
    status = status or (400 if form.errors or (image_form and image_form.errors) else 200)
    return render_template("collections/item_form.html", form=form, collection=found.collection,
                           item=found, image_form=image_form or ImageForm(formdata=None),
                           step_form=ConfirmForm()), status


@bp.post("/collections/items/<id:item_id>/images")
@login_required
# decoding and tiling happen in the request: a budget per librarian
@limiter.limit(IMAGE_UPLOAD_LIMIT, key_func=lambda: f"collections-image:{current_user.id}")
def add_image(item_id):
    """Upload an image of the item (its IIIF tiles are cut now)."""
    image_form = ImageForm()
    _done, refusal = attempt(lambda: collections.add_image(
        current_user, item_id, require_form(image_form).image.data, image_form.label.data),
        form=image_form)
    if refusal is None:
        flash(_("The image is added."), "success")
        return redirect(url_for("collections.edit_item", item_id=item_id), code=303)
    found = collections.get_item(current_user, item_id)
    return _edit_page(found, image_form=image_form, status=refusal.status)


def _item_step(item_id, service, message):
    form = ConfirmForm()

    def step():
        require_form(form)
        return service(current_user, item_id)
    _done, refusal = attempt(step, reraise=(403, 404))
    if refusal is None:
        flash(message, "success")
    else:
        flash(refusal.message, "error")
    return redirect(url_for("collections.edit_item", item_id=item_id), code=303)


@bp.post("/collections/items/<id:item_id>/publish")
@login_required
def publish_item(item_id):
    """Publish the item: readers see it and the union search finds it."""
    return _item_step(item_id, collections.publish_item,
                      _("The item is published: readers find it in the search."))


@bp.post("/collections/items/<id:item_id>/withdraw")
@login_required
def withdraw_item(item_id):
    """Take the item back to a draft (out of the search)."""
    return _item_step(item_id, collections.withdraw_item,
                      _("The item is withdrawn: only your library's staff see it."))


# --- IIIF ----------------------------------------------------------------------------------

def _cors(response, max_age=IIIF_MAX_AGE, vary_accept=False):
    response.headers["Access-Control-Allow-Origin"] = "*"
    if vary_accept:  # the Content-Type follows Accept: a shared cache keeps one per Accept
        response.vary.add("Accept")
    response.headers["Cache-Control"] = f"public, max-age={max_age}" \
        if max_age else "private, no-store"
    return response


def _public(found_published):
    return IIIF_MAX_AGE if found_published else 0


@bp.get("/iiif/3/<key>")
def iiif_image_base(key):
    """The image service's base URI sends viewers on to its info.json."""
    image = collections.get_image(current_user, key)
    return _cors(redirect(url_for("collections.iiif_info", key=key), code=303),
                 _public(image.item.is_published))


@bp.get("/iiif/3/<key>/info.json")
def iiif_info(key):
    """The image's info.json (Image API 3.0, level 0)."""
    image = collections.get_image(current_user, key)
    response = jsonify(iiif.info_json(image, image_service_id(image)))
    accept = request.headers.get("Accept", "")
    if "application/ld+json" in accept:
        response.mimetype = "application/ld+json"
        response.headers["Content-Type"] = ('application/ld+json;profile='
                                            '"http://iiif.io/api/image/3/context.json"')
    return _cors(response, _public(image.item.is_published), vary_accept=True)


@bp.get("/iiif/3/<key>/<region>/<size>/<rotation>/<quality>.<fmt>")
def iiif_image(key, region, size, rotation, quality, fmt):
    """A tile or a size of the image, as the tile set has it (else 404: level 0)."""
    image = collections.get_image(current_user, key)
    path = iiif.tile_file(image, region, size, rotation, quality, fmt)
    if path is None:
        return _cors(jsonify(error="This region and size are not in the image's tile set."),
                     0), 404
    return _cors(send_file(path, mimetype="image/jpeg", max_age=0),
                 _public(image.item.is_published))


@bp.get("/iiif/3/<id:item_id>/manifest.json")
def iiif_manifest(item_id):
    """The item's IIIF Presentation 3.0 manifest."""
    found = collections.get_item(current_user, item_id)
    library = found.collection.library
    response = jsonify(build_manifest(found, (library.name_zh, library.name_en)))
    if "application/ld+json" in request.headers.get("Accept", ""):
        response.headers["Content-Type"] = ('application/ld+json;profile='
                                            '"http://iiif.io/api/presentation/3/context.json"')
    return _cors(response, _public(found.is_published), vary_accept=True)
