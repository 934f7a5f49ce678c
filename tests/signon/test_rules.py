"""What a campus identity becomes: the rules of jala.signon.services, without any protocol."""
import pytest
from sqlalchemy import func, select

from jala import clock
from jala.accounts.models import User
from jala.errors import RuleViolation
from jala.extensions import db
from jala.membership import get_library
from jala.signon import services as signon
from jala.signon.identity import Identity, SignOnRefused
from jala.signon.models import CampusIdentity
from jala.signon.providers import set_provider
from jala.signon.services import Standing, standing_of
from tests.support.factories import make_user


def cas_of(code):
    return set_provider(None, code, "cas", url=f"https://cas.{code.lower()}.example.edu.cn/cas")


def person(subject="2021001234", email="zhang.san@ncu.example.edu.cn", **kwargs):
    return Identity(subject=subject, email=email, name=kwargs.pop("name", "张三"),
                    username=kwargs.pop("username", subject), **kwargs)


def accounts_count():
    return db.session.execute(select(func.count()).select_from(User)).scalar_one()


@pytest.mark.parametrize(("affiliations", "standing"), [
    ((), Standing(True)),
    (("student",), Standing(True, "student")),
    (("member", "student"), Standing(True, "student")),
    (("student", "faculty", "member"), Standing(True, "faculty")),
    (("employee",), Standing(True, "staff")),
    (("member",), Standing(True)),
    (("alum",), Standing(False)),
    (("affiliate", "library-walk-in"), Standing(False)),
])
def test_affiliation_decides_reader_or_public_user(affiliations, standing):
    assert standing_of(Identity(subject="x", affiliations=affiliations)) == standing


def test_first_sign_in_makes_a_verified_reader_of_that_library_with_a_ready_card(db_session):
    provider = cas_of("NCU")
    user, created = signon.sign_in(provider, person(affiliations=("student",)))
    assert created
    assert user.home_library.code == "NCU" and user.is_verified_reader
    assert user.card_number == "2021001234" and user.reader_type == "student"
    assert user.email_confirmed_at is not None and not user.has_password
    assert user.display_name == "张三"


def test_the_same_subject_lands_in_the_same_account_even_with_a_new_address(db_session):
    provider = cas_of("NCU")
    first, _ = signon.sign_in(provider, person())
    again, created = signon.sign_in(provider, person(email="san.zhang@ncu.example.edu.cn",
                                                     name="张 三"))
    assert not created and again.id == first.id
    assert again.email == "san.zhang@ncu.example.edu.cn" and again.display_name == "张 三"


def test_a_subject_of_library_a_never_becomes_a_reader_of_library_b(db_session):
    ncu, jxufe = cas_of("NCU"), cas_of("JXUFE")
    at_ncu, _ = signon.sign_in(ncu, person(subject="s1", email="s1@ncu.example.edu.cn"))
    at_jxufe, created = signon.sign_in(jxufe, person(subject="s1", email="s1@jxufe.example.edu"))
    assert created and at_jxufe.id != at_ncu.id
    assert at_jxufe.home_library.code == "JXUFE" and at_ncu.home_library.code == "NCU"


def test_an_address_of_another_account_is_refused_and_that_account_untouched(db_session):
    owner = make_user(library="NCU", email="zhang.san@ncu.example.edu.cn")
    before = (owner.password_hash, owner.display_name, accounts_count())
    with pytest.raises(SignOnRefused) as refused:
        signon.sign_in(cas_of("NCU"), person())
    assert refused.value.status == 409
    assert (owner.password_hash, owner.display_name, accounts_count()) == before
    assert db_session.execute(select(CampusIdentity).where(
        CampusIdentity.subject == "2021001234")).first() is None


def test_a_new_address_taken_by_another_account_is_not_taken_over(db_session):
    provider = cas_of("NCU")
    user, _ = signon.sign_in(provider, person())
    other = make_user(library="NCU", email="taken@ncu.example.edu.cn")
    again, _ = signon.sign_in(provider, person(email="taken@ncu.example.edu.cn"))
    assert again.id == user.id and again.email == "zhang.san@ncu.example.edu.cn"
    assert other.email == "taken@ncu.example.edu.cn"


def test_a_card_number_already_held_at_the_library_is_refused(db_session):
    make_user(library="NCU").card_number = "2021001234"
    db_session.flush()
    with pytest.raises(SignOnRefused) as refused:
        signon.sign_in(cas_of("NCU"), person())
    assert refused.value.status == 409 and "2021001234" in refused.value.message


