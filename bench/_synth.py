"""Synthetic catalogue records built from the vocabulary of the real CSL records.

Titles are *bigram chains* over the real titles: take a random piece of a real title, then jump
to another real title at an occurrence of the piece's last character and carry on from there,
until the title has a length drawn from the real length distribution. Every adjacent pair of
characters is therefore a pair that occurs in a real title, and character and bigram
frequencies follow the real ones (研究, 的, 分析 are as common as in the CSL data). Some titles
start from a real keyword (基于…的…), some carry a real Latin token (GPS, TiO2, WTO …). About one
record in nine has an abstract spliced from real abstract sentences; a third have real keywords;
most have authors. Years 1980-2025 (recent years more common), the catalogue's types, 1-4
holding libraries each.

The stream is deterministic for a given seed, so it can be generated twice (once for the
database, once for tantivy) without keeping a million records in memory.
"""
import bisect
import itertools
import json
import random
import re
from collections import Counter, defaultdict

LIBRARIES = ("JXUFE", "ECJTU", "JXAU", "NCHU", "ECUT", "JXUTCM", "JXSTNU", "NCU", "JJU", "NIT",
             "SRNU", "JDZU", "YCU", "JXEMC", "JCU")
LIBRARY_WEIGHTS = (10, 9, 8, 7, 6, 6, 6, 12, 4, 4, 3, 3, 3, 2, 3)
TYPES = ("book", "article", "thesis", "journal", "conference", "ebook", "report", "standard",
         "patent", "other")
TYPE_WEIGHTS = (45, 30, 8, 3, 4, 5, 2, 1, 1, 1)
SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡"
            "余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯"
            "龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤")
GIVEN = ("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红鹏飞斌辉波宁俊文浩宇晨欣悦婷"
         "雪琳建国庆林峰海燕志新春梅东亮凯晓丹慧琴颖佳鑫雨欣怡子涵梓轩")
_LATIN_RE = re.compile(r"[A-Za-z][A-Za-z0-9\-]*[A-Za-z0-9]|[A-Za-z]{2,}")
_SENTENCE_RE = re.compile(r"[^。；;.!?！？]+[。；;.!?！？]?")
_CJK_RE = re.compile(r"[\u4e00-\u9fff]")


class Vocabulary:
    """What the generator samples from, taken from the real records."""

    def __init__(self, path):
        self.titles = []
        self.keywords = []
        self.sentences = []
        self.categories = []
        self.disciplines = []
        latin = Counter()
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                if not line.strip():
                    continue
                rec = json.loads(line)
                self.titles.append(rec["title"])
                self.keywords.extend(rec.get("keywords") or [])
                if rec.get("abstract"):
                    self.sentences.extend(s.strip() for s in _SENTENCE_RE.findall(
                        rec["abstract"]) if len(s.strip()) >= 8)
                self.categories.append(rec.get("category"))
                if rec.get("discipline"):
                    self.disciplines.append(rec["discipline"])
                for text in [rec["title"], *(rec.get("keywords") or [])]:
                    latin.update(_LATIN_RE.findall(text))
        self.latin = [w for w, n in latin.items() for _ in range(n) if len(w) >= 2]
        self.lengths = [len(t) for t in self.titles]
        # where each character occurs: (title index, position) pairs, for chain jumps
        self.occurrences = defaultdict(list)
        for ti, title in enumerate(self.titles):
            for pos, ch in enumerate(title[:-1]):
                self.occurrences[ch].append((ti, pos))
        self.char_counts = Counter(ch for t in self.titles for ch in t if _CJK_RE.match(ch))
        self.bigram_counts = Counter(t[i:i + 2] for t in self.titles for i in range(len(t) - 1)
                                     if _CJK_RE.match(t[i]) and _CJK_RE.match(t[i + 1]))
        self.short_keywords = sorted({k for k in self.keywords
                                      if 2 <= len(k) <= 4 and all(_CJK_RE.match(c) for c in k)})
        self.journals = None

    def journal_names(self, rng, n=300):
        if self.journals is None:
            suffixes = ("学报", "研究", "杂志", "科学", "技术", "通讯", "论坛", "与实践")
            names = set()
            while len(names) < n:
                kw = rng.choice(self.short_keywords)
                names.add(rng.choice(("", "中国", "现代", "江西")) + kw + rng.choice(suffixes))
            self.journals = sorted(names)
        return self.journals


