"""A CQL query as the portal's own search request.

The portal's query language (``jala/search/query.py``) is a conjunction of clauses, each a
term, a phrase or an exclusion, a clause possibly OR-ed with others: ``title:"a b" x OR y
-z``. A CQL tree is brought to that shape (conjunctive normal form) and written in it, so SRU
runs the same engine, index and ranking as the search page. What that shape cannot say (an OR
of exclusions, ``dc.date`` inside an OR) is refused with a diagnostic, never answered wrongly.
"""
import re
from dataclasses import dataclass

from jala.protocols.cql import Boolean, Diagnostic, parse_cql, unescape
from jala.search.query import MAX_CLAUSES, MAX_QUERY_LENGTH, parse_query

# (context set, index, the portal's field (None: anywhere), what explain calls it)
INDEXES = (
    ("cql", "serverChoice", None, "Anywhere (server's choice)"),
    ("cql", "anywhere", None, "Anywhere"),
    ("dc", "title", "title", "Title"),
    ("dc", "creator", "author", "Author"),
    ("dc", "subject", "subject", "Subject"),
    ("dc", "date", "year", "Year of publication"),
    ("bath", "isbn", "isbn", "ISBN"),
    ("bath", "issn", "issn", "ISSN"),
)
CONTEXT_SETS = {"cql": "info:srw/cql-context-set/1/cql-v1.2",
                "dc": "info:srw/cql-context-set/1/dc-v1.1",
                "bath": "http://zing.z3950.org/cql/bath/2.0/"}
WORD_RELATIONS = ("=", "adj", "==", "all", "any")
YEAR_RELATIONS = ("=", "==", "<", ">", "<=", ">=", "within")
IGNORED_MODIFIERS = {"relevant", "ignorecase", "word", "string", "cql.relevant",
                     "cql.ignorecase", "cql.word", "cql.string"}
MAX_ALTERNATIVES = 12
# CQL spends words on syntax (indexes, booleans, quotes), so it may run longer than the
# portal's query it becomes; a longer one is refused unread (parsing it costs time and memory)
MAX_CQL_LENGTH = 4 * MAX_QUERY_LENGTH
_FIELDS = {f"{context}.{name}".lower(): field for context, name, field, _ in INDEXES}
_YEAR_RE = re.compile(r"^\d{4}$")


@dataclass(frozen=True)
class YearRange:
    """``dc.date`` narrows the whole query to these years (either end may be open)."""

    first: int = None
    last: int = None


@dataclass
class PortalQuery:
    """The CQL query in the portal's terms: query text, years and sort."""

    q: str
    year_from: int = None
    year_to: int = None
    sort: str = "relevance"


def _field_of(index):
    name = index.lower()
    if "." not in name:  # an index without its context set: dc's, bath's or cql's
        name = next((f"{context}.{name}" for context in ("dc", "bath", "cql")
                     if f"{context}.{name}" in _FIELDS), name)
    if name not in _FIELDS:
        raise Diagnostic(16, index)
    return _FIELDS[name]


def _check_modifiers(modifiers):
    for modifier in modifiers:
        if modifier.name.lower() not in IGNORED_MODIFIERS:
            raise Diagnostic(20, modifier.name)


def _atom(field, text):
    """One clause of the portal's language, always quoted: its text is never read as syntax."""
    text = " ".join(text.replace('"', " ").split())
    atom = f'{field}:"{text}"' if field else f'"{text}"'
    if parse_query(atom).is_empty:
        raise Diagnostic(27, f"nothing searchable in '{text}'")
    return ("atom", atom)


def _year(text):
    if not _YEAR_RE.match(text):
        raise Diagnostic(36, f"'{text}' is not a year")
    return int(text)


def _year_range(relation, term):
    if relation == "within":
        ends = term.split()
        if len(ends) != 2:
            raise Diagnostic(36, f"within needs two years: '{term}'")
        first, last = sorted(_year(end) for end in ends)
        return YearRange(first, last)
    year = _year(term.strip())
    return {"=": YearRange(year, year), "==": YearRange(year, year),
            "<": YearRange(None, year - 1), "<=": YearRange(None, year),
            ">": YearRange(year + 1, None), ">=": YearRange(year, None)}[relation]


def _clause_formula(clause):
    """A search clause as a formula: atoms joined by and/or, or a year range."""
    field = _field_of(clause.index) if clause.index else None
    relation = clause.relation or "="
    _check_modifiers(clause.modifiers)
    term = unescape(clause.term).strip()
    if not term:
        raise Diagnostic(27, "empty term")
    if field == "year":
        if relation not in YEAR_RELATIONS:
            raise Diagnostic(19, relation)
        return ("year", _year_range(relation, term))
    if relation not in WORD_RELATIONS:
        raise Diagnostic(19, relation)
    words = term.split()
    if relation in ("all", "any") and len(words) > 1:
        if len(words) > MAX_ALTERNATIVES:
            raise Diagnostic(38, f"more than {MAX_ALTERNATIVES} words in '{term}'")
        op = "and" if relation == "all" else "or"
        formula = _atom(field, words[0])
        for word in words[1:]:
            formula = (op, formula, _atom(field, word))
        return formula
    return _atom(field, term)  # =, adj and ==: the words as a phrase