def test_a_card_number_someone_typed_unchecked_does_not_block_the_student(db_session):
    squatter = make_user(library="NCU", verified=False)
    squatter.card_number = "2021001234"
    db_session.flush()
    user, created = signon.sign_in(cas_of("NCU"), person())
    assert created and user.card_number.startswith("SSO-")
    assert squatter.card_number == "2021001234" and squatter.verified_at is None


def test_a_campus_name_that_is_not_a_card_number_gets_one_from_the_subject(db_session):
    user, _ = signon.sign_in(cas_of("NCU"), person(subject="abc", username="张 三@x"))
    assert user.card_number.startswith("SSO-") and len(user.card_number) == 16


def test_alumni_become_public_users(db_session):
    user, created = signon.sign_in(cas_of("NCU"), person(affiliations=("alum",)))
    assert created and user.is_public_user and user.card_number is None
    assert db_session.execute(select(CampusIdentity.library_id).where(
        CampusIdentity.user_id == user.id)).scalar_one() == get_library("NCU").id


def test_no_usable_email_is_refused(db_session):
    with pytest.raises(SignOnRefused) as refused:
        signon.sign_in(cas_of("NCU"), person(email=None))
    assert refused.value.status == 422


def test_a_disabled_account_is_not_signed_in(db_session):
    provider = cas_of("NCU")
    user, _ = signon.sign_in(provider, person())
    user.disabled_at = clock.now()
    with pytest.raises(SignOnRefused) as refused:
        signon.sign_in(provider, person())
    assert refused.value.status == 403


def test_a_library_that_left_signs_in_nobody_and_says_why(db_session):
    provider = cas_of("NCU")
    get_library("NCU").left_on = clock.local_today()
    with pytest.raises(SignOnRefused) as refused:
        signon.sign_in(provider, person())
    assert refused.value.status == 403 and "南昌大学" in refused.value.message


def test_linking_makes_a_public_user_a_verified_reader(db_session):
    user = make_user(library=None)
    signon.link(user, cas_of("NCU"), person(affiliations=("faculty",)))
    assert user.home_library.code == "NCU" and user.is_verified_reader
    assert user.reader_type == "faculty" and user.has_password


def test_linking_verifies_a_waiting_reader_with_the_campus_card_number(db_session):
    user = make_user(library="NCU", verified=False)
    signon.link(user, cas_of("NCU"), person())
    assert user.is_verified_reader and user.card_number == "2021001234"
    again, created = signon.sign_in(cas_of("NCU"), person())
    assert again.id == user.id and not created


def test_a_reader_of_another_library_cannot_link_this_one(db_session):
    user = make_user(library="JXUFE")
    with pytest.raises(SignOnRefused) as refused:
        signon.link(user, cas_of("NCU"), person())
    assert refused.value.status == 403


def test_an_identity_linked_to_someone_else_cannot_be_linked_again(db_session):
    provider = cas_of("NCU")
    signon.sign_in(provider, person())
    with pytest.raises(SignOnRefused) as refused:
        signon.link(make_user(library=None), provider, person())
    assert refused.value.status == 409


def test_the_last_way_in_cannot_be_unlinked(db_session):
    user, _ = signon.sign_in(cas_of("NCU"), person())
    row = signon.identities_of(user)[0]
    with pytest.raises(SignOnRefused):
        signon.unlink(user, row.id)
    with pytest.raises(SignOnRefused) as refused:
        signon.unlink(make_user(library="NCU"), row.id)  # not theirs
    assert refused.value.status == 404


@pytest.mark.parametrize(("trust", "mfa", "asked"), [
    (False, True, True), (True, False, True), (True, True, False)])
def test_staff_give_the_portal_code_unless_the_provider_mfa_is_trusted(db_session, trust, mfa,
                                                                         asked):
    staff = make_user(library="NCU", roles=("librarian",))
    provider = set_provider(None, "NCU", "cas", url="https://cas.ncu.example.edu.cn/cas",
                            trust_provider_mfa=trust)
    assert signon.needs_portal_second_factor(staff, provider, person(mfa=mfa)) is asked
    reader = make_user(library="NCU")
    assert not signon.needs_portal_second_factor(reader, provider, person(mfa=False))


def test_provider_urls_must_be_https_in_production(app, db_session):
    app.config["JALA_PRODUCTION"] = True
    try:
        with pytest.raises(RuleViolation):
            set_provider(None, "NCU", "cas", url="http://cas.ncu.example.edu.cn/cas")
        assert set_provider(None, "NCU", "cas", url="https://cas.ncu.example.edu.cn/cas/").url \
            == "https://cas.ncu.example.edu.cn/cas"
    finally:
        app.config["JALA_PRODUCTION"] = False