def chain_title(vocab, rng, length=None):
    """A title of realistic length made of real title pieces joined at shared characters."""
    titles = vocab.titles
    length = length or rng.choice(vocab.lengths)
    ti = rng.randrange(len(titles))
    title = titles[ti]
    pos = rng.randrange(max(1, len(title) - 2))
    out = []
    total = 0
    while True:
        piece_len = rng.randint(3, 10)
        piece = title[pos:pos + piece_len]
        out.append(piece)
        total += len(piece)
        if total >= length:
            break
        last = piece[-1]
        jumps = vocab.occurrences.get(last)
        if not jumps:
            break
        ti, p = jumps[rng.randrange(len(jumps))]
        title = titles[ti]
        pos = p + 1
        if pos >= len(title):
            break
    return "".join(out)[:max(length, 2)].strip(" -—:：,，")


def _isbn13(n):
    digits = f"9787{n % 10**8:08d}"
    check = (10 - sum((1 if i % 2 == 0 else 3) * int(d) for i, d in enumerate(digits)) % 10) % 10
    return digits + str(check)


class Generator:
    """Deterministic stream of synthetic records in the JSON Lines import contract."""

    def __init__(self, vocab, seed=20261124):
        self.vocab = vocab
        self.seed = seed
        self._lib_cum = list(itertools.accumulate(LIBRARY_WEIGHTS))
        self._type_cum = list(itertools.accumulate(TYPE_WEIGHTS))

    def _weighted(self, rng, items, cum):
        return items[bisect.bisect_right(cum, rng.random() * cum[-1])]

    def records(self, n, start=0):
        """Yield ``(position, dict)`` for records start .. n-1 (positions from 1)."""
        vocab = self.vocab
        rng = random.Random(self.seed)
        journals = vocab.journal_names(random.Random(self.seed + 1))
        for i in range(n):
            rec = self._record(i, rng, vocab, journals)
            if i >= start:
                yield i + 1, rec

    def _record(self, i, rng, vocab, journals):
        r = rng.random()
        if r < 0.12:
            title = "基于" + rng.choice(vocab.keywords) + "的" + chain_title(
                vocab, rng, rng.randint(6, 16))
        elif r < 0.22:
            title = chain_title(vocab, rng)
            cut = rng.randrange(len(title) + 1)
            title = title[:cut] + rng.choice(vocab.latin) + title[cut:]
        elif r < 0.24:
            title = rng.choice(vocab.keywords) + "研究"
        else:
            title = chain_title(vocab, rng)
        rtype = self._weighted(rng, TYPES, self._type_cum)
        rec = {"source_id": f"syn-{i:08d}", "type": rtype, "title": title or "无题",
               "language": "zh" if rng.random() < 0.97 else "en"}
        year = 2025 - int(abs(rng.gauss(0, 12)))
        rec["year"] = max(1980, year)
        if rng.random() < 0.75:
            rec["authors"] = [rng.choice(SURNAMES) + "".join(
                rng.choice(GIVEN) for _ in range(rng.randint(1, 2)))
                for _ in range(rng.randint(1, 3))]
        if rng.random() < 0.33:
            rec["keywords"] = [rng.choice(vocab.keywords) for _ in range(rng.randint(2, 5))]
        if rng.random() < 0.11:
            rec["abstract"] = "".join(rng.choice(vocab.sentences)
                                      for _ in range(rng.randint(2, 6)))[:2000]
        if rtype == "article":
            rec["journal"] = rng.choice(journals)
        elif rtype in ("book", "ebook") and rng.random() < 0.6:
            rec["isbn"] = _isbn13(i)
        if rng.random() < 0.5:
            rec["category"] = rng.choice(vocab.categories)
        if vocab.disciplines and rng.random() < 0.3:
            rec["discipline"] = rng.choice(vocab.disciplines)
        libs = []
        for _ in range(rng.choice((1, 1, 1, 2, 2, 3, 4))):
            lib = self._weighted(rng, LIBRARIES, self._lib_cum)
            if lib not in libs:
                libs.append(lib)
        rec["holdings"] = [{"library": lib, "status": "available",
                            "call_number": f"TP{i % 997}/{i % 89}"} for lib in libs]
        return rec
