"""A member library's page: where it is, when it is open, how to reach it; its admin edits it."""
import re

import pytest

from jala.core.libraries import update_library_details
from jala.errors import NotAllowed, RuleViolation
from jala.membership import member_libraries
from tests.support.factories import make_user
from tests.support.web import as_user, post_form


def test_every_member_library_has_an_address_and_opening_hours(ctx):
    for library in member_libraries():
        assert library.address and library.city in library.address
        assert library.opening_hours


def test_the_library_page_shows_address_hours_contact_and_a_map_link(client):
    update_library_details(None, "NCU", phone="0791-8396 9000", email="lib@ncu.example.cn")
    html = client.get("/libraries/NCU").get_data(as_text=True)
    assert "江西省南昌市红谷滩区学府大道999号" in html and "8:00–22:00" in html
    assert 'href="tel:0791-83969000"' in html and 'href="mailto:lib@ncu.example.cn"' in html
    assert re.search(r'href="https://uri\.amap\.com/search\?keyword=[^"]*%E5%8D%97', html)
    assert "<script src=\"https://" not in html  # no external script for the map


def test_the_library_admin_edits_the_details(client):
    admin = make_user(library="JXAU", roles=("library_admin",))
    as_user(client, admin)
    assert "/libraries/JXAU/details" in client.get("/libraries/JXAU").get_data(as_text=True)
    response = post_form(client, "/libraries/JXAU/details", {
        "address": "江西省南昌市志敏大道1101号 图书馆", "opening_hours": "周一至周五 8:00–21:30",
        "phone": "0791-1234567", "email": "", "website": "https://lib.example.cn"},
        token_from="/libraries/JXAU/details")
    assert response.status_code == 303
    html = client.get("/libraries/JXAU").get_data(as_text=True)
    assert "周一至周五 8:00–21:30" in html and "0791-1234567" in html


def test_others_cannot_edit_a_library_s_details(client):
    as_user(client, make_user(library="JXUFE", roles=("library_admin",)))
    assert client.get("/libraries/JXAU/details").status_code == 403
    assert "/libraries/JXAU/details" not in client.get("/libraries/JXAU").get_data(as_text=True)
    librarian = make_user(library="JXAU", roles=("librarian",))
    with pytest.raises(NotAllowed):
        update_library_details(librarian, "JXAU", phone="1")


def test_bad_details_are_refused(ctx):
    with pytest.raises(RuleViolation):
        update_library_details(None, "NCU", email="not-an-email")
    with pytest.raises(RuleViolation):
        update_library_details(None, "NCU", website="javascript:alert(1)")
