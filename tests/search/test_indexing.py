"""What a record looks like to the index: exact lexemes, positions and weights."""
import pytest
from pypinyin import lazy_pinyin

from jala.search.indexing import build_document
from jala.search.normalize import CJK_RE
from jala.search.pinyin import romanize
from jala.search.tokens import VectorBuilder


def test_document_of_a_mixed_title_keeps_its_lexemes_positions_and_weights():
    # Traditional and full-width characters, a Latin word, digits, an underscore between two
    # CJK characters (still a bigram), an identifier of each kind and a name with a quote
    document = build_document({
        "title": "圖書館學ＡＢＣ：理論_方法 2.0版", "authors": ["張三", "O'Brien"],
        "keywords": ["資訊"], "isbn_list": ["9787503717444"], "issn_list": ["0317-8471"],
        "year": 2001, "publisher": "科學出版社"})
    title = ("'图':1A '图书':1A '书':2A '书馆':2A '馆':3A '馆学':3A '学':4A 'abc':5A '理':6A "
             "'理论':6A '论':7A '论方':7A '方':8A '方法':8A '法':9A '2':10A '0':11A '版':12A "
             "'~tushu':21A '~shuguan':22A '~guanxue':23A '~xueli':24A '~lilun':25A "
             "'~lunfang':26A '~fangfa':27A '~faban':28A")
    assert document == {
        "title_key": "图书馆学abc理论方法20版",
        "title_vector": title,
        "search_vector": title.replace("'学':4A", "'学':4A,97C").replace("'版':12A", "'版':12A,99C")
        + " '9787503717444':38A '03178471':47A '张':56B '张三':56B '三':57B 'o':66B 'brien':67B "
          "'~zhangsan':76B '资':86B '资讯':86B '讯':87B '科':96C '科学':96C '学出':97C '出':98C "
          "'出版':98C '版社':99C '社':100C",
        "search_text": "图书馆学 abc:理论_方法 2.0 版 张三 o'brien",
        "match_key": "图书馆学abc理论方法20版|张三|2001",
        "pinyin_key": "tushuguanxueabclilunfangfa20ban",
        "initials_key": "tsgxallff20b",
    }


def test_catalogue_romanisation_gives_the_pinyin_lexemes():
    document = build_document({"title": "中国发展报告",
                                "title_pinyin": "Zhong Guo Fa Zhan Bao Gao"})
    assert document["title_vector"].endswith(
        "'~zhongguo':15A '~guofa':16A '~fazhan':17A '~zhanbao':18A '~baogao':19A")
    assert document["match_key"] is None
    assert document["pinyin_key"] == "zhongguofazhanbaogao"


def test_pinyin_key_runs_the_title_together_and_is_bounded():
    document = build_document({"title": "Sol-gel法合成La0.8Sr0.2Co1-yFeyO3及其电性能研究"})
    assert document["pinyin_key"] == "solgelfahechengla08sr02co1yfeyo3jiqidianxingnengyanjiu"
    assert len(build_document({"title": "图书馆" * 100})["pinyin_key"]) == 120


def test_initials_key_takes_each_syllable_and_word_by_its_first_letter():
    assert build_document({"title": "中国发展报告"})["initials_key"] == "zgfzbg"
    assert build_document({"title": "基于GPS的定位系统"})["initials_key"] == "jygddwxt"
    # polyphones as a dictionary reads them
    assert build_document({"title": "重庆的重要性"})["initials_key"] == "cqdzyx"


def test_romanisation_reads_polyphonic_words_as_in_a_dictionary():
    assert romanize("重庆的银行行长在长城长大了：一个故事") == [
        "chong", "qing", "de", "yin", "hang", "hang", "zhang", "zai", "chang", "cheng", "zhang",
        "da", "le", "yi", "ge", "gu", "shi"]


@pytest.mark.parametrize("title", [
    "重庆银行行长", "长城长大", "基于GIS的长江流域水资源管理研究", "中国的发展：1978-2018",
    "乐曲与快乐", "了解了", "绿色发展略论", "𠀀中国〇", "（Ⅻ）一二三"])
def test_romanisation_reads_a_title_as_pypinyin_reads_it_whole(title):
    # romanize() reads dictionary words one at a time (and remembers them): the reading must
    # be pypinyin's reading of the whole run of CJK characters
    whole = lazy_pinyin("".join(CJK_RE.findall(title)), errors="ignore")
    assert romanize(title) == [s.replace("ü", "v") for s in whole]


def test_a_lexeme_with_a_quote_or_backslash_is_escaped_in_the_literal():
    builder = VectorBuilder()
    builder.add_exact("o'k", "A")
    builder.add_exact("a\\b", "B")
    assert builder.literal() == "'o''k':1A 'a\\\\b':10B"


def test_authors_are_indexed_in_pinyin_with_surnames_read_as_surnames():
    vector = build_document({"title": "湘军志", "authors": ["曾国藩", "单田芳"]})["search_vector"]
    assert "'~zengguo':" in vector and "'~guofan':" in vector  # not ceng
    assert "'~shantian':" in vector  # not dan
    # the catalogue's own romanisation (CNMARC 70x $A, from a real record) is indexed as
    # well as pypinyin's everyday reading
    vector = build_document({"title": "中国发展报告", "authors": ["叶震"],
                             "authors_pinyin": ["Xie Zhen"]})["search_vector"]
    assert "'~xiezhen':" in vector and "'~yezhen':" in vector
    assert "'~xiezhen':" not in build_document({"title": "中国发展报告",
                                                "authors": ["叶震"]})["search_vector"]
