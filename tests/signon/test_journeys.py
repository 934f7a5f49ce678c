"""Through the portal with a real CAS: linking a password account, staff and the second factor,
a library that leaves."""
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from jala import clock
from jala.accounts.models import User
from jala.extensions import db
from jala.jobs import OutboxEmail
from jala.membership import get_library
from jala.signon.models import CampusIdentity
from jala.signon.providers import set_provider
from tests.support.factories import PASSWORD, current_code, make_user
from tests.support.web import login, post_form


@pytest.fixture
def ncu(cas_server, client):
    post_form(client, "/language", {"lang": "en"})
    return set_provider(None, "NCU", "cas", url=cas_server.url)


def english_browser(client):
    """A second browser of the same person, the UI in English."""
    fresh = client.application.test_client()
    post_form(fresh, "/language", {"lang": "en"})
    return fresh


def path_of(url):
    parts = urlsplit(url)
    return parts.path + ("?" + parts.query if parts.query else "")


def through_cas(client, cas_server, start_response, username):
    """Follow the portal's redirect to the CAS, sign in there; the portal's answer."""
    assert start_response.status_code == 303, start_response.get_data(as_text=True)
    return client.get(path_of(cas_server.sign_in(start_response.headers["Location"], username)))


def link_form(client, password=PASSWORD, library="NCU"):
    """The account page's "link campus account" form, sent."""
    return post_form(client, "/account/campus/link", {"library": library, "password": password},
                     token_from="/account")


def identities_of(user):
    return db_rows(select(CampusIdentity).where(CampusIdentity.user_id == user.id))


def db_rows(query):
    return db.session.execute(query).scalars().all()


def test_a_password_account_links_its_campus_identity_after_proving_both(
        client, cas_server, ncu):
    reader = make_user(library="NCU", verified=False, email="wu.lei@ncu.example.edu.cn")
    username = cas_server.add_user("20199001", mail="wu.lei@ncu.example.edu.cn", cn="吴磊",
                                   eduPersonAffiliation="faculty")
    login(client, reader)
    page = client.get("/account").get_data(as_text=True)
    assert "Link campus account" in page

    answer = through_cas(client, cas_server, link_form(client), username)

    assert answer.status_code == 303 and answer.headers["Location"].endswith("/account")
    [tie] = identities_of(reader)
    assert tie.subject == username and reader.is_verified_reader
    assert reader.reader_type == "faculty"
    # later: the campus sign-on alone lands in this same account
    post_form(client, "/logout", {})
    fresh = english_browser(client)
    back = through_cas(fresh, cas_server, fresh.get("/login/sso/NCU?next=/me"), username)
    assert back.status_code == 303 and back.headers["Location"].endswith("/me")
    assert "吴磊" in fresh.get("/account").get_data(as_text=True)


def test_the_same_email_never_signs_into_a_password_account(client, cas_server, ncu):
    owner = make_user(library="NCU", email="zhao.min@ncu.example.edu.cn")
    username = cas_server.add_user("20190002", mail="zhao.min@ncu.example.edu.cn", cn="赵敏")

    answer = through_cas(client, cas_server, client.get("/login/sso/NCU"), username)

    assert answer.status_code == 409
    assert "log in with its password" in answer.get_data(as_text=True)
    assert client.get("/account").status_code == 302
    assert identities_of(owner) == []


def test_linking_asks_for_the_portal_password_again(client, cas_server, ncu):
    reader = make_user(library="NCU", verified=False)
    login(client, reader)

    wrong = link_form(client, password="not the password")

    assert wrong.status_code == 303 and wrong.headers["Location"].endswith("/account")
    assert identities_of(reader) == [] and reader.verified_at is None


def test_an_account_made_by_campus_sign_on_has_no_password_to_link_with(
        client, cas_server, ncu):
    username = cas_server.add_user("20190003", mail="qian.li@ncu.example.edu.cn", cn="钱丽")
    assert through_cas(client, cas_server, client.get("/login/sso/NCU"), username) \
        .status_code == 303
    page = client.get("/account").get_data(as_text=True)
    assert "Link campus account" not in page and "no portal password" in page
    assert link_form(client, password="").status_code == 303


def test_a_link_finished_by_someone_else_signed_in_meanwhile_is_refused(
        client, cas_server, ncu):
    first = make_user(library="NCU", verified=False)
    username = cas_server.add_user("20190005", mail="x5@ncu.example.edu.cn", cn="甲")
    login(client, first)
    to_cas = link_form(client)
    post_form(client, "/logout", {})
    login(client, make_user(library="NCU", verified=False))  # another person, same browser

    answer = through_cas(client, cas_server, to_cas, username)

    assert answer.status_code in (400, 403)
    assert db_rows(select(CampusIdentity).where(CampusIdentity.subject == username)) == []


def test_linking_replaces_a_card_number_nobody_checked(client, cas_server, ncu):
    reader = make_user(library="NCU", verified=False)
    reader.card_number = "SOMEONE-ELSES"
    username = cas_server.add_user("20190006", mail="x6@ncu.example.edu.cn", cn="乙")
    login(client, reader)

    through_cas(client, cas_server, link_form(client), username)

    assert reader.is_verified_reader and reader.card_number == "20190006"
    [mail] = db_rows(select(OutboxEmail).where(OutboxEmail.kind == "account.campus_linked",
                                               OutboxEmail.to_addr == reader.email))
    assert "NCU" not in mail.subject


