"""GB/T 7714-2015, RIS, BibTeX and OpenURL from records: exact expected output."""
from datetime import date

import pytest

from jala.catalog.models import Record
from jala.reading import citations
from jala.reading.openurl import coins, context_object, resolver_url


def record(**fields):
    fields.setdefault("authors", [])
    fields.setdefault("extra", {})
    return Record(id=fields.pop("id", 7), **fields)


CN_BOOK = dict(type="book", title="中国图书馆事业发展报告",
               authors=["张三", "李四", "王五", "赵六"], publisher="国家图书馆出版社",
               year=2015, extra={"place": "北京"},
               isbn=["9787501355563"], language="zh")
EN_BOOK = dict(type="book", title="Information Retrieval: Data Structures and Algorithms",
               authors=["Frakes, William B.", "Ricardo Baeza-Yates"], publisher="Prentice Hall",
               year=1992, language="en")
CN_ARTICLE = dict(type="article", title="蓝田生物群: 一个认识多细胞生物起源和早期演化的新窗口",
                  authors=["袁训来", "陈哲", "肖书海"], journal="科学通报", year=2012, volume="55",
                  issue="34", pages="3219-3227", doi="10.1360/972012-1018", language="zh")
EN_ARTICLE = dict(type="article", title="Sequencing and analysis of Neanderthal genomic DNA",
                  authors=["Noonan, James P.", "Coop, Graham", "Kudaravalli, Sridhar",
                           "Smith, Doug", "Krause, Johannes"],
                  journal="Science", year=2006, volume="314", issue="5802", pages="1113–1118",
                  issn=["0036-8075"], doi="https://doi.org/10.1126/science.1131412")
CN_THESIS = dict(type="thesis", title="面向中文信息处理的现代汉语并列结构研究", authors=["吴云芳"],
                 publisher="北京大学", year=2003, extra={"place": "北京"})
EN_THESIS = dict(type="thesis", title="Infrared spectroscopic studies on solid oxygen",
                 authors=["Calms, Robert B."], year=1965,
                 extra={"place": "Berkeley", "institution": "University of California",
                        "degree": "PhD"})


# --- GB/T 7714-2015 -------------------------------------------------------------------------

@pytest.mark.parametrize("fields, expected", [
    (CN_BOOK, "张三, 李四, 王五, 等. 中国图书馆事业发展报告[M]. 北京: 国家图书馆出版社, 2015."),
    (EN_BOOK, "FRAKES W B, BAEZA-YATES R. Information Retrieval: Data Structures and "
              "Algorithms[M]. [S.l.]: Prentice Hall, 1992."),
    (CN_ARTICLE, "袁训来, 陈哲, 肖书海. 蓝田生物群: 一个认识多细胞生物起源和早期演化的新窗口[J]. "
                 "科学通报, 2012, 55(34): 3219-3227. DOI:10.1360/972012-1018."),
    (EN_ARTICLE, "NOONAN J P, COOP G, KUDARAVALLI S, et al. Sequencing and analysis of "
                 "Neanderthal genomic DNA[J]. Science, 2006, 314(5802): 1113-1118. "
                 "DOI:10.1126/science.1131412."),
    (CN_THESIS, "吴云芳. 面向中文信息处理的现代汉语并列结构研究[D]. 北京: 北京大学, 2003."),
    (EN_THESIS, "CALMS R B. Infrared spectroscopic studies on solid oxygen[D]. Berkeley: "
                "University of California, 1965."),
], ids=["cn-book", "en-book", "cn-article", "en-article", "cn-thesis", "en-thesis"])
def test_gbt7714_for_books_articles_and_theses(fields, expected):
    assert citations.gbt7714(record(**fields)) == expected


def test_gbt7714_says_what_is_unknown_in_the_documents_language():
    assert citations.gbt7714(record(type="book", title="江西地方志")) == \
        "江西地方志[M]. [出版地不详: 出版者不详]."
    assert citations.gbt7714(record(type="report", title="Annual report", year=2020,
                                    extra={"place": "Nanchang"})) == \
        "Annual report[R]. Nanchang: [s.n.], 2020."


def test_gbt7714_online_items_carry_the_date_cited_and_the_address():
    ebook = record(type="ebook", title="数字图书馆导论", authors=["王六"], publisher="科学出版社",
                   year=2019, extra={"place": "北京"}, url="https://example.org/book/1")
    assert citations.gbt7714(ebook, cited_on=date(2026, 11, 25)) == (
        "王六. 数字图书馆导论[M/OL]. 北京: 科学出版社, 2019[2026-11-25]. "
        "https://example.org/book/1.")
    page = record(type="other", title="JALA annual statistics", url="https://example.org/s",
                  year=2024, language="en")
    assert citations.gbt7714(page, cited_on=date(2026, 11, 25)) == (
        "JALA annual statistics[EB/OL]. (2024)[2026-11-25]. https://example.org/s.")