def _formula(node):
    if isinstance(node, Boolean):
        if node.op == "prox":
            raise Diagnostic(39, "prox")
        if node.modifiers:
            raise Diagnostic(46, node.modifiers[0].name)
        left, right = _formula(node.left), _formula(node.right)
        if node.op == "not":
            return ("and", left, ("not", right))
        return (node.op, left, right)
    return _clause_formula(node)


def _negate(formula):
    kind = formula[0]
    if kind == "not":
        return _inward(formula[1])
    if kind in ("and", "or"):
        flipped = "or" if kind == "and" else "and"
        return (flipped, _negate(formula[1]), _negate(formula[2]))
    return ("not", formula)


def _inward(formula):
    """Negations pushed down to the atoms (De Morgan)."""
    kind = formula[0]
    if kind == "not":
        return _negate(formula[1])
    if kind in ("and", "or"):
        return (kind, _inward(formula[1]), _inward(formula[2]))
    return formula


def _cnf(formula):
    """A list of clauses (frozensets of literals) whose conjunction is ``formula``."""
    kind = formula[0]
    if kind == "and":
        return _cnf(formula[1]) + _cnf(formula[2])
    if kind == "or":
        left, right = _cnf(formula[1]), _cnf(formula[2])
        if len(left) * len(right) > MAX_CLAUSES * MAX_ALTERNATIVES:
            raise Diagnostic(38, "the query is too complex")
        return [a | b for a in left for b in right]
    return [frozenset([formula])]


def _literal_text(literal):
    atom = literal[1] if literal[0] == "not" else literal
    if atom[0] == "year":
        raise Diagnostic(48, "dc.date can only narrow the whole query (joined by and)")
    return atom[1]


def _clause_text(clause):
    literals = sorted(clause, key=repr)
    negatives = [literal for literal in literals if literal[0] == "not"]
    if negatives and len(literals) > 1:
        raise Diagnostic(48, "an exclusion (not) inside an or")
    if negatives:
        return "-" + _literal_text(negatives[0])
    if len(literals) > MAX_ALTERNATIVES:
        raise Diagnostic(38, f"more than {MAX_ALTERNATIVES} alternatives in one or")
    return " OR ".join(_literal_text(literal) for literal in literals)


def _years(clauses):
    first, last = None, None
    for clause in clauses:
        (_, years), = clause
        first = max(filter(None, (first, years.first)), default=None)
        last = min(filter(None, (last, years.last)), default=None)
    return first, last


def _sort(sort_keys):
    if not sort_keys:
        return "relevance"
    (index, modifiers), *more = sort_keys
    names = {m.name.lower() for m in modifiers}
    if more or _field_of(index) != "year" or not names & {"sort.descending", "descending"}:
        raise Diagnostic(80, "only sortBy dc.date/sort.descending (newest first)")
    return "year"


def portal_query(cql_text):
    """The portal's search for a CQL query; raises Diagnostic for what it cannot run."""
    if len(cql_text) > MAX_CQL_LENGTH:
        raise Diagnostic(12, f"the query is longer than {MAX_CQL_LENGTH} characters")
    try:
        return _portal_query(cql_text)
    except RecursionError:
        raise Diagnostic(10, "the query nests too deeply") from None


def _portal_query(cql_text):
    parsed = parse_cql(cql_text)
    clauses = list(dict.fromkeys(_cnf(_inward(_formula(parsed.root)))))
    clauses = [c for c in clauses if not any(("not", lit) in c for lit in c)]  # x or not x
    years = [c for c in clauses if len(c) == 1 and next(iter(c))[0] == "year"]
    terms = [c for c in clauses if c not in years]
    if len(terms) > MAX_CLAUSES:
        raise Diagnostic(38, f"more than {MAX_CLAUSES} clauses joined by and")
    texts = [_clause_text(c) for c in terms]
    if texts and all(text.startswith("-") for text in texts):
        raise Diagnostic(48, "a query of exclusions only")
    q = " ".join(sorted(texts, key=lambda text: text.startswith("-")))
    if len(q) > MAX_QUERY_LENGTH:
        raise Diagnostic(12, f"the query is longer than {MAX_QUERY_LENGTH} characters")
    year_from, year_to = _years(years)
    return PortalQuery(q=q, year_from=year_from, year_to=year_to,
                       sort=_sort(parsed.sort_keys))
