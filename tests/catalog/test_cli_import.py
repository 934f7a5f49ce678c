from jala.cli import import_command


def test_cli_import_reports_bad_lines_and_exits_zero(app, tmp_path):
    path = tmp_path / "records.jsonl"
    path.write_text('{"source_id": "cli-1", "title": "命令行导入"}\n{oops\n'
                    '{"source_id": "cli-2"}\n', encoding="utf-8")
    result = app.test_cli_runner().invoke(import_command, [str(path), "--library", "jxau",
                                                           "--workers", "1"])
    assert result.exit_code == 0, result.output
    assert "line 2: bad JSON" in result.output and "line 3: missing title" in result.output
    assert "3 read: 1 new" in result.output


def test_cli_import_fails_on_an_unknown_library(app, tmp_path):
    path = tmp_path / "records.jsonl"
    path.write_text('{"source_id": "x", "title": "y"}\n', encoding="utf-8")
    result = app.test_cli_runner().invoke(import_command, [str(path), "--library", "MIT"])
    assert result.exit_code != 0 and "not a member library" in result.output


def test_cli_import_with_two_workers(app, tmp_path):
    path = tmp_path / "many.jsonl"
    path.write_text("".join(f'{{"source_id": "p{i}", "title": "并行第{i}本"}}\n'
                            for i in range(300)), encoding="utf-8")
    result = app.test_cli_runner().invoke(import_command, [str(path), "--library", "YCU",
                                                           "--workers", "2"])
    assert result.exit_code == 0, result.output
    assert "300 read: 300 new" in result.output


def _index_names(app):
    from sqlalchemy import text

    from jala.extensions import db

    with app.app_context():
        return set(db.session.execute(text(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'records'")).scalars())


def test_bulk_import_builds_the_search_indexes_after_the_load(private_app, tmp_path):
    from jala.catalog.bulk import search_indexes
    from jala.search.engine import SearchRequest, search

    path = tmp_path / "bulk.jsonl"
    path.write_text("".join(f'{{"source_id": "b{i}", "title": "批量导入第{i}本"}}\n'
                            for i in range(50)), encoding="utf-8")
    result = private_app.test_cli_runner().invoke(import_command, [
        str(path), "--library", "JXAU", "--workers", "1", "--bulk"])
    assert result.exit_code == 0, result.output
    assert "50 read: 50 new" in result.output
    names = {index.name for index in search_indexes()}
    assert {"ix_records_search_vector", "ix_records_pinyin_key"} <= names
    assert all(f"built {name} in" in result.output for name in names)
    assert names <= _index_names(private_app)
    with private_app.test_request_context("/"):
        assert len(search(SearchRequest(q="批量导入")).hits) == 20


def test_a_bulk_load_stopped_before_its_build_is_mended_by_the_next_import(private_app,
                                                                          tmp_path):
    from jala.catalog.bulk import drop_search_indexes, search_indexes

    with private_app.app_context():
        dropped = drop_search_indexes()
    assert not set(dropped) & _index_names(private_app)
    path = tmp_path / "one.jsonl"
    path.write_text('{"source_id": "m1", "title": "修复索引"}\n', encoding="utf-8")
    result = private_app.test_cli_runner().invoke(import_command, [
        str(path), "--library", "JXAU", "--workers", "1"])
    assert result.exit_code == 0, result.output
    assert "building ix_records_search_vector…" in result.output
    assert {index.name for index in search_indexes()} <= _index_names(private_app)
