"""What staff write is shown as formatting, never as script, and pictures only from the portal."""
from jala.community.markup import plain_text, render_markdown


def test_markdown_keeps_formatting_and_shows_html_as_text():
    html = render_markdown("**重要** <script>alert(1)</script> <img src=x onerror=alert(1)>")
    assert "<strong>重要</strong>" in html
    assert "<script" not in html and "<img" not in html and "&lt;script&gt;" in html


def test_links_keep_only_web_addresses():
    html = render_markdown("[a](javascript:alert(1)) [b](https://lib.example.edu.cn/x)")
    assert "javascript:" not in html.replace("[a](javascript:alert(1))", "")
    assert 'href="https://lib.example.edu.cn/x"' in html and "nofollow" in html


def test_pictures_come_only_from_the_portal():
    html = render_markdown("![outside](https://tracker.example/p.png) ![inside](/files/view/t1) "
                           "![sneaky](//tracker.example/p.png) ![back](/\\tracker.example/p.png)")
    assert 'src="/files/view/t1"' in html
    # the backslash is escaped to a path on the portal itself; the others lose their address
    sources = [part.split('"')[0] for part in html.split('src="')[1:]]
    assert sources == ["/files/view/t1", "/%5Ctracker.example/p.png"]


def test_plain_text_is_the_words_without_markup_cut_to_length():
    assert plain_text("# 标题\n\n**一段** <b>文字</b> & 更多") == "标题 一段 <b>文字</b> & 更多"
    assert plain_text("一二三四五六七八九十", 5) == "一二三四…"
