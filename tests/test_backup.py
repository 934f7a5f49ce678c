"""jala backup / jala restore: a fresh database and file store get everything back."""
import io

import pytest
from sqlalchemy import func, select

from jala.accounts.services import find_user_by_email
from jala.backup import find_tool, libpq_target
from jala.catalog.models import SourceRecord
from jala.cli import backup_command, restore_command
from jala.extensions import db
from jala.files import StoredFile, storage_dir, store_stream
from jala.governance import meetings, resolutions
from jala.governance.models import Vote
from tests.support.app import make_app
from tests.support.factories import add_record, make_user
from tests.support.files import png
from tests.support.governance import check_in_all, convened_meeting, seated_committee


def test_restore_into_a_fresh_database_finds_every_record_user_vote_and_file(
        private_app, postgres, redis_service, smtp, tmp_path):
    content = png(7) + bytes(range(256)) * 40
    with private_app.app_context():
        user = make_user(email="backup-reader@example.edu.cn", name="备份读者")
        add_record("backup-1", ["JXUFE", "NCU"], title="备份与恢复")
        committee = seated_committee()
        meeting = convened_meeting(committee["NCU"])
        item = resolutions.add_agenda_item(committee["NCU"], meeting.id, kind="resolution",
                                           title="Keep backups")
        check_in_all(meeting, committee, ["NCU", "JXUFE"])
        meetings.cast_vote(committee["JXUFE"], item.id, "yes")
        meetings.cast_vote(committee["NCU"], item.id, "no")
        stored = store_stream(io.BytesIO(content), "scan.png", content_type="image/png",
                              max_bytes=10 ** 6, owner=user)
        db.session.commit()
        storage_name = stored.storage_name
        votes = db.session.scalar(select(func.count()).select_from(Vote))
        db.session.remove()

    archive = tmp_path / "jala.backup"
    made = private_app.test_cli_runner().invoke(backup_command, [str(archive)])
    assert made.exit_code == 0, made.output
    assert "the database and 1 files" in made.output

    url, name = postgres.create("jala_restored")
    restored = make_app(url, redis_service, smtp, tmp_path / "restored-instance")
    try:
        done = restored.test_cli_runner().invoke(restore_command, [str(archive)])
        assert done.exit_code == 0, done.output
        with restored.app_context():
            assert find_user_by_email("backup-reader@example.edu.cn").display_name == "备份读者"
            source = db.session.scalars(
                select(SourceRecord).where(SourceRecord.source_id == "backup-1")).one()
            assert source.record.title == "备份与恢复"
            assert {h.library.code for h in source.record.holdings} == {"JXUFE", "NCU"}
            assert db.session.scalar(select(func.count()).select_from(Vote)) == votes >= 1
            row = db.session.scalars(
                select(StoredFile).where(StoredFile.storage_name == storage_name)).one()
            assert (storage_dir() / storage_name).read_bytes() == content
            assert row.size == len(content)
            db.session.remove()
        # once it holds data, a second restore is refused with one clear line
        again = restored.test_cli_runner().invoke(restore_command, [str(archive)])
        assert again.exit_code != 0 and "Traceback" not in again.output
        assert "Error: the database is not empty" in again.output and "--force" in again.output
        forced = restored.test_cli_runner().invoke(restore_command, [str(archive), "--force"])
        assert forced.exit_code == 0, forced.output
        with restored.app_context():
            assert db.session.scalar(select(func.count()).select_from(Vote)) == votes
            db.session.remove()
    finally:
        with restored.app_context():
            db.engine.dispose()
        postgres.drop(name)


def test_a_file_that_is_not_a_backup_is_refused_with_a_clear_line(app, tmp_path):
    bogus = tmp_path / "not-a-backup.tar"
    bogus.write_bytes(b"hello")
    result = app.test_cli_runner().invoke(restore_command, [str(bogus)])
    assert result.exit_code != 0 and "Traceback" not in result.output
    assert "Error: cannot read" in result.output


def test_the_pg_tools_are_of_the_servers_major_version(postgres):
    import subprocess

    major = postgres.server_version() // 10000
    for name in ("pg_dump", "pg_restore"):
        version = subprocess.run([find_tool(name, major), "--version"], capture_output=True,
                                 text=True, check=True).stdout
        assert f") {major}." in version


@pytest.mark.parametrize("url", [
    "postgresql+psycopg://jala:s3cret@db:5432/jala",
    "postgresql+psycopg://jala:s3cret@/jala?host=db1:5432&host=db2:5432"
    "&target_session_attrs=read-write",
])
def test_the_password_goes_to_the_environment_never_on_the_command_line(url):
    target, env = libpq_target(url)
    assert "s3cret" not in target and env["PGPASSWORD"] == "s3cret"
    assert target.startswith("postgresql://jala@")