def test_gbt7714_conference_paper_names_its_proceedings():
    paper = record(type="conference", title="联合编目的实践", authors=["李明"],
                   journal="第五届高校图书馆学术会议论文集", publisher="江西高校出版社",
                   year=2018, pages="12-19", extra={"place": "南昌"})
    assert citations.gbt7714(paper) == (
        "李明. 联合编目的实践[C]//第五届高校图书馆学术会议论文集. "
        "南昌: 江西高校出版社, 2018: 12-19.")


@pytest.mark.parametrize("name, expected", [
    ("Smith, John Adam", "SMITH J A"), ("John A. Smith", "SMITH J A"),
    ("Sartre, Jean-Paul", "SARTRE J-P"), ("张三", "张三"),
    ("World Health Organization of Nations", "World Health Organization of Nations"),
    ("UNESCO", "UNESCO"),
])
def test_gbt_names(name, expected):
    assert citations.gbt_name(name) == expected


# --- RIS ------------------------------------------------------------------------------------

def test_ris_for_a_chinese_book():
    assert citations.ris(record(**CN_BOOK)) == (
        "TY  - BOOK\n"
        "AU  - 张三\nAU  - 李四\nAU  - 王五\nAU  - 赵六\n"
        "TI  - 中国图书馆事业发展报告\n"
        "PY  - 2015\n"
        "CY  - 北京\n"
        "PB  - 国家图书馆出版社\n"
        "SN  - 9787501355563\n"
        "LA  - zh\n"
        "ER  - \n")


def test_ris_for_an_article_with_latin_authors():
    assert citations.ris(record(**EN_ARTICLE)) == (
        "TY  - JOUR\n"
        "AU  - Noonan, James P.\nAU  - Coop, Graham\nAU  - Kudaravalli, Sridhar\n"
        "AU  - Smith, Doug\nAU  - Krause, Johannes\n"
        "TI  - Sequencing and analysis of Neanderthal genomic DNA\n"
        "T2  - Science\n"
        "PY  - 2006\n"
        "VL  - 314\nIS  - 5802\nSP  - 1113\nEP  - 1118\n"
        "SN  - 0036-8075\n"
        "DO  - 10.1126/science.1131412\n"
        "ER  - \n")


def test_ris_for_theses():
    assert citations.ris(record(**CN_THESIS)) == (
        "TY  - THES\nAU  - 吴云芳\nTI  - 面向中文信息处理的现代汉语并列结构研究\nPY  - 2003\n"
        "CY  - 北京\nPB  - 北京大学\nER  - \n")
    assert citations.ris(record(**EN_THESIS)) == (
        "TY  - THES\nAU  - Calms, Robert B.\nTI  - Infrared spectroscopic studies on solid "
        "oxygen\nPY  - 1965\nCY  - Berkeley\nPB  - University of California\nER  - \n")


def test_ris_keeps_one_entry_on_its_lines():
    entry = citations.ris(record(type="article", title="Two\nlines", abstract="A\n\nB",
                                 keywords=["x", "y"]))
    assert "TI  - Two lines\n" in entry and "AB  - A B\n" in entry
    assert "KW  - x\nKW  - y\n" in entry


# --- BibTeX ---------------------------------------------------------------------------------

def test_bibtex_for_a_chinese_book():
    assert citations.bibtex(record(**CN_BOOK)) == (
        "@book{zhang2015zhongguo,\n"
        "  author = {张三 and 李四 and 王五 and 赵六},\n"
        "  title = {中国图书馆事业发展报告},\n"
        "  publisher = {国家图书馆出版社},\n"
        "  address = {北京},\n"
        "  year = {2015},\n"
        "  isbn = {9787501355563},\n"
        "}\n")


def test_bibtex_for_a_latin_book_and_an_article():
    assert citations.bibtex(record(**EN_BOOK)) == (
        "@book{frakes1992information,\n"
        "  author = {Frakes, William B. and Baeza-Yates, Ricardo},\n"
        "  title = {Information Retrieval: Data Structures and Algorithms},\n"
        "  publisher = {Prentice Hall},\n"
        "  year = {1992},\n"
        "}\n")
    assert citations.bibtex(record(**CN_ARTICLE)) == (
        "@article{yuan2012lantian,\n"
        "  author = {袁训来 and 陈哲 and 肖书海},\n"
        "  title = {蓝田生物群: 一个认识多细胞生物起源和早期演化的新窗口},\n"
        "  journal = {科学通报},\n"
        "  year = {2012},\n"
        "  volume = {55},\n"
        "  number = {34},\n"
        "  pages = {3219--3227},\n"
        "  doi = {10.1360/972012-1018},\n"
        "}\n")


