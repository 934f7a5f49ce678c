"""CQL 1.2 (the Contextual Query Language of SRU) read into a small tree.

``parse_cql('dc.title = "中国 历史" and (dc.creator any "li wang" or fish)')`` gives
``Boolean("and", Clause("dc.title", "=", [], "中国 历史"), Boolean("or", …))``. The four
booleans (and, or, not, prox) bind equally, left to right, as the grammar says; prefix
assignments (``> dc = "…"``) are read and set aside; ``sortBy`` keys are kept. A query that
does not follow the grammar raises ``Diagnostic`` with the SRU diagnostic number.
"""
import re
from dataclasses import dataclass
from dataclasses import field as dataclass_field

BOOLEANS = ("and", "or", "not", "prox")
SYMBOLS = ("==", "<>", "<=", ">=", "=", "<", ">", "/", "(", ")")
_WORD_RE = re.compile(r'[^\s()=<>"/]+')
_SPACE_RE = re.compile(r"\s+")


class Diagnostic(Exception):
    """An SRU diagnostic: ``code`` is its info:srw/diagnostic/1/ number, ``detail`` says why."""

    def __init__(self, code, detail):
        super().__init__(detail)
        self.code = code
        self.detail = detail


@dataclass
class Modifier:
    """``/name`` or ``/name=value`` after a relation or a boolean."""

    name: str
    comparator: str = None
    value: str = None


@dataclass
class Clause:
    """``index relation term`` (a bare term has index None and relation None)."""

    index: str
    relation: str
    modifiers: list
    term: str


@dataclass
class Boolean:
    """``left op right``."""

    op: str
    left: object
    right: object
    modifiers: list = dataclass_field(default_factory=list)


@dataclass
class Query:
    """The parsed query and its sort keys (``[(index, [Modifier])]``)."""

    root: object
    sort_keys: list = dataclass_field(default_factory=list)


@dataclass
class _Token:
    kind: str  # "word", "quoted", or the symbol itself
    text: str
    position: int


def _quoted(text, start):
    """The quoted string starting at ``start`` (its backslash escapes kept) and where it ends."""
    i = start + 1
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text[i] == '"':
            return text[start + 1:i], i + 1
        i += 1
    raise Diagnostic(14, f"unterminated quote at position {start + 1}")


def tokenize(text):
    """The query's tokens: words, quoted strings and the symbols of the grammar."""
    tokens, i = [], 0
    while i < len(text):
        space = _SPACE_RE.match(text, i)
        if space:
            i = space.end()
            continue
        if text[i] == '"':
            value, end = _quoted(text, i)
            tokens.append(_Token("quoted", value, i))
            i = end
            continue
        symbol = next((s for s in SYMBOLS if text.startswith(s, i)), None)
        if symbol:
            tokens.append(_Token(symbol, symbol, i))
            i += len(symbol)
            continue
        word = _WORD_RE.match(text, i)
        tokens.append(_Token("word", word.group(), i))
        i = word.end()
    return tokens


def unescape(term):
    """A term without its backslash escapes (a backslash keeps the character after it)."""
    return re.sub(r"\\(.)", r"\1", term)


class _Parser:
    def __init__(self, text):
        self.tokens = tokenize(text)
        self.at = 0

    def peek(self, offset=0):
        index = self.at + offset
        return self.tokens[index] if index < len(self.tokens) else None

    def take(self):
        token = self.peek()
        self.at += 1
        return token

    def is_word(self, token, *words):
        return token is not None and token.kind == "word" and token.text.lower() in words

    def fail(self, what):
        token = self.peek()
        where = f"at position {token.position + 1} ('{token.text}')" if token else "at the end"
        raise Diagnostic(10, f"{what} {where}")

    def query(self):
        while self.peek() is not None and self.peek().kind == ">":
            self.prefix_assignment()
        root = self.scoped_clause()
        return root

    def prefix_assignment(self):
        self.take()
        if self.peek(1) is not None and self.peek(1).kind == "=":
            self.term("a prefix")
            self.take()
        self.term("a context set identifier")

    def scoped_clause(self):
        left = self.search_clause()
        while self.is_word(self.peek(), *BOOLEANS):
            op = self.take().text.lower()
            modifiers = self.modifiers()
            left = Boolean(op, left, self.search_clause(), modifiers)
        return left

    def search_clause(self):
        token = self.peek()
        if token is None:
            self.fail("a search term is missing")
        if token.kind == "(":
            self.take()
            inner = self.query()
            if self.peek() is None or self.peek().kind != ")":
                raise Diagnostic(13, f"the parenthesis at position {token.position + 1} "
                                   "is not closed")
            self.take()
            return inner
        first = self.term("a search term")
        relation = self.peek()
        if relation is None or relation.kind in (")", "quoted") or \
                self.is_word(relation, *BOOLEANS, "sortby"):
            return Clause(None, None, [], first)
        if relation.kind not in ("word", "==", "<>", "<=", ">=", "=", "<", ">"):
            self.fail("a relation was expected")
        self.take()
        modifiers = self.modifiers()
        return Clause(first, relation.text.lower() if relation.kind == "word" else relation.text,
                      modifiers, self.term("a search term"))

    def term(self, what):
        token = self.peek()
        if token is None or token.kind not in ("word", "quoted"):
            self.fail(f"{what} was expected")
        self.take()
        return token.text

    def modifiers(self):
        found = []
        while self.peek() is not None and self.peek().kind == "/":
            self.take()
            name = self.term("a modifier")
            comparator = self.peek()
            if comparator is not None and comparator.kind in ("=", "==", "<>", "<", ">", "<=",
                                                              ">="):
                self.take()
                found.append(Modifier(name, comparator.text, self.term("a modifier value")))
            else:
                found.append(Modifier(name))
        return found

    def sort_keys(self):
        if not self.is_word(self.peek(), "sortby"):
            return []
        self.take()
        keys = []
        while self.peek() is not None:
            keys.append((self.term("a sort key"), self.modifiers()))
        if not keys:
            self.fail("a sort key is missing")
        return keys


def parse_cql(text):
    """The query as a tree (``Query``); raises Diagnostic for anything the grammar refuses."""
    if not (text or "").strip():
        raise Diagnostic(27, "the query is empty")
    parser = _Parser(text)
    root = parser.query()
    sort_keys = parser.sort_keys()
    if parser.peek() is not None:
        if parser.peek().kind == ")":
            raise Diagnostic(13, f"unbalanced parenthesis at position {parser.peek().position + 1}")
        parser.fail("unexpected text")
    return Query(root, sort_keys)
