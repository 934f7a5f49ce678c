from sqlalchemy import text

from jala.accounts.services import find_user_by_email
from jala.cli import create_admin, reindex_command, seed_demo_command
from jala.extensions import db


def test_create_admin_makes_a_portal_admin_at_the_chair_library(app):
    runner = app.test_cli_runner()
    result = runner.invoke(create_admin, ["cli-admin@example.edu.cn", "--name", "CLI Admin"],
                           env={"JALA_ADMIN_PASSWORD": "a long admin passphrase"})
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = find_user_by_email("cli-admin@example.edu.cn")
        assert user.is_portal_admin and user.home_library.code == "JXSTNU"
        db.session.remove()


def test_create_admin_refuses_a_weak_password_with_a_clear_line(app):
    runner = app.test_cli_runner()
    result = runner.invoke(create_admin, ["weak-admin@example.edu.cn"],
                           env={"JALA_ADMIN_PASSWORD": "password"})
    assert result.exit_code != 0
    assert "Error" in result.output and "Traceback" not in result.output
    with app.app_context():
        assert find_user_by_email("weak-admin@example.edu.cn") is None


def test_seed_demo_prints_a_login_for_every_role_and_is_repeatable(private_app):
    """On a database of its own: the demo's committee seats and records would be other
    tests' data."""
    app = private_app
    runner = app.test_cli_runner()
    first = runner.invoke(seed_demo_command)
    assert first.exit_code == 0, first.output
    for role in ("reader", "public user", "librarian", "library_admin", "committee_member",
                 "portal_admin"):
        assert role in first.output
    assert "CSL articles: 8999 read" in first.output
    assert "librarian (reference desk)" in first.output and "librarian (ECJTU)" in first.output
    with app.app_context():
        from jala.delivery.models import DeliveryRequest
        from jala.loans.models import IllRequest
        from jala.reference.group import is_reference_librarian

        reader = find_user_by_email("reader@demo.jala")
        assert reader.display_name == "李明"
        assert is_reference_librarian(find_user_by_email("reference@demo.jala"))
        ecjtu = find_user_by_email("librarian-ecjtu@demo.jala").home_library
        # the demo reader's requests wait at the library whose demo librarian works them
        [delivery] = db.session.query(DeliveryRequest).filter_by(reader_id=reader.id).all()
        [loan] = db.session.query(IllRequest).filter_by(reader_id=reader.id).all()
        assert delivery.library_id == loan.lending_library_id == ecjtu.id
        db.session.remove()
    again = runner.invoke(seed_demo_command)
    assert again.exit_code == 0
    accounts_part = first.output.split("CSL articles")[0]
    assert again.output.startswith(accounts_part)
    assert "8999 unchanged" in again.output  # the demo catalogue is not loaded twice


def test_reindex_command_rebuilds_every_record(private_app):
    from jala.search.engine import SearchRequest, search
    from tests.support.catalog import import_lines

    with private_app.test_request_context("/"):
        import_lines([{"source_id": f"r{i}", "title": f"基于GPS的定位 第{i}卷"}
                      for i in range(5)])
        db.session.execute(text("UPDATE records SET pinyin_key = ''"))
        db.session.commit()
    result = private_app.test_cli_runner().invoke(reindex_command, ["--batch-size", "2"])
    assert result.exit_code == 0, result.output
    assert result.output.strip().endswith("5 records reindexed")
    with private_app.test_request_context("/"):
        assert len(search(SearchRequest(q="jiyugps")).hits) == 5
        db.session.rollback()
