"""The query language: free text, "phrases", -exclusion, OR, and fields (title:, author:, …).

The reader's text never reaches PostgreSQL's tsquery parser: it is tokenised here exactly as
the index is, and the tsquery is written from those tokens, each one quoted. So ampersands,
bars, colons, stars, brackets, quotes and backslashes are just characters, and no input can
make the query fail.
"""
import re
from dataclasses import dataclass
from dataclasses import field as dataclass_field

from jala.search.normalize import alnum_only, canonical_isbn, canonical_issn, normalize_text
from jala.search.pinyin import pinyin_key, pinyin_readings
from jala.search.tokens import pinyin_pair_lexemes, units

FIELD_WEIGHTS = {"title": "A", "author": "B", "keyword": "B", "subject": "C"}
FIELDS = set(FIELD_WEIGHTS) | {"isbn", "issn", "year"}
MAX_CLAUSES = 12
MIN_PINYIN_KEY = 4
MAX_QUERY_LENGTH = 500
_TOKEN_RE = re.compile(r'(-?)(?:([A-Za-z]+):)?(?:"([^"]*)"?|(\S+))')
_YEAR_RE = re.compile(r"^(\d{4})?(?:-|–|\.\.)?(\d{4})?$")


@dataclass
class Clause:
    """One part of the query: a term or phrase, maybe negated, maybe restricted to a field."""

    text: str
    phrase: bool = False
    negate: bool = False
    field: str = None
    alternatives: list = dataclass_field(default_factory=list)  # clauses OR-ed with this one


@dataclass
class ParsedQuery:
    """What the reader asked for, ready to become SQL."""

    raw: str
    tsquery: str = ""
    title_key: str = ""
    pinyin_key: str = ""  # a Latin-script query run together, to meet titles' pinyin keys
    highlight: list = dataclass_field(default_factory=list)
    # the clauses' texts when every clause is plain (no field, quotes, OR or '-'): a query the
    # forgiving search may read more loosely
    plain: list = dataclass_field(default_factory=list)
    year_from: int = None
    year_to: int = None
    errors: list = dataclass_field(default_factory=list)

    @property
    def is_empty(self):
        return not self.tsquery


def _quote(lexeme):
    return "'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "'"


def _operand(lexeme, weight="", prefix=False):
    suffix = (("*" if prefix else "") + weight)
    return _quote(lexeme) + (":" + suffix if suffix else "")


def _phrase(positioned, weight="", prefix_last=False):
    """``[(lexeme, position)]`` → ``'a' <1> 'b' <2> 'c'`` (or a single operand)."""
    parts = []
    previous = None
    for i, (lexeme, pos) in enumerate(positioned):
        op = _operand(lexeme, weight, prefix_last and i == len(positioned) - 1)
        parts.append(op if previous is None else f"<{pos - previous}> {op}")
        previous = pos
    text = " ".join(parts)
    return f"({text})" if len(parts) > 1 else text


def query_lexemes(normalized):
    """Query-side tokens with positions: CJK runs as bigrams (single characters alone)."""
    seq = units(normalized)
    out = []
    for i, (kind, text) in enumerate(seq):
        if kind == "cjk":
            prev_cjk = i > 0 and seq[i - 1][0] == "cjk"
            next_cjk = i + 1 < len(seq) and seq[i + 1][0] == "cjk"
            if next_cjk:
                out.append((text + seq[i + 1][1], i))
            elif not prev_cjk:
                out.append((text, i))
        else:
            out.append((text, i))
    return out, seq


def _clause_tsquery(clause, is_last):
    weight = FIELD_WEIGHTS.get(clause.field, "")
    normalized = normalize_text(clause.text)
    isbn = canonical_isbn(clause.text) if clause.field in (None, "isbn") else None
    if isbn:
        return _operand(isbn, weight)
    issn = canonical_issn(clause.text) if clause.field in (None, "issn") else None
    if issn and (clause.field == "issn" or re.fullmatch(r"\d{4}-?\d{3}[\dXx]", clause.text)):
        return _operand(issn.replace("-", "").lower(), weight)
    if clause.field in ("isbn", "issn"):
        return None  # not a valid identifier: it cannot match anything
    positioned, seq = query_lexemes(normalized)
    if not positioned:
        return None
    prefix = (is_last and not clause.phrase and seq[-1][0] == "word" and len(seq[-1][1]) >= 2
              and not clause.negate)
    term = _phrase(positioned, weight, prefix_last=prefix)
    if clause.field == "author":  # author:zengguofan, author:"zeng guofan" → 曾国藩
        names = _pinyin_phrases(clause.text.split(), weight)
        if names:
            return "(" + " | ".join([term, *names]) + ")"
    return term


def _pinyin_phrases(words, weight=""):
    """Phrases of syllable pairs for the likely readings of typed pinyin words, best first.

    A lone syllable says too little: a reading of one syllable is left out.
    """
    # readings can spell the same pairs ('fang an' and 'fan gan' both give '~fangan')
    return list(dict.fromkeys(_phrase(pinyin_pair_lexemes(r, 0)[0], weight)
                              for r in pinyin_readings(words) if len(r) >= 2))


