"""GB/T 7714-2015, RIS, BibTeX and OpenURL from records: exact expected output."""
import json

import pytest

from jala.catalog.models import Record
from jala.reading import citations
from jala.reading.gbt7714 import gbt_name
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
    (CN_ARTICLE, "袁训来, 陈哲, 肖书海. 蓝田生物群: 一个认识多细胞生物起源和早期演化的新窗口"
                 "[J/OL]. 科学通报, 2012, 55(34): 3219-3227. DOI:10.1360/972012-1018."),
    (EN_ARTICLE, "NOONAN J P, COOP G, KUDARAVALLI S, et al. Sequencing and analysis of "
                 "Neanderthal genomic DNA[J/OL]. Science, 2006, 314(5802): 1113-1118. "
                 "DOI:10.1126/science.1131412."),
    (CN_THESIS, "吴云芳. 面向中文信息处理的现代汉语并列结构研究[D]. 北京: 北京大学, 2003."),
    (EN_THESIS, "CALMS R B. Infrared spectroscopic studies on solid oxygen[D]. Berkeley: "
                "University of California, 1965."),
], ids=["cn-book", "en-book", "cn-article-doi", "en-article-doi", "cn-thesis", "en-thesis"])
def test_gbt7714_for_books_articles_and_theses(fields, expected):
    assert citations.gbt7714(record(**fields)) == expected


# the standard's own examples (GB/T 7714-2015, 附录 A), as catalogue records
STANDARD_EXAMPLES = [
    (dict(type="book", title="经济数学与金融数学", authors=["哈里森", "沃尔德伦"], year=2012,
          publisher="中国人民大学出版社", language="chi",
          extra={"place": "北京", "translator": ["谢远涛"]}),
     "哈里森, 沃尔德伦. 经济数学与金融数学[M]. 谢远涛, 译. 北京: 中国人民大学出版社, 2012."),
    (dict(type="book", title="Probability, random variable, and random signal principles",
          authors=["Peebles, Peyton Z."], publisher="McGraw Hill", year=2001, language="eng",
          extra={"place": "New York", "edition": "4"}),
     "PEEBLES P Z. Probability, random variable, and random signal principles[M]. 4th ed. "
     "New York: McGraw Hill, 2001."),
    (dict(type="book", title="1998年长江洪水的成因与减灾对策", authors=["程根伟"], year=1999,
          publisher="科学出版社", pages="32-36", language="chi",
          extra={"place": "北京", "editor": ["许厚泽", "赵其国"],
                 "container-title": "长江流域洪涝灾害与科技对策"}),
     "程根伟. 1998年长江洪水的成因与减灾对策[M]//许厚泽, 赵其国. 长江流域洪涝灾害与科技对策. "
     "北京: 科学出版社, 1999: 32-36."),
    (dict(type="newspaper", title="我们的科技一直在追赶: 访中国工程院院长周济",
          authors=["余建斌"], journal="人民日报", year=2013, pages="2", language="chi",
          url="http://paper.people.com.cn/rmrb/html/2013-01/12/nw.D110000renmrb_20130112_5-02.htm",
          extra={"issued": "2013-01-12", "accessed": "2013-03-20"}),
     "余建斌. 我们的科技一直在追赶: 访中国工程院院长周济[N/OL]. 人民日报, 2013-01-12(2)"
     "[2013-03-20]. http://paper.people.com.cn/rmrb/html/2013-01/12/"
     "nw.D110000renmrb_20130112_5-02.htm."),
    (dict(type="standard", title="信息与文献 参考文献著录规则", year=2015, language="chi",
          authors=["全国信息与文献标准化技术委员会"], publisher="中国标准出版社",
          extra={"place": "北京", "number": "GB/T 7714—2015",
                 "corporate-authors": ["全国信息与文献标准化技术委员会"]}),
     "全国信息与文献标准化技术委员会. 信息与文献 参考文献著录规则: GB/T 7714—2015[S]. "
     "北京: 中国标准出版社, 2015."),
    (dict(type="patent", title="全智能节电器", authors=["邓一刚"], year=2006, language="chi",
          extra={"number": "200610171314.3", "issued": "2006-12-13"}),
     "邓一刚. 全智能节电器: 200610171314.3[P]. 2006-12-13."),
    (dict(type="other", title="出版业信息化迈入快车道", authors=["萧钰"], year=2001,
          url="http://www.creader.com/news/20011219/200112190019.html", language="chi",
          extra={"issued": "2001-12-19", "accessed": "2002-04-15"}),
     "萧钰. 出版业信息化迈入快车道[EB/OL]. (2001-12-19)[2002-04-15]. "
     "http://www.creader.com/news/20011219/200112190019.html."),
    (dict(type="report", title="Factors regulating the immune response: report of WHO "
          "Scientific Group", authors=["World Health Organization"], publisher="WHO",
          year=1970, language="eng",
          extra={"place": "Geneva", "corporate-authors": ["World Health Organization"]}),
     "WORLD HEALTH ORGANIZATION. Factors regulating the immune response: report of WHO "
     "Scientific Group[R]. Geneva: WHO, 1970."),
    (dict(type="conference", title="第3届全国实验流体力学学术会议论文集", authors=["中国力学学会"],
          year=1990, language="chi", extra={"place": "天津"}),
     "中国力学学会. 第3届全国实验流体力学学术会议论文集[C]. 天津: [出版者不详], 1990."),
]


