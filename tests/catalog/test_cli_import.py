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