def _pinyin_alternative(clauses):
    """The query read as toneless pinyin ('zhongguo fazhan' → 中国发展), if it can be.

    Runs of pinyin words become phrases of syllable pairs, one for each likely reading of the
    run (OR-ed: 'fangan' is read fang an and fan gan); other words (Latin, numbers) stay as
    they are, so 'Sol gel fa he cheng' finds Sol-gel法合成.
    """
    if not clauses or any(c.negate or c.field or c.alternatives for c in clauses):
        return None
    parts, run, pinyin_syllables = [], [], 0

    def close_run():
        nonlocal pinyin_syllables
        phrases = _pinyin_phrases(run)
        if phrases:
            parts.append(phrases[0] if len(phrases) == 1 else "(" + " | ".join(phrases) + ")")
            pinyin_syllables += max(len(r) for r in pinyin_readings(run))
        run.clear()

    for clause in clauses:
        # acronyms (MRI, GPS) are not pinyin
        is_pinyin = not (clause.text.isupper() and len(clause.text) > 1) and \
            bool(pinyin_readings([clause.text]))
        if is_pinyin:
            run.append(clause.text)
        else:
            close_run()
            term = _clause_tsquery(clause, False)
            if term:
                parts.append(term)
    close_run()
    if pinyin_syllables < 2:
        return None
    return " & ".join(parts) if len(parts) > 1 else parts[0]


def _pinyin_key(clauses):
    """The query run together as a pinyin key, when it is plain Latin-script text."""
    if any(c.negate or c.field or c.alternatives or not c.text.isascii() for c in clauses):
        return ""
    key = pinyin_key(normalize_text(" ".join(c.text for c in clauses)))
    return key if len(key) >= MIN_PINYIN_KEY else ""


def tokenize(raw):
    """Split the raw query into clauses, folding ``a OR b`` into alternatives."""
    clauses = []
    pending_or = False
    for match in _TOKEN_RE.finditer(raw):
        minus, field_name, quoted, bare = match.groups()
        if bare == "OR" and not minus and not field_name:
            pending_or = bool(clauses)
            continue
        field_name = field_name.lower() if field_name else None
        if field_name and field_name not in FIELDS:
            bare = f"{field_name}:{bare or quoted or ''}"  # 'http:' and the like: plain text
            field_name = None
            quoted = None
        text = quoted if quoted is not None else bare
        if not text:
            continue
        clause = Clause(text=text, phrase=quoted is not None, negate=bool(minus), field=field_name)
        if pending_or and not clause.negate:
            clauses[-1].alternatives.append(clause)
        else:
            clauses.append(clause)
        pending_or = False
    return clauses


def parse_query(raw):
    """Turn what the reader typed into a ParsedQuery (never raises)."""
    raw = (raw or "")[:MAX_QUERY_LENGTH]
    parsed = ParsedQuery(raw=raw)
    clauses = []
    for clause in tokenize(raw):
        if clause.field == "year":
            match = _YEAR_RE.match(clause.text.strip())
            if match and any(match.groups()):
                parsed.year_from = int(match.group(1)) if match.group(1) else None
                parsed.year_to = int(match.group(2)) if match.group(2) else None
                if "-" not in clause.text and ".." not in clause.text and "–" not in clause.text:
                    parsed.year_to = parsed.year_from
            else:
                parsed.errors.append(f"year:{clause.text}")
            continue
        clauses.append(clause)
    clauses = clauses[:MAX_CLAUSES]
    positives, negatives = [], []
    for index, clause in enumerate(clauses):
        is_last = index == len(clauses) - 1
        options = [q for q in (_clause_tsquery(c, is_last) for c in [clause, *clause.alternatives])
                   if q]
        if not options:
            if not clause.negate and clause.field in ("isbn", "issn"):
                parsed.errors.append(f"{clause.field}:{clause.text}")
                positives.append("'~~no-such-identifier'")
            continue
        expression = options[0] if len(options) == 1 else "(" + " | ".join(options) + ")"
        if clause.negate:
            negatives.append("!" + expression)
        else:
            positives.append(expression)
            for c in [clause, *clause.alternatives]:
                text = normalize_text(c.text).strip()
                if text and not c.field:
                    parsed.highlight.append(text)
    if negatives and not positives:
        # a query of exclusions alone would find nothing: read its '-' as a hyphen
        return parse_query(raw.replace("-", " "))
    if positives:
        main = " & ".join(positives + negatives)
        alternative = _pinyin_alternative([c for c in clauses if not c.field])
        if alternative and not negatives:
            main = f"({main}) | {alternative}"
        parsed.tsquery = main
    plain = [c.text for c in clauses if not c.negate and not c.field and not c.alternatives]
    if plain and len(plain) == len(clauses):
        parsed.title_key = title_key(" ".join(plain))
        if not any(c.phrase for c in clauses):
            parsed.plain = plain
    if parsed.tsquery and clauses:
        parsed.pinyin_key = _pinyin_key(clauses)
    return parsed


def title_key(text):
    """The comparison form of a title: normalised, letters and digits only."""
    return alnum_only(normalize_text(text))
