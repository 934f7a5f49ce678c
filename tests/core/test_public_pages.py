from jala.membership import current_chair_library, find_library, member_libraries


def test_migration_creates_the_fifteen_member_libraries(ctx):
    libraries = member_libraries()
    assert len(libraries) == 15
    codes = {lib.code for lib in libraries}
    assert {"JXUFE", "ECJTU", "JXAU", "NCU", "JXSTNU", "JCU", "JXEMC"} <= codes
    founders = sorted(lib.code for lib in libraries if lib.founding)
    assert founders == ["ECJTU", "JXAU", "JXUFE"]
    assert all(str(lib.joined_on) == "2010-03-19" for lib in libraries if lib.founding)
    assert find_library("JCU").joined_on.isoformat() == "2020-06-02"


def test_library_codes_are_case_insensitive(ctx):
    assert find_library("jxufe").code == "JXUFE"
    assert find_library(" Ncu ").name_zh == "南昌大学图书馆"


def test_chair_library_of_2024_is_jxstnu(ctx):
    assert current_chair_library(2023).code == "NCU"
    assert current_chair_library(2024).code == "JXSTNU"


def test_directory_lists_every_member_in_chinese_by_default(client):
    page = client.get("/libraries")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert html.count('class="card library"') == 15
    assert "江西财经大学图书馆" in html and "景德镇陶瓷大学图书馆" in html
    assert 'lang="zh-Hans"' in html


def test_library_page_redirects_lower_case_codes(client):
    response = client.get("/libraries/jcu")
    assert response.status_code == 301
    assert response.headers["Location"].endswith("/libraries/JCU")
    assert "景德镇陶瓷大学图书馆" in client.get("/libraries/JCU").get_data(as_text=True)


def test_unknown_library_is_a_404_page_not_a_500(client):
    response = client.get("/libraries/NOPE")
    assert response.status_code == 404
    assert "Traceback" not in response.get_data(as_text=True)


def test_healthz_reports_both_services(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok"
    assert body["postgres"]["ok"] is True and body["redis"]["ok"] is True
    assert isinstance(body["postgres"]["ms"], float)
    assert client.get("/healthz/live").status_code == 200


def test_security_headers_on_every_page(client):
    response = client.get("/")
    assert response.status_code == 200
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "Strict-Transport-Security" not in response.headers  # plain HTTP in tests
    https = client.get("/", base_url="https://localhost")
    assert "max-age" in https.headers["Strict-Transport-Security"]