def test_bibtex_for_theses():
    assert citations.bibtex(record(**CN_THESIS)) == (
        "@phdthesis{wu2003mianxiang,\n"
        "  author = {吴云芳},\n"
        "  title = {面向中文信息处理的现代汉语并列结构研究},\n"
        "  school = {北京大学},\n"
        "  address = {北京},\n"
        "  year = {2003},\n"
        "}\n")
    assert citations.bibtex(record(**EN_THESIS)) == (
        "@phdthesis{calms1965infrared,\n"
        "  author = {Calms, Robert B.},\n"
        "  title = {Infrared spectroscopic studies on solid oxygen},\n"
        "  school = {University of California},\n"
        "  address = {Berkeley},\n"
        "  year = {1965},\n"
        "}\n")
    master = record(type="thesis", title="X", extra={"degree": "硕士"})
    assert citations.bibtex(master).startswith("@mastersthesis{")


def test_bibtex_escapes_special_characters_and_keeps_bodies_whole():
    entry = citations.bibtex(record(type="report", title="Profit & Loss_100% {draft}",
                                    authors=["World Health Organization of Nations"],
                                    publisher="WHO", year=2001))
    assert "title = {Profit \\& Loss\\_100\\% \\{draft\\}}" in entry
    assert "author = {{World Health Organization of Nations}}" in entry
    assert entry.startswith("@techreport{world2001profit,") and "institution = {WHO}" in entry


# --- several records ----------------------------------------------------------------------

def test_a_list_is_numbered_in_gbt7714_and_gets_distinct_bibtex_keys():
    first, second = record(id=1, **CN_THESIS), record(id=2, **CN_THESIS)
    assert citations.export([first, record(id=3, **EN_THESIS)], "gbt7714") == (
        "[1] 吴云芳. 面向中文信息处理的现代汉语并列结构研究[D]. 北京: 北京大学, 2003.\n"
        "[2] CALMS R B. Infrared spectroscopic studies on solid oxygen[D]. Berkeley: "
        "University of California, 1965.\n")
    text = citations.export([first, second], "bibtex")
    assert "@phdthesis{wu2003mianxiang,\n" in text and "@phdthesis{wu2003mianxiangb,\n" in text
    assert citations.export([first, second], "ris").count("ER  - \n") == 2


# --- OpenURL --------------------------------------------------------------------------------

def test_openurl_context_object_for_an_article(app):
    with app.app_context():
        pairs = context_object(record(**CN_ARTICLE))
    assert pairs[:3] == [("ctx_ver", "Z39.88-2004"),
                         ("rft_val_fmt", "info:ofi/fmt:kev:mtx:journal"),
                         ("rft.genre", "article")]
    assert ("rft.jtitle", "科学通报") in pairs and ("rft.spage", "3219") in pairs
    assert ("rft.epage", "3227") in pairs and ("rft.au", "陈哲") in pairs
    assert ("rft_id", "info:doi/10.1360/972012-1018") in pairs


def test_openurl_for_books_and_theses(app):
    with app.app_context():
        book = dict(context_object(record(**CN_BOOK)))
        thesis = dict(context_object(record(**EN_THESIS)))
    assert book["rft_val_fmt"] == "info:ofi/fmt:kev:mtx:book"
    assert book["rft.btitle"] == "中国图书馆事业发展报告" and book["rft.isbn"] == "9787501355563"
    assert book["rft.place"] == "北京" and book["rft.pub"] == "国家图书馆出版社"
    assert thesis["rft_val_fmt"] == "info:ofi/fmt:kev:mtx:dissertation"
    assert thesis["rft.inst"] == "University of California" and thesis["rft.degree"] == "PhD"


def test_resolver_url_and_coins(app):
    with app.app_context():
        link = resolver_url("https://sfx.example.edu.cn/sfx_local?sid=jala&", record(**CN_ARTICLE))
        plain = resolver_url("https://sfx.example.edu.cn/sfx", record(**CN_ARTICLE))
        span = coins(record(**CN_ARTICLE))
    assert link.startswith("https://sfx.example.edu.cn/sfx_local?sid=jala&url_ver=Z39.88-2004&")
    assert plain.startswith("https://sfx.example.edu.cn/sfx?url_ver=Z39.88-2004&")
    assert "rft.jtitle=%E7%A7%91%E5%AD%A6%E9%80%9A%E6%8A%A5" in link
    assert "rft_id=info%3Adoi%2F10.1360%2F972012-1018" in link
    assert span.startswith("ctx_ver=Z39.88-2004&rfr_id=info%3Asid%2F127.0.0.1%3Ajala&"
                           "rft_val_fmt=info%3Aofi%2Ffmt%3Akev%3Amtx%3Ajournal&")