@pytest.mark.parametrize("fields, expected", STANDARD_EXAMPLES,
                         ids=["translator", "edition", "part", "newspaper-ol", "standard",
                              "patent", "eb-ol", "corporate-report", "proceedings"])
def test_gbt7714_renders_the_standards_examples(fields, expected):
    assert citations.gbt7714(record(**fields)) == expected


@pytest.mark.parametrize("fields, expected", [
    (dict(type="compilation", title="江西省地方性法规汇编", authors=["江西省人大常委会"],
          publisher="江西人民出版社", year=2020, language="chi", extra={"place": "南昌"}),
     "江西省人大常委会. 江西省地方性法规汇编[G]. 南昌: 江西人民出版社, 2020."),
    (dict(type="database", title="PubMed", authors=["National Library of Medicine"],
          publisher="NLM", year=2024, url="https://pubmed.ncbi.nlm.nih.gov", language="eng",
          extra={"place": "Bethesda", "accessed": "2024-05-05"}),
     "NATIONAL LIBRARY OF MEDICINE. PubMed[DB/OL]. Bethesda: NLM, 2024[2024-05-05]. "
     "https://pubmed.ncbi.nlm.nih.gov."),
    (dict(type="software", title="pymarc", authors=["Summers, Ed"], year=2023, language="eng",
          url="https://gitlab.com/pymarc/pymarc", extra={"accessed": "2024-02-10"}),
     "SUMMERS E. pymarc[CP/OL]. (2023)[2024-02-10]. https://gitlab.com/pymarc/pymarc."),
    (dict(type="conference", title="Advances in holographic photoelasticity",
          authors=["Fourney, M. E."], journal="Symposium on Applications of Holography in "
          "Mechanics", publisher="ASME", year=1971, pages="17-38", language="eng",
          extra={"place": "New York", "editor": ["American Society of Mechanical Engineers"]}),
     "FOURNEY M E. Advances in holographic photoelasticity[C]//AMERICAN SOCIETY OF MECHANICAL "
     "ENGINEERS. Symposium on Applications of Holography in Mechanics. New York: ASME, 1971: "
     "17-38."),
    (dict(type="book", title="Book", authors=["Lee, Wen-Jie", "Ho, A", "Ma, B", "Xu, C"],
          publisher="P", year=2000, language="eng",
          extra={"place": "Q", "translator": ["Smith, John"], "edition": "2"}),
     "LEE W J, HO A, MA B, et al. Book[M]. SMITH J, trans. 2nd ed. Q: P, 2000."),
    (dict(type="ebook", title="数字图书馆导论", authors=["王六"], publisher="科学出版社",
          year=2019, url="https://example.org/book/1", language="chi",
          extra={"place": "北京", "edition": "3", "accessed": "2024-03-15"}),
     "王六. 数字图书馆导论[M/OL]. 3版. 北京: 科学出版社, 2019[2024-03-15]. "
     "https://example.org/book/1."),
], ids=["compilation", "database", "software", "corporate-editor", "english-terms", "ebook"])
def test_gbt7714_types_beyond_books(fields, expected):
    assert citations.gbt7714(record(**fields)) == expected


def test_gbt7714_never_writes_today_for_the_date_cited():
    page = record(type="other", title="JALA annual statistics", url="https://example.org/s",
                  year=2024, language="eng")
    assert citations.gbt7714(page) == \
        "JALA annual statistics[EB/OL]. (2024). https://example.org/s."


def test_gbt7714_says_what_is_unknown_in_the_documents_language():
    assert citations.gbt7714(record(type="book", title="江西地方志")) == \
        "江西地方志[M]. [出版地不详: 出版者不详]."
    assert citations.gbt7714(record(type="report", title="Annual report", year=2020,
                                    extra={"place": "Nanchang"})) == \
        "Annual report[R]. Nanchang: [s.n.], 2020."


def test_gbt7714_conference_paper_names_its_proceedings():
    paper = record(type="conference", title="联合编目的实践", authors=["李明"],
                   journal="第五届高校图书馆学术会议论文集", publisher="江西高校出版社",
                   year=2018, pages="12-19", extra={"place": "南昌"})
    assert citations.gbt7714(paper) == (
        "李明. 联合编目的实践[C]//第五届高校图书馆学术会议论文集. "
        "南昌: 江西高校出版社, 2018: 12-19.")


@pytest.mark.parametrize("name, expected", [
    ("Smith, John Adam", "SMITH J A"), ("John A. Smith", "SMITH J A"),
    ("Sartre, Jean-Paul", "SARTRE J P"), ("Li, Wen-Jie", "LI W J"), ("张三", "张三"),
    ("World Health Organization of Nations", "WORLD HEALTH ORGANIZATION OF NATIONS"),
    ("UNESCO", "UNESCO"),
])
def test_gbt_names(name, expected):
    assert gbt_name(name) == expected


