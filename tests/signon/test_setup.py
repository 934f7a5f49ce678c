"""Setting up a library's campus sign-on: the CLI, the library admin's page, the login chooser."""
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import select

from jala import clock
from jala.audit import AuditEntry
from jala.extensions import db
from jala.membership import get_library
from jala.signon.cli import idp_add, idp_list, idp_remove
from jala.signon.models import IdentityProvider
from jala.signon.providers import set_provider
from tests.support.factories import make_user
from tests.support.web import as_user, post_form

CAS_URL = "https://cas.ncu.example.edu.cn/cas"


def test_the_cli_adds_lists_and_removes_providers_and_never_shows_a_secret(private_app):
    runner = private_app.test_cli_runner()
    added = runner.invoke(idp_add, ["ncu", "--cas", CAS_URL + "/"])
    assert added.exit_code == 0, added.output
    oidc = runner.invoke(idp_add, ["JXUFE", "--oidc", "https://id.jxufe.example.edu.cn",
                                   "--client-id", "jala-portal",
                                   "--client-secret", "s3cret-never-shown"])
    assert oidc.exit_code == 0, oidc.output
    listed = runner.invoke(idp_list, [])
    assert "NCU      cas   " + CAS_URL in listed.output
    assert "JXUFE    oidc  https://id.jxufe.example.edu.cn" in listed.output
    assert "s3cret" not in listed.output + oidc.output
    with private_app.app_context():
        sealed = db.session.execute(select(IdentityProvider.client_secret_sealed)
                                    .where(IdentityProvider.kind == "oidc")).scalar_one()
        assert sealed and "s3cret" not in sealed
        db.session.remove()

    unknown = runner.invoke(idp_add, ["NOPE", "--cas", CAS_URL])
    assert unknown.exit_code != 0 and "Traceback" not in unknown.output
    two_kinds = runner.invoke(idp_add, ["NCU", "--cas", CAS_URL, "--oidc", CAS_URL])
    assert two_kinds.exit_code != 0
    no_secret = runner.invoke(idp_add, ["JXAU", "--oidc", "https://id.jxau.example.edu.cn",
                                        "--client-id", "x"])
    assert no_secret.exit_code != 0 and "密钥" in no_secret.output

    assert runner.invoke(idp_remove, ["NCU"]).exit_code == 0
    assert runner.invoke(idp_remove, ["NCU"]).exit_code != 0
    assert "NCU" not in runner.invoke(idp_list, []).output


def test_a_library_without_a_provider_and_an_unknown_library_answer_404(client, db_session):
    assert client.get("/login/sso/JXUFE").status_code == 404
    assert client.get("/login/sso/NOPE").status_code == 404
    assert client.get("/login/sso/JXUFE/callback?ticket=ST-1").status_code == 404


def test_a_new_provider_is_offered_at_once_and_the_last_choice_comes_first(client, db_session):
    assert "统一身份认证" not in client.get("/login").get_data(as_text=True)
    set_provider(None, "NCU", "cas", url=CAS_URL)
    set_provider(None, "JXUFE", "cas", url="https://cas.jxufe.example.edu.cn/cas")
    page = client.get("/login?next=/me").get_data(as_text=True)
    assert "统一身份认证" in page and "南昌大学" in page
    assert page.index("江西财经大学") < page.index("南昌大学")

    response = client.get("/login/sso/NCU?next=/me")
    assert response.status_code == 303
    target = urlsplit(response.location)
    assert f"{target.scheme}://{target.netloc}{target.path}" == CAS_URL + "/login"
    service = parse_qs(target.query)["service"][0]
    assert service.startswith("http://") and "/login/sso/NCU/callback" in service
    page = client.get("/login").get_data(as_text=True)
    assert page.index("南昌大学") < page.index("江西财经大学")


def test_a_library_that_left_is_not_offered_and_its_readers_are_told_why(client, db_session):
    set_provider(None, "NCU", "cas", url=CAS_URL)
    get_library("NCU").left_on = clock.local_today()
    db_session.flush()
    assert "南昌大学" not in client.get("/login/campus").get_data(as_text=True)
    response = client.get("/login/sso/NCU")
    assert response.status_code == 403
    assert "已退出联盟" in response.get_data(as_text=True) or "left the alliance" in \
        response.get_data(as_text=True)


def test_only_the_library_admin_sets_up_its_sign_on_and_it_is_audited(client, db_session):
    admin = make_user(library="NCU", roles=("library_admin",))
    as_user(client, make_user(library="NCU", roles=("librarian",)))
    assert client.get("/libraries/NCU/campus-sign-on").status_code == 403
    client.post("/logout", data={})
    client = client.application.test_client()
    as_user(client, admin)
    assert client.get("/libraries/JXUFE/campus-sign-on").status_code == 403
    page = client.get("/libraries/NCU/campus-sign-on").get_data(as_text=True)
    assert "/saml/metadata" in page and "/login/sso/NCU/callback" in page

    response = post_form(client, "/libraries/NCU/campus-sign-on",
                         {"kind": "oidc", "url": "https://id.ncu.example.edu.cn",
                          "client_id": "jala", "client_secret": "top-secret-value"},
                         token_from="/libraries/NCU/campus-sign-on")
    assert response.status_code == 303
    page = client.get("/libraries/NCU/campus-sign-on").get_data(as_text=True)
    assert "top-secret-value" not in page and "A client secret is stored" in page
    # saving again without a secret keeps the stored one
    response = post_form(client, "/libraries/NCU/campus-sign-on",
                         {"kind": "oidc", "url": "https://id.ncu.example.edu.cn",
                          "client_id": "jala", "trust_provider_mfa": "y"},
                         token_from="/libraries/NCU/campus-sign-on")
    assert response.status_code == 303
    provider = db_session.execute(select(IdentityProvider)).scalar_one()
    assert provider.client_secret_sealed and provider.trust_provider_mfa
    actions = db_session.execute(select(AuditEntry.action).where(
        AuditEntry.library_id == get_library("NCU").id,
        AuditEntry.actor_id == admin.id)).scalars().all()
    assert actions.count("signon.provider_set") == 2

    refused = post_form(client, "/libraries/NCU/campus-sign-on",
                        {"kind": "cas", "url": "not a url"},
                        token_from="/libraries/NCU/campus-sign-on")
    assert refused.status_code == 400 and "URL" in refused.get_data(as_text=True)
    assert post_form(client, "/libraries/NCU/campus-sign-on/remove", {},
                     token_from="/libraries/NCU/campus-sign-on").status_code == 303
    assert db_session.execute(select(IdentityProvider)).first() is None