def test_an_unlinked_campus_account_signs_in_nobody(client, cas_server, ncu):
    reader = make_user(library="NCU")
    username = cas_server.add_user("20190007", mail=reader.email, cn="丙")
    login(client, reader)
    through_cas(client, cas_server, link_form(client), username)
    [tie] = identities_of(reader)

    assert post_form(client, f"/account/campus/{tie.id}/unlink", {},
                     token_from="/account").status_code == 303
    assert identities_of(reader) == []
    fresh = english_browser(client)
    assert through_cas(fresh, cas_server, fresh.get("/login/sso/NCU"), username) \
        .status_code == 409  # the address is the password account's: never signed into


def test_a_new_provider_of_the_library_cannot_take_over_the_old_ones_accounts(
        client, cas_server, short_ticket_cas_server, ncu):
    username = cas_server.add_user("20190008", mail="x8@ncu.example.edu.cn", cn="丁")
    through_cas(client, cas_server, client.get("/login/sso/NCU"), username)
    [reader] = db_rows(select(User).where(User.email == "x8@ncu.example.edu.cn"))
    set_provider(None, "NCU", "cas", url=short_ticket_cas_server.url)  # another server
    short_ticket_cas_server.add_user("20190008", mail="x8-new@ncu.example.edu.cn", cn="冒名")
    fresh = english_browser(client)

    answer = through_cas(fresh, short_ticket_cas_server, fresh.get("/login/sso/NCU"),
                         "20190008")

    # refused (the campus number is the old account's card), never signed into the old one
    assert answer.status_code == 409 and "20190008" in answer.get_data(as_text=True)
    assert fresh.get("/account").status_code == 302
    assert reader.email == "x8@ncu.example.edu.cn" and reader.display_name == "丁"
    assert len(identities_of(reader)) == 1


def test_a_graduate_signing_in_again_no_longer_borrows(client, cas_server, ncu):
    username = cas_server.add_user("20190009", mail="x9@ncu.example.edu.cn", cn="戊",
                                   eduPersonAffiliation="student")
    through_cas(client, cas_server, client.get("/login/sso/NCU"), username)
    [reader] = db_rows(select(User).where(User.email == "x9@ncu.example.edu.cn"))
    assert reader.is_verified_reader
    cas_server.add_user("20190009", mail="x9@ncu.example.edu.cn", cn="戊",
                        eduPersonAffiliation="alum")
    post_form(client, "/logout", {})

    through_cas(client, cas_server, client.get("/login/sso/NCU"), username)

    assert not reader.is_verified_reader and reader.reader_type is None


def test_staff_signing_in_through_the_cas_still_give_the_portal_code(client, cas_server, ncu):
    librarian = make_user(library="NCU", roles=("librarian",), email="sun.yu@ncu.example.edu.cn")
    username = cas_server.add_user("T0042", mail="sun.yu@ncu.example.edu.cn", cn="孙宇",
                                   eduPersonAffiliation="staff")
    login(client, librarian)
    through_cas(client, cas_server, link_form(client), username)
    post_form(client, "/logout", {})
    fresh = english_browser(client)

    answer = through_cas(fresh, cas_server, fresh.get("/login/sso/NCU"), username)

    assert answer.status_code == 303 and answer.headers["Location"].endswith("/login/code")
    assert fresh.get("/account").status_code == 302  # not signed in before the code
    done = post_form(fresh, "/login/code", {"code": current_code(librarian, 1)},
                     token_from="/login/code")
    assert done.status_code == 303
    assert fresh.get("/account").status_code == 200


def test_staff_skip_the_portal_code_when_the_library_trusts_the_cas_second_factor(
        client, cas_server, ncu):
    ncu.trust_provider_mfa = True
    librarian = make_user(library="NCU", roles=("librarian",), email="zhou.li@ncu.example.edu.cn")
    username = cas_server.add_user("T0043", mail="zhou.li@ncu.example.edu.cn", cn="周立",
                                   authnContextClass="mfa-gauth")
    login(client, librarian)
    through_cas(client, cas_server, link_form(client), username)
    fresh = english_browser(client)

    answer = through_cas(fresh, cas_server, fresh.get("/login/sso/NCU"), username)

    assert answer.status_code == 303 and not answer.headers["Location"].endswith("/login/code")
    assert fresh.get("/account").status_code == 200


def test_alliance_wide_roles_give_the_portal_code_even_when_the_cas_mfa_is_trusted(
        client, cas_server, ncu):
    ncu.trust_provider_mfa = True
    admin = make_user(library="NCU", roles=("librarian", "committee_member"),
                      email="wu.zhen@ncu.example.edu.cn")
    username = cas_server.add_user("T0044", mail="wu.zhen@ncu.example.edu.cn", cn="吴真",
                                   authnContextClass="mfa-gauth")
    login(client, admin)
    through_cas(client, cas_server, link_form(client), username)
    fresh = english_browser(client)

    answer = through_cas(fresh, cas_server, fresh.get("/login/sso/NCU"), username)

    assert answer.headers["Location"].endswith("/login/code")


def test_after_a_library_leaves_its_readers_are_told_why_at_sign_in(client, cas_server, ncu):
    username = cas_server.add_user("20190004", mail="he.jing@ncu.example.edu.cn", cn="何静")
    assert through_cas(client, cas_server, client.get("/login/sso/NCU"), username) \
        .status_code == 303
    get_library("NCU").left_on = clock.local_today()
    fresh = english_browser(client)

    refused = fresh.get("/login/sso/NCU")

    assert refused.status_code == 403
    assert "has left the alliance" in refused.get_data(as_text=True)
