"""pg_trgm's threshold operators, written so that a shard can run them too.

``a <% b`` and ``a % b`` use pg_trgm's index, but their threshold is a setting of the session
that evaluates them, and postgres_fdw sends a condition to a shard only when it is immutable
(the operators are stable for that reason). So every such condition is written as the
operator, which finds candidates through the index at a low threshold every server shares
(``SHARD_SETTINGS``, the shards' session options), and the similarity function, which decides
at the statement's own threshold. On one server the pair reads the same rows as the operator
alone; ``jala shards add`` marks the operators immutable on the coordinator
(``SHIPPABLE_OPERATORS``) so the pair goes to the shards with the rest of the statement.
"""

# the lowest thresholds any statement of the search uses; a higher one is the function's work
WORD_SIMILARITY_FLOOR = 0.25
SIMILARITY_FLOOR = 0.6

SHARD_SETTINGS = (f"-c pg_trgm.word_similarity_threshold={WORD_SIMILARITY_FLOOR} "
                  f"-c pg_trgm.similarity_threshold={SIMILARITY_FLOOR}")
SHIPPABLE_OPERATORS = ("word_similarity_op(text, text)", "similarity_op(text, text)")


def _checked(threshold, floor):
    threshold = float(threshold)
    if threshold < floor:
        raise ValueError(f"a threshold of {threshold} is below the shards' floor {floor}")
    return threshold


def word_like(phrase, column, threshold):
    """SQL: ``column`` holds words like ``phrase`` (a bound parameter) at ``threshold``."""
    threshold = _checked(threshold, WORD_SIMILARITY_FLOOR)
    return f"({phrase} <% {column} AND word_similarity({phrase}, {column}) >= {threshold})"


def similar(column, value, threshold):
    """SQL: ``column`` as a whole is like ``value`` (a bound parameter) at ``threshold``."""
    threshold = _checked(threshold, SIMILARITY_FLOOR)
    return f"({column} % {value} AND similarity({column}, {value}) >= {threshold})"