def test_corporate_authors_are_never_inverted():
    assert gbt_name("IEEE Computer Society") == "SOCIETY I C"
    assert gbt_name("IEEE Computer Society", {"IEEE Computer Society"}) == \
        "IEEE COMPUTER SOCIETY"
    assert gbt_name("全国信息与文献标准化技术委员会", {"全国信息与文献标准化技术委员会"}) == \
        "全国信息与文献标准化技术委员会"


def test_apostrophes_in_names_and_titles_are_typographic_as_the_official_style_writes_them():
    text = citations.gbt7714(record(type="thesis", title="A reader's guide",
                                    authors=["O'Neill, E. T."], publisher="Ohio State University",
                                    year=1998, language="eng"))
    assert text.startswith("O\u2019NEILL E T. A reader\u2019s guide[D].")


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


def test_ris_and_bibtex_keep_corporate_authors_whole():
    report = record(type="report", title="年度报告", authors=["中国科学院", "Smith, John"],
                    publisher="科学出版社", year=2020,
                    extra={"corporate-authors": ["中国科学院"], "number": "CAS-2020-1"})
    entry = citations.ris(report)
    assert entry.startswith("TY  - RPRT\n")
    assert "AU  - 中国科学院\nAU  - Smith, John\n" in entry and "SN  - CAS-2020-1\n" in entry
    assert "author = {{中国科学院} and Smith, John}," in citations.bibtex(report)
    assert "number = {CAS-2020-1}," in citations.bibtex(report)


def test_ris_and_bibtex_for_parts_patents_and_online_items():
    part = record(type="book", title="书目控制", authors=["王松林"], publisher="出版社", year=1993,
                  pages="401", extra={"container-title": "中国大百科全书", "editor": ["胡迎建"]})
    assert citations.ris(part).startswith("TY  - CHAP\nAU  - 王松林\nED  - 胡迎建\n")
    assert "T2  - 中国大百科全书\n" in citations.ris(part)
    assert citations.bibtex(part).startswith("@incollection{")
    assert "booktitle = {中国大百科全书}," in citations.bibtex(part)
    patent = record(type="patent", title="全智能节电器", authors=["邓一刚"], year=2006,
                    url="https://example.org/p",
                    extra={"number": "200610171314.3", "issued": "2006-12-13",
                           "accessed": "2024-01-02"})
    entry = citations.ris(patent)
    assert "TY  - PAT\n" in entry and "DA  - 2006/12/13/\n" in entry
    assert "SN  - 200610171314.3\n" in entry and "Y2  - 2024/01/02/\n" in entry
    assert "urldate = {2024-01-02}," in citations.bibtex(patent)


# --- CSL-JSON -------------------------------------------------------------------------------

def test_csl_json_of_an_article_and_a_book_part():
    items = json.loads(citations.export([record(id=1, **CN_ARTICLE), record(
        id=2, type="book", title="书目控制", authors=["王松林", "中国科学院"], year=1993,
        extra={"container-title": "中国大百科全书", "editor": ["Smith, John A."],
               "translator": ["Lee, Wen-Jie"], "edition": "2", "place": "北京",
               "corporate-authors": ["中国科学院"], "accessed": "2024-01-02"},
        publisher="出版社", pages="401", url="https://example.org/b")], "csl-json"))
    assert items[0] == {
        "id": "1", "type": "article-journal",
        "title": "蓝田生物群: 一个认识多细胞生物起源和早期演化的新窗口",
        "author": [{"literal": "袁训来"}, {"literal": "陈哲"}, {"literal": "肖书海"}],
        "container-title": "科学通报", "volume": "55", "issue": "34", "page": "3219-3227",
        "issued": {"date-parts": [[2012]]}, "DOI": "10.1360/972012-1018", "language": "zh-CN"}
    part = items[1]
    assert part["type"] == "chapter" and part["container-title"] == "中国大百科全书"
    assert part["author"] == [{"literal": "王松林"}, {"literal": "中国科学院"}]
    assert part["editor"] == [{"family": "Smith", "given": "John A."}]
    assert part["translator"] == [{"family": "Lee", "given": "Wen-Jie"}]
    assert part["edition"] == "2" and part["publisher-place"] == "北京"
    assert part["accessed"] == {"date-parts": [[2024, 1, 2]]}


@pytest.mark.parametrize("rtype, extra, url, expected", [
    ("thesis", {}, None, "thesis"), ("newspaper", {}, None, "article-newspaper"),
    ("standard", {}, None, "standard"), ("patent", {}, None, "patent"),
    ("conference", {}, None, "paper-conference"), ("report", {}, None, "report"),
    ("database", {}, None, "dataset"), ("software", {}, None, "software"),
    ("other", {}, "https://x.org", "webpage"), ("other", {}, None, "document"),
    ("compilation", {}, None, "book"),
])
def test_csl_json_types(rtype, extra, url, expected):
    item = json.loads(citations.export([record(type=rtype, title="T", extra=extra, url=url)],
                                       "csl-json"))[0]
    assert item["type"] == expected


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
