"""A little catalogue for the search tests, and what a search shows of it."""

BOOKS = [
    {"source_id": "b1", "title": "图书馆学概论", "authors": ["吴慰慈"], "year": 2019,
     "isbn": "978-7-04-024765-7", "subjects": ["图书馆学"], "publisher": "国家图书馆出版社",
     "holdings": [{"library": "JXUFE", "status": "available", "call_number": "G250/12"},
                  {"library": "NCU", "status": "on_loan"}]},
    {"source_id": "b2", "title": "数字图书馆的服务创新研究", "authors": ["李明"], "year": 2015,
     "keywords": ["图书馆学", "服务"], "holdings": [{"library": "JXAU"}]},
    {"source_id": "b3", "title": "中国发展报告", "authors": ["国家统计局"], "year": 1994,
     "publisher": "中国统计出版社"},
    {"source_id": "b4", "type": "article", "title": "基于COVID-19疫情的高校图书馆服务调查",
     "authors": ["王芳"], "year": 2021, "abstract": "本文调查了江西高校图书馆的线上服务。",
     "language": "zh", "category": "管理学", "discipline": "图书情报与档案管理"},
    {"source_id": "b5", "type": "article", "title": "Lyapunov stability of nonlinear control",
     "authors": ["Zhang Wei"], "year": 2018, "language": "en", "category": "工学"},
    {"source_id": "b6", "type": "thesis", "title": "图书馆", "year": 2000},
]


def titles(result):
    """The titles of a search result's hits, in order."""
    return [hit.title for hit in result.hits]
