"""Who is a member when: one rule, asked in Python and in SQL alike."""
from datetime import date, timedelta

import pytest

from jala.accounts.models import Library
from jala.errors import RuleViolation
from jala.extensions import db
from jala.membership import (
    check_reader_standing,
    former_member_ids,
    get_library,
    is_member,
    member_during,
    member_library_ids,
    serves_member_library,
)
from tests.support.factories import make_user


def _library(code, joined_on, left_on=None):
    library = Library(code=code, name_zh=f"{code}图书馆", name_en=f"{code} Library", city="南昌",
                      city_en="Nanchang", joined_on=joined_on, left_on=left_on)
    db.session.add(library)
    db.session.flush()
    return library


def test_a_library_is_a_member_from_the_day_it_joins_until_the_day_before_it_leaves(ctx):
    library = _library("TSTA", date(2030, 3, 1), left_on=date(2031, 6, 1))
    assert not is_member(library, date(2030, 2, 28))
    assert is_member(library, date(2030, 3, 1))
    assert is_member(library, date(2031, 5, 31))
    assert not is_member(library, date(2031, 6, 1))
    assert not is_member(None)


@pytest.mark.parametrize("day", [date(2030, 2, 28), date(2030, 3, 1), date(2031, 5, 31),
                                 date(2031, 6, 1)])
def test_the_sql_condition_agrees_with_the_python_rule(ctx, day):
    library = _library("TSTB", date(2030, 3, 1), left_on=date(2031, 6, 1))
    assert (library.id in member_library_ids(day)) == is_member(library, day)
    assert (library.id in former_member_ids(day)) == (day >= library.left_on)


def test_member_during_a_year_needs_one_day_of_membership_in_it(ctx):
    library = _library("TSTC", date(2030, 12, 31), left_on=date(2032, 1, 2))
    assert not member_during(library, 2029)
    assert member_during(library, 2030) and member_during(library, 2032)
    library.left_on = date(2032, 1, 1)
    assert not member_during(library, 2032)


def test_a_readers_standing_needs_a_member_library_and_a_verified_card(ctx):
    check_reader_standing(make_user(library=None))  # a public user has no library to check
    check_reader_standing(make_user())
    with pytest.raises(RuleViolation, match="尚未认证"):
        check_reader_standing(make_user(verified=False))
    reader = make_user(library="JCU")
    get_library("JCU").left_on = date.today() - timedelta(days=1)
    with pytest.raises(RuleViolation, match="已退出联盟"):
        check_reader_standing(reader)


def test_only_active_staff_of_a_member_library_serve_it(ctx):
    librarian = make_user(roles=["librarian"])
    assert serves_member_library(librarian)
    assert not serves_member_library(make_user())
    librarian.disabled_at = librarian.created_at
    assert not serves_member_library(librarian)
    former = make_user(library="JCU", roles=["librarian"])
    get_library("JCU").left_on = date.today() - timedelta(days=1)
    assert not serves_member_library(former)
