"""ILL transition table (jala/loans/ill.py TRANSITIONS): no way out once approved."""
from jala.loans import ill


def test_an_uncollected_copy_can_be_sent_back_without_lending_it():
    # From 'received' the only step is 'lend' (HOME): when the reader never comes (or their
    # library leaves the alliance) the copy stays 'received' for ever, keeps the copy's open
    # slot (uq_ill_requests_one_open_per_copy) and counts against the lender's
    # loans.ill_open_per_library. Holds have a pickup timer; ILL has none and no exit.
    exits = {action for (status, action), (new, _party) in ill.TRANSITIONS.items()
             if status == "received" and new != "on_loan"}
    assert exits, "no transition from 'received' other than lending to the reader"


def test_an_approved_request_can_still_be_withdrawn_before_shipping():
    # 'approved' -> only 'ship': the lender cannot take back an approval (copy found missing
    # or damaged) and the reader cannot cancel any more.
    exits = {action for (status, action), (new, _party) in ill.TRANSITIONS.items()
             if status == "approved" and new != "shipped"}
    assert exits, "no transition from 'approved' other than shipping"
