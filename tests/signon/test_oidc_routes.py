"""Campus sign-on through OpenID Connect, end to end: the portal's pages, a real provider."""
import time
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from jala.accounts.models import AuthSession, User
from jala.extensions import db
from jala.membership import get_library
from jala.signon.models import CampusIdentity
from jala.signon.providers import set_provider
from jala.urls import external_url
from tests.support.oidc_provider import running_oidc_provider
from tests.support.silent_server import closed_port_url, silent_server


def callback_urls(app, *codes):
    with app.app_context():
        return [external_url("signon.callback", code=code) for code in codes]


@pytest.fixture(scope="module")
def campus(app):
    with running_oidc_provider(callback_urls(app, "NCU")) as provider:
        yield provider


@pytest.fixture(autouse=True)
def _no_campus_tampering(campus):
    yield
    campus.rewrite_id_token = None


@pytest.fixture
def short_wait(app):
    timeout = app.config["SIGNON_TIMEOUT_SECONDS"]
    app.config["SIGNON_TIMEOUT_SECONDS"] = 1
    yield
    app.config["SIGNON_TIMEOUT_SECONDS"] = timeout


def ncu_signs_in_at(provider=None, url=None):
    """NCU's campus sign-on goes to ``provider`` (or to ``url`` as if it were one)."""
    set_provider(None, "NCU", "oidc", url=url or provider.url,
                 client_id=provider.client_id if provider else "jala-portal",
                 client_secret=provider.client_secret if provider else "secret")
    db.session.commit()   # as `jala idp add` would; the test's outer transaction still ends it


@pytest.fixture
def ncu(db_session, campus):
    ncu_signs_in_at(campus)


def browser(app):
    """A fresh browser showing the portal in English."""
    client = app.test_client()
    with client.session_transaction() as session:
        session["lang"] = "en"
    return client


def go_to_provider(client, code="NCU"):
    response = client.get(f"/login/sso/{code}?next=/me")
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    return response.headers["Location"]


def come_back(client, callback_url):
    """The provider's redirect, followed by the browser."""
    parts = urlsplit(callback_url)
    return client.get(f"{parts.path}?{parts.query}")


def signed_in_user_id(client):
    """Whose portal session this browser holds (None: nobody is signed in)."""
    with client.session_transaction() as session:
        auth_session_id = session.get("_user_id")
    auth_session = db.session.get(AuthSession, auth_session_id) if auth_session_id else None
    return auth_session.user_id if auth_session and auth_session.ended_at is None else None


def student(provider, sub, **claims):
    return provider.set_user(sub, **{
        "email": f"{sub}@ncu.edu.cn", "name": "李华", "preferred_username": sub,
        "eduperson_scoped_affiliation": ["student@ncu.edu.cn"], **claims})


def accounts():
    return (db.session.execute(select(func.count()).select_from(User)).scalar_one(),
            db.session.execute(select(func.count()).select_from(CampusIdentity)).scalar_one())


def campus_sign_in(app, provider, sub):
    client = browser(app)
    response = come_back(client, provider.sign_in(go_to_provider(client), sub))
    return client, response


def test_first_sign_in_makes_a_verified_reader_of_that_library(app, ncu, campus):
    student(campus, "2023900101")

    client, response = campus_sign_in(app, campus, "2023900101")

    assert response.status_code == 303 and response.headers["Location"].endswith("/me")
    user = db.session.execute(
        select(User).where(User.email == "2023900101@ncu.edu.cn")).scalar_one()
    assert signed_in_user_id(client) == user.id
    assert user.home_library_id == get_library("NCU").id and user.is_verified_reader
    assert user.reader_type == "student" and user.display_name == "李华"
    assert not user.has_password


def test_a_second_sign_in_lands_in_the_same_account(app, ncu, campus):
    student(campus, "2023900102")
    first, _ = campus_sign_in(app, campus, "2023900102")
    before = accounts()

    again, response = campus_sign_in(app, campus, "2023900102")

    assert response.status_code == 303
    assert signed_in_user_id(again) == signed_in_user_id(first) is not None
    assert accounts() == before


def refused_with_nothing_made(client, response, status, text, before):
    page = response.get_data(as_text=True)
    assert response.status_code == status, page[:800]
    assert text in page
    assert signed_in_user_id(client) is None
    assert accounts() == before


def test_a_reader_who_cancels_at_the_provider_gets_a_kind_400(app, ncu, campus):
    before, client = accounts(), browser(app)

    response = come_back(client, campus.deny(go_to_provider(client)))

    refused_with_nothing_made(client, response, 400, "You cancelled the sign-in", before)


def test_a_callback_brought_to_another_browser_is_refused(app, ncu, campus):
    student(campus, "2023900103")
    before, theirs, mine = accounts(), browser(app), browser(app)
    their_callback = campus.sign_in(go_to_provider(theirs), "2023900103")
    go_to_provider(mine)

    response = come_back(mine, their_callback)

    refused_with_nothing_made(mine, response, 400, "not started in this browser", before)
    refused_with_nothing_made(browser(app), come_back(browser(app), their_callback), 400,
                              "not started in this browser", before)


def signed_by_nobody(id_token):
    header, payload, signature = id_token.split(".")
    return f"{header}.{payload}.{signature[::-1]}"


def test_an_id_token_changed_on_the_way_is_refused(app, ncu, campus):
    student(campus, "2023900104")
    campus.rewrite_id_token = signed_by_nobody
    before, client = accounts(), browser(app)

    response = come_back(client, campus.sign_in(go_to_provider(client), "2023900104"))

    refused_with_nothing_made(client, response, 400, "does not check out", before)


def test_a_provider_that_gives_no_email_is_refused_saying_so(app, ncu, campus):
    campus.set_user("2023900105", name="王五", preferred_username="2023900105")
    before, client = accounts(), browser(app)

    response = come_back(client, campus.sign_in(go_to_provider(client), "2023900105"))

    refused_with_nothing_made(client, response, 400, "email", before)


def test_a_provider_that_is_down_gets_a_502_page(app, db_session):
    ncu_signs_in_at(url=closed_port_url())
    before, client = accounts(), browser(app)

    response = client.get("/login/sso/NCU")

    refused_with_nothing_made(client, response, 502, "cannot be reached", before)


def test_a_provider_that_goes_down_while_the_reader_is_there_gets_a_502_page(app, db_session):
    with running_oidc_provider(callback_urls(app, "NCU")) as short_lived:
        ncu_signs_in_at(short_lived)
        student(short_lived, "2023900106")
        before, client = accounts(), browser(app)
        callback = short_lived.sign_in(go_to_provider(client), "2023900106")

    response = come_back(client, callback)

    refused_with_nothing_made(client, response, 502, "cannot be reached", before)


def test_a_provider_that_hangs_gets_a_504_page_within_the_timeout(app, db_session, short_wait):
    with silent_server() as url:
        ncu_signs_in_at(url=url)
        before, client = accounts(), browser(app)
        started = time.monotonic()

        response = client.get("/login/sso/NCU")

    assert time.monotonic() - started < 3
    refused_with_nothing_made(client, response, 504, "did not answer in time", before)
