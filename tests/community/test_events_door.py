"""The door before check-in opens (said up front, the form disabled), ticket codes that cannot
be one (the look-alikes they leave out named), and dates in words on the organisers' pages."""
import re
from datetime import timedelta

import pytest

from jala import clock
from jala.community.events import checkin, signups
from jala.community.events.signups import TICKET_ALPHABET
from jala.errors import RuleViolation
from tests.community.test_events_routes import make_event, post
from tests.support.factories import make_user
from tests.support.web import HTMX, as_user, post_form


@pytest.fixture
def organiser(ctx):
    return make_user(library="NCU", roles=("librarian",), name="活动馆员")


def chinese_moment(instant):
    local = instant.astimezone(clock.SHANGHAI)
    return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}"


def test_the_look_alikes_named_are_the_ones_the_ticket_alphabet_leaves_out():
    assert checkin.LEFT_OUT == ["0", "1", "I", "O"]
    assert not set(checkin.LEFT_OUT) & set(TICKET_ALPHABET)


def test_before_check_in_opens_the_door_says_when_and_disables_the_form(client, organiser,
                                                                       reader):
    event = make_event(organiser, starts_in=timedelta(days=2))
    signups.sign_up(reader, event.id)
    as_user(client, organiser)
    post_form(client, "/language", {"lang": "zh_Hans"})
    page = client.get(f"/events/{event.id}/door").get_data(as_text=True)
    opens = chinese_moment(event.starts_at - timedelta(hours=3))
    assert f"签到将于{opens}开放" in page and 'data-state="early"' in page
    assert re.search(r'<input id="ticket-code"[^>]* disabled>', page)
    assert page.count("disabled>") == 3  # the code box, its button and the reader's button
    refused = post(client, f"/events/{event.id}/door", {"code": "ABCD-EFGH"}, headers=HTMX)
    assert f"签到将于{opens}开放" in refused.get_data(as_text=True)


def test_once_check_in_opens_the_form_is_enabled(client, organiser, reader):
    event = make_event(organiser, starts_in=timedelta(days=2))
    registration = signups.sign_up(reader, event.id)
    clock.advance(timedelta(days=2) - timedelta(hours=2))
    as_user(client, organiser)
    page = client.get(f"/events/{event.id}/door").get_data(as_text=True)
    assert "data-state=" not in page and " disabled" not in page
    done = post(client, f"/events/{event.id}/door", {"code": registration.ticket_code},
                headers=HTMX).get_data(as_text=True)
    assert f"{reader.display_name} is checked in" in done


def test_after_check_in_closes_the_door_says_so_and_disables_the_form(client, organiser):
    event = make_event(organiser, starts_in=timedelta(hours=1))
    clock.advance(timedelta(hours=28))
    as_user(client, organiser)
    page = client.get(f"/events/{event.id}/door").get_data(as_text=True)
    assert 'data-state="closed"' in page and "Check-in for this event has closed." in page
    assert re.search(r'<input id="ticket-code"[^>]* disabled>', page)


def test_the_check_in_link_before_the_door_opens_says_when(client, organiser, reader):
    event = make_event(organiser, starts_in=timedelta(days=2))
    registration = signups.sign_up(reader, event.id)
    as_user(client, organiser)
    post_form(client, "/language", {"lang": "zh_Hans"})
    page = client.get(f"/events/{event.id}/check-in/{checkin.check_in_token(registration)}"
                      ).get_data(as_text=True)
    assert f"签到将于{chinese_moment(event.starts_at - timedelta(hours=3))}开放" in page
    assert re.search(r'data-testid="check-in" disabled', page)


def test_a_code_with_a_look_alike_names_it_and_shows_the_format(ctx, organiser):
    event = make_event(organiser, starts_in=timedelta(hours=1))
    with pytest.raises(RuleViolation) as refused:
        checkin.ticket_from_code(organiser, event.id, "XXXX-0000")
    message = refused.value.message  # the default language: Chinese
    assert message.startswith("入场码不使用 0：") and "0、1、I和O" in message
    assert "ABCD-2345" in message
    with pytest.raises(RuleViolation, match="入场码不使用 I和O："):
        checkin.ticket_from_code(organiser, event.id, "abio-2345")
    with pytest.raises(RuleViolation, match=r"格式如 ABCD-2345（不含 0、1、I或O）"):
        checkin.ticket_from_code(organiser, event.id, "ABC-234")


def test_the_door_page_names_the_look_alike_typed(client, organiser):
    event = make_event(organiser, starts_in=timedelta(hours=1))
    as_user(client, organiser)  # in English
    page = post(client, f"/events/{event.id}/door", {"code": "XXXX-0000"},
                headers=HTMX).get_data(as_text=True)
    assert "Ticket codes never use 0: they leave out 0, 1, I, and O, which look alike." in page
    assert "such as ABCD-2345" in page


def test_the_organisers_table_shows_dates_in_words(client, organiser):
    event = make_event(organiser, starts_in=timedelta(days=3))
    as_user(client, organiser)
    post_form(client, "/language", {"lang": "zh_Hans"})
    page = client.get("/events/organise").get_data(as_text=True)
    assert chinese_moment(event.starts_at) in page
    assert not re.search(r"\d{4}-\d{2}-\d{2}", page)
