"""中图法 class numbers: parsing, the tree of named classes, names in the UI language."""
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from flask_babel import force_locale

from jala.catalog import clc

SHARED_MARC = Path(__file__).resolve().parents[2] / "jala" / "demo"  # the shared samples, shipped
CNMARC = "{http://www.nlc.cn/}"


def _class_numbers_in(path):
    """The 690 $a values (中图法 class numbers) of a CNMARC XML file, as the library sent them."""
    tree = ET.parse(path)
    return [subfield.text for field in tree.iter()
            if field.tag.endswith("datafield") and field.get("tag") == "690"
            for subfield in field if subfield.get("code") == "a"]


@pytest.mark.parametrize("name", ["dp2-sample_cnmarcxml.xml", "dp2-sample_unimarcxml.xml"])
def test_real_class_numbers_parse_to_their_named_path(name):
    values = _class_numbers_in(SHARED_MARC / name)
    assert len(values) == 12 and set(values) == {"F124", "F12", "D668"}
    paths = {value: clc.class_path(*clc.class_codes(value)) for value in values}
    assert paths == {"F124": ["F", "F1", "F12", "F124"], "F12": ["F", "F1", "F12"],
                     "D668": ["D", "D6"]}
    assert [name for _, name in clc.record_classes("F124")[0][1]] == [
        "经济", "世界各国经济概况、经济史、经济地理", "中国经济", "经济建设和发展"]


def test_several_numbers_with_auxiliary_parts_and_full_width_characters():
    assert clc.class_codes("TP311.13;G250.7") == ["TP311.13", "G250.7"]
    assert clc.class_codes("ｔｐ３１１．１３；Ｇ２５０．７－６２") == ["TP311.13", "G250.7"]
    assert clc.class_codes("K825.6=76, I247.5 、F124(2)") == ["K825.6", "I247.5", "F124"]
    assert clc.class_codes("G250.7:TP393") == ["G250.7"]  # the combination's first class
    assert clc.class_codes("G2507 G250.7") == ["G250.7"]  # the dot after three digits
    assert clc.class_codes("市场经济 L12 TZ3 ") == []  # no such classes
    assert clc.class_codes(None) == []


def test_stored_form_writes_each_class_out_and_keeps_the_rest():
    assert clc.normalize_clc(" ｔｐ３１１１３；g2507-62 ") == "TP311.13;G250.7-62"
    assert clc.normalize_clc("F124, 市场") == "F124;市场"
    assert clc.normalize_clc("  ") is None


def test_path_runs_through_the_nearest_named_classes():
    assert clc.class_path("G250.7") == ["G", "G2", "G25", "G250", "G250.7"]
    assert clc.class_path("G250.76") == ["G", "G2", "G25", "G250", "G250.7"]
    assert clc.class_path("TP311.13") == ["T", "TP", "TP3", "TP31", "TP311", "TP311.13"]
    assert clc.class_path("O211") == ["O"]  # no named class between
    assert clc.parent("G250.7") == "G250" and clc.parent("G") is None
    assert clc.parent("B84") == "B"


def test_the_22_main_classes_and_their_subclasses():
    assert "".join(clc.subclasses()) == "ABCDEFGHIJKNOPQRSTUVXZ"
    assert clc.subclasses("G") == ["G0", "G1", "G2", "G3", "G4", "G8"]
    assert clc.subclasses("G2") == ["G20", "G21", "G22", "G23", "G24", "G25", "G26", "G27"]
    assert len(clc.subclasses("T")) == 16 and clc.subclasses("T")[0] == "TB"
    assert clc.subclasses("G250.7") == []


def test_every_listed_class_is_written_out_and_named_in_both_languages():
    classes = clc.named_classes()
    assert len(classes) == 304
    for code, named in classes.items():
        assert clc.canonical_code(code) == code and named.zh and named.en
        assert code in clc.subclasses(clc.parent(code))


def test_names_follow_the_interface_language(app):
    with app.test_request_context():
        with force_locale("zh_Hans"):
            assert clc.class_name("TP") == "自动化技术、计算机技术"
            assert clc.class_label("G250.76") == "G250.76 图书馆自动化"
        with force_locale("en"):
            assert clc.class_name("TP") == "Automation and computer technology"
            assert clc.class_label("I2") == "I2 Chinese literature"
        assert clc.class_name("G259") is None


def test_counting_by_subclass_counts_a_record_once_per_subclass():
    values = [("TP311.13;G250.7", 1), ("G252;G252.1", 1), ("G251", 2), (None, 5), ("F124", 1)]
    assert clc.count_by_subclass(values) == {"T": 1, "G": 4, "F": 1}
    assert clc.count_by_subclass(values, "G25") == {"G250": 1, "G252": 1, "G251": 2}
    assert clc.in_class("TP311.13;G250.7", "G25") and not clc.in_class("G252", "G250")
