"""A syntax checker for the part of ES|QL that ``content sigma --backend esql`` writes, and a margin
around it.

Elasticsearch reads ES|QL with an ANTLR grammar (``x-pack/plugin/esql/src/main/antlr``:
``EsqlBaseLexer.g4`` with ``lexer/*.g4``, ``EsqlBaseParser.g4`` with ``parser/Expression.g4``). This
module reads the same language by recursive descent; each function names the grammar rule it
follows. The lexer follows the grammar's lexer modes, because a query's words lex differently after
FROM, after KEEP/DROP, after RENAME and in expressions. Like Elasticsearch's lexer, it is case
insensitive (``caseInsensitive=true``): keywords, commands and function names may be written in any
case.

Beyond the grammar, it makes the checks Elasticsearch makes while it turns the parse tree into a
plan (time-span units, METADATA field names, an integer LIMIT), a few of its analyzer's (known
function names, aggregate functions only as STATS aggregates), and it parses each RLIKE pattern as
the Lucene regular expression Elasticsearch compiles it into (``RegExp.ALL`` syntax).

Accepted: ``FROM index[, ...] [METADATA field, ...]`` then ``| WHERE``, ``EVAL``, ``STATS ... BY``,
``KEEP``, ``DROP``, ``RENAME``, ``SORT``, ``LIMIT``; expressions with AND/OR/NOT, comparisons,
arithmetic, ``::`` casts, [NOT] IN, IS [NOT] NULL, [NOT] LIKE/RLIKE, function calls, literals
(numbers, strings, booleans, null, time spans, arrays). Valid ES|QL outside that (ROW, ENRICH,
query parameters, full-text ``:``, ...) is rejected with a message that says so.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import NoReturn

# Commands this checker reads (lexer/*.g4: FROM -> FROM_MODE, KEEP/DROP -> PROJECT_MODE,
# RENAME -> RENAME_MODE, the others -> EXPRESSION_MODE).
_COMMAND_MODES = {
    "from": "from", "where": "expression", "eval": "expression", "stats": "expression",
    "sort": "expression", "limit": "expression", "keep": "project", "drop": "project", "rename": "rename",
}
# ES|QL commands that exist but are outside the subset.
_OTHER_COMMANDS = frozenset({
    "row", "show", "ts", "explain", "dissect", "grok", "enrich", "mv_expand", "lookup", "inlinestats", "inline",
    "change_point", "completion", "sample", "fork", "rerank", "fuse", "rrf", "set", "join", "left", "right",
})
# Expression-mode keywords (lexer/Expression.g4): these words are never identifiers there.
_KEYWORDS = frozenset({
    "and", "as", "asc", "by", "desc", "false", "first", "in", "is", "last", "like", "not", "null", "nulls",
    "on", "or", "rlike", "true", "where", "with",
})
# EsqlDataTypeConverter.parseTemporalAmount, in any case: Elasticsearch 8.15 and later accept these.
# "m" for minutes came after 9.2 (elastic/elasticsearch#136448); 8.19 and 9.2 refuse it.
_TIME_UNITS = frozenset({
    "millisecond", "milliseconds", "ms", "second", "seconds", "sec", "s", "minute", "minutes", "min",
    "hour", "hours", "h", "day", "days", "d", "week", "weeks", "w", "month", "months", "mo",
    "quarter", "quarters", "q", "year", "years", "yr", "y",
})
# MetadataAttribute: the fields FROM ... METADATA may name.
_METADATA_FIELDS = frozenset({"_id", "_index", "_version", "_ignored", "_index_mode", "_score", "_source"})
# Elastic's function reference; the registry looks names up in lower case.
_AGGREGATE_FUNCTIONS = frozenset({
    "avg", "count", "count_distinct", "max", "median", "median_absolute_deviation", "min", "percentile",
    "std_dev", "sum", "top", "values", "weighted_avg", "st_centroid_agg", "st_extent_agg",
})
_SCALAR_FUNCTIONS = frozenset({
    "bucket", "categorize", "case", "coalesce", "greatest", "least",
    "date_diff", "date_extract", "date_format", "date_parse", "date_trunc", "now",
    "cidr_match", "ip_prefix",
    "abs", "acos", "asin", "atan", "atan2", "cbrt", "ceil", "cos", "cosh", "e", "exp", "floor", "hypot", "log",
    "log10", "pi", "pow", "round", "signum", "sin", "sinh", "sqrt", "tan", "tanh", "tau",
    "bit_length", "byte_length", "concat", "ends_with", "from_base64", "left", "length", "locate", "ltrim",
    "md5", "repeat", "replace", "reverse", "right", "rtrim", "sha1", "sha256", "space", "split", "starts_with",
    "substring", "to_base64", "to_lower", "to_upper", "trim",
    "to_boolean", "to_cartesianpoint", "to_cartesianshape", "to_date_nanos", "to_dateperiod", "to_datetime",
    "to_degrees", "to_double", "to_geopoint", "to_geoshape", "to_integer", "to_ip", "to_long", "to_radians",
    "to_string", "to_timeduration", "to_unsigned_long", "to_version",
    "mv_append", "mv_avg", "mv_concat", "mv_count", "mv_dedupe", "mv_first", "mv_last", "mv_max", "mv_median",
    "mv_min", "mv_slice", "mv_sort", "mv_sum", "mv_zip",
})
_COMPARISONS = frozenset({"==", "!=", "<", "<=", ">", ">="})  # comparisonOperator


class EsqlSyntaxError(ValueError):
    """A query that Elasticsearch would refuse, with the line and column where reading stopped."""

    def __init__(self, message: str, query: str, offset: int) -> None:
        line = query.count("\n", 0, offset) + 1
        column = offset - (query.rfind("\n", 0, offset) + 1) + 1
        super().__init__(f"line {line}:{column}: {message}")


@dataclass(frozen=True)
class Token:
    """One token: ``kind`` is command, pipe, keyword, ident, quoted_ident, string, integer, decimal,
    op, source, id_pattern or end."""

    kind: str
    text: str
    start: int

    @property
    def word(self) -> str:
        """The text in lower case, as the case-insensitive grammar compares it."""
        return self.text.lower()


# --- lexer -------------------------------------------------------------------------------------

_WS = re.compile(r"[ \t\r\n]+")
_COMMAND_WORD = re.compile(r"[^ \r\n\t\[\]/]+")  # UNKNOWN_CMD: whatever the command word is
_NUMBER = re.compile(r"(\d+\.\d*|\.\d+|\d+)(e[+-]?\d+)?", re.IGNORECASE)  # INTEGER_LITERAL, DECIMAL_LITERAL
_IDENT = re.compile(r"[a-z][a-z0-9_]*|[_@][a-z0-9_]+", re.IGNORECASE)  # UNQUOTED_IDENTIFIER
_QUOTED_IDENT = re.compile(r"`(?:[^`]|``)+`")  # QUOTED_IDENTIFIER
_STRING = re.compile(r'"(?:\\[tnr"\\]|[^\r\n"\\])*"', re.IGNORECASE)  # QUOTED_STRING, first form
_ID_PATTERN = re.compile(r"(?:[a-z*][a-z0-9_*]*|[_@][a-z0-9_*]+|`(?:[^`]|``)+`)+", re.IGNORECASE)  # ID_PATTERN
_SOURCE = re.compile(r"(?:[^:\"=|,\[\]/() \t\r\n]|/[^*/])+")  # UNQUOTED_SOURCE
_OPERATORS = ("==", "=~", "!=", "<=", ">=", "::", "<", ">", "=", "+", "-", "*", "/", "%", "(", ")", "[", "]",
              "{", "}", ",", ".", ":", "?")


def _comment_end(query: str, pos: int) -> int | None:
    """MULTILINE_COMMENT: ``'/*' (MULTILINE_COMMENT|.)*? '*/'``. Comments nest; when an inner ``/*`` is
    never closed, the comment ends at the first ``*/``, as ANTLR's lexer reads it."""
    nested = _nested_comment_end(query, pos)
    if nested is not None:
        return nested
    first = query.find("*/", pos + 2)
    return None if first < 0 else first + 2


def _nested_comment_end(query: str, pos: int) -> int | None:
    i = pos + 2
    while i < len(query):
        if query.startswith("*/", i):
            return i + 2
        if query.startswith("/*", i):
            inner = _nested_comment_end(query, i)
            if inner is None:
                return None
            i = inner
        else:
            i += 1
    return None


def _skip_hidden(query: str, pos: int) -> int:
    """WS, LINE_COMMENT and MULTILINE_COMMENT go to the hidden channel in every mode."""
    while True:
        if m := _WS.match(query, pos):
            pos = m.end()
        elif query.startswith("//", pos):
            newline = query.find("\n", pos)
            pos = len(query) if newline < 0 else newline + 1
        elif query.startswith("/*", pos):
            end = _comment_end(query, pos)
            if end is None:
                raise EsqlSyntaxError("unterminated /* comment", query, pos)
            pos = end
        else:
            return pos


def _string_end(query: str, pos: int) -> int | None:
    """QUOTED_STRING: ``'"""' (~[\\r\\n])*? '"""' '"'? '"'?`` or ``'"' (ESCAPE_SEQUENCE | UNESCAPED_CHARS)* '"'``,
    the longer of the two; an escape is a backslash and one of ``t n r " \\`` (any case)."""
    if query.startswith('"""', pos):
        close = query.find('"""', pos + 3)
        if close >= 0 and not any(c in "\r\n" for c in query[pos + 3:close]):
            end = close + 3
            for _ in range(2):
                if query.startswith('"', end):
                    end += 1
            return end
    m = _STRING.match(query, pos)
    return m.end() if m else None


def _expression_token(query: str, pos: int) -> Token:
    """EXPRESSION_MODE (lexer/Expression.g4): the longest token wins, then the first rule."""
    char = query[pos]
    if char == '"':
        end = _string_end(query, pos)
        if end is None:
            raise EsqlSyntaxError("unterminated string, a line break in a string, or an escape other than "
                                  '\\t \\n \\r \\" \\\\', query, pos)
        return Token("string", query[pos:end], pos)
    if m := _NUMBER.match(query, pos):
        return Token("decimal" if m.group(2) or "." in m.group(1) else "integer", m.group(), pos)
    if m := _IDENT.match(query, pos):
        return Token("keyword" if m.group().lower() in _KEYWORDS else "ident", m.group(), pos)
    if m := _QUOTED_IDENT.match(query, pos):
        return Token("quoted_ident", m.group(), pos)
    return _operator(query, pos)


def _operator(query: str, pos: int) -> Token:
    for op in _OPERATORS:
        if query.startswith(op, pos):
            if op in ("?", "=~", "{", "}"):
                raise EsqlSyntaxError(f"{op!r} (query parameters, =~, maps) is outside the checked subset",
                                      query, pos)
            return Token("op", op, pos)
    raise EsqlSyntaxError(f"unexpected character {query[pos]!r}", query, pos)


def _from_token(query: str, pos: int) -> Token:
    """FROM_MODE (lexer/From.g4): index patterns, METADATA, commas, ``:`` before an index."""
    if query[pos] == '"':
        end = _string_end(query, pos)
        if end is None:
            raise EsqlSyntaxError("unterminated index name string", query, pos)
        return Token("string", query[pos:end], pos)
    if m := _SOURCE.match(query, pos):
        return Token("keyword" if m.group().lower() == "metadata" else "source", m.group(), pos)
    if query.startswith("::", pos):
        raise EsqlSyntaxError("index selectors (::) are outside the checked subset", query, pos)
    if query[pos] in ",:":
        return Token("op", query[pos], pos)
    raise EsqlSyntaxError(f"unexpected character {query[pos]!r} in FROM", query, pos)


def _pattern_token(query: str, pos: int, mode: str) -> Token:
    """PROJECT_MODE (lexer/Project.g4) and RENAME_MODE (lexer/Rename.g4): name patterns, ``.``, ``,``;
    RENAME also has ``AS`` and ``=``."""
    if m := _ID_PATTERN.match(query, pos):
        if mode == "rename" and m.group().lower() == "as":
            return Token("keyword", m.group(), pos)
        return Token("id_pattern", m.group(), pos)
    if query[pos] in ".," or (mode == "rename" and query[pos] == "="):
        return Token("op", query[pos], pos)
    raise EsqlSyntaxError(f"unexpected character {query[pos]!r} in a list of names", query, pos)


def tokenize(query: str) -> list[Token]:
    """The query's tokens, read in the lexer mode each command switches to; a pipe ends a command."""
    tokens: list[Token] = []
    mode = "command"
    pos = _skip_hidden(query, 0)
    while pos < len(query):
        if mode == "command":
            m = _COMMAND_WORD.match(query, pos)
            word = m.group().lower() if m else query[pos]
            if word not in _COMMAND_MODES:
                what = "outside the checked subset" if word in _OTHER_COMMANDS else "not an ES|QL command"
                raise EsqlSyntaxError(f"{word!r} is {what}", query, pos)
            token = Token("command", query[pos:pos + len(word)], pos)
            mode = _COMMAND_MODES[word]
        elif query[pos] == "|":
            token = Token("pipe", "|", pos)
            mode = "command"
        elif mode == "from":
            token = _from_token(query, pos)
        elif mode in ("project", "rename"):
            token = _pattern_token(query, pos, mode)
        else:
            token = _expression_token(query, pos)
        tokens.append(token)
        pos = _skip_hidden(query, token.start + len(token.text))
    tokens.append(Token("end", "", len(query)))
    return tokens


def string_value(literal: str) -> str:
    """A QUOTED_STRING's value, as ExpressionBuilder unquotes it: triple-quoted text as written; in
    double quotes ``\\t \\n \\r \\" \\\\`` are replaced and any other escape the lexer let through
    (``\\T``, ``\\N``, ``\\R``: the lexer ignores case) stays as written."""
    if literal.startswith('"""'):
        return literal[3:-3]
    replacements = {"t": "\t", "n": "\n", "r": "\r", '"': '"', "\\": "\\"}
    return re.sub(r"\\(.)", lambda m: replacements.get(m.group(1), m.group()), literal[1:-1])


# --- Lucene regular expressions (RLIKE) --------------------------------------------------------

class _LuceneRegexp:
    """org.apache.lucene.util.automaton.RegExp's parser with every optional operator on (ES|QL builds
    RLIKE patterns with ``RegExp.ALL``): ``| & ~ # @ <n-m>`` are operators and ``"..."`` quotes."""

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        self.pos = 0

    def check(self) -> None:
        if self.pattern:
            self.union()
            if self.more():
                self.fail("end of pattern expected")

    def fail(self, message: str) -> NoReturn:
        raise ValueError(f"{message} at position {self.pos} of the regular expression {self.pattern!r}")

    def more(self) -> bool:
        return self.pos < len(self.pattern)

    def peek(self, chars: str) -> bool:
        return self.more() and self.pattern[self.pos] in chars

    def match(self, char: str) -> bool:
        if self.peek(char):
            self.pos += 1
            return True
        return False

    def next(self) -> str:
        if not self.more():
            self.fail("unexpected end")
        self.pos += 1
        return self.pattern[self.pos - 1]

    def union(self) -> None:  # unionexp ::= interexp | unionexp
        self.intersection()
        if self.match("|"):
            self.union()

    def intersection(self) -> None:  # interexp ::= concatexp & interexp
        self.concatenation()
        if self.match("&"):
            self.intersection()

    def concatenation(self) -> None:  # concatexp ::= repeatexp concatexp
        self.repeat()
        while self.more() and not self.peek(")|&"):
            self.repeat()

    def repeat(self) -> None:  # repeatexp ::= repeatexp (? | * | + | {n} | {n,} | {n,m})
        self.complement()
        while self.peek("?*+{"):
            if self.next() == "{":
                bounds = re.match(r"(\d+)(,(\d*))?}", self.pattern[self.pos:])
                if bounds is None:
                    self.fail("{n}, {n,} or {n,m} expected")
                self.pos += bounds.end()
                if bounds.group(3) and int(bounds.group(1)) > int(bounds.group(3)):
                    self.fail(f"repetition {{{bounds.group(1)},{bounds.group(3)}}} is reversed")

    def complement(self) -> None:  # complexp ::= ~ complexp
        if self.match("~"):
            self.complement()
        else:
            self.char_class_expression()

    def char_class_expression(self) -> None:  # charclassexp ::= [ [^] charclasses ]
        if not self.match("["):
            self.simple()
            return
        self.match("^")
        self.char_class()
        while self.more() and not self.peek("]"):
            self.char_class()
        if not self.match("]"):
            self.fail("] expected")

    # Lucene 9 (Elasticsearch 8.19) reads "\x-y" in a class as a range, Lucene 10 (Elasticsearch 9) as
    # three characters; the check refuses what either refuses.
    def char_class(self) -> None:  # charclass ::= charexp - charexp | charexp
        if self.predefined_class():
            return
        low = self.char()
        if self.match("-"):
            high = self.char()
            if low > high:
                self.fail(f"range {low}-{high} is reversed")

    def simple(self) -> None:  # simpleexp ::= . # @ "string" () (unionexp) <n-m> charexp
        if self.match(".") or self.match("#") or self.match("@"):
            return
        if self.match('"'):
            while self.more() and not self.peek('"'):
                self.next()
            if not self.match('"'):
                self.fail('closing " expected')
        elif self.match("("):
            if not self.match(")"):
                self.union()
                if not self.match(")"):
                    self.fail(") expected")
        elif self.match("<"):
            start = self.pos
            while self.more() and not self.peek(">"):
                self.next()
            if not self.match(">"):
                self.fail("> expected")
            if not re.fullmatch(r"\d+-\d+", self.pattern[start:self.pos - 1]):
                self.fail("<n-m> interval expected (ES|QL has no named automata)")
        elif not self.predefined_class():
            self.char()

    def predefined_class(self) -> bool:  # \d \D \s \S \w \W, and \\ (never a range start)
        if not self.peek("\\"):
            return False
        following = self.pattern[self.pos + 1:self.pos + 2]
        if following in ("d", "D", "s", "S", "w", "W", "\\"):
            self.pos += 2
            return True
        if following.isascii() and following.isalpha():
            self.fail(f"\\{following} is not a character class")
        return False

    def char(self) -> str:  # charexp ::= <character> | \ <character>
        self.match("\\")
        return self.next()


def check_lucene_regexp(pattern: str) -> None:
    """Raise ValueError where ``pattern`` is not a Lucene regular expression."""
    _LuceneRegexp(pattern).check()


# --- parser ------------------------------------------------------------------------------------

class _Parser:
    def __init__(self, query: str) -> None:
        self.query = query
        self.tokens = tokenize(query)
        self.index = 0
        self.aggregates_allowed = False
        self.inside_aggregate = False
        self.aggregates_seen = 0

    # token helpers

    @property
    def current(self) -> Token:
        return self.tokens[self.index]

    def fail(self, message: str, token: Token | None = None) -> EsqlSyntaxError:
        token = token or self.current
        found = f"'{token.text}'" if token.kind != "end" else "the end of the query"
        return EsqlSyntaxError(f"{message}, found {found}", self.query, token.start)

    def at(self, kind: str, *texts: str) -> bool:
        token = self.current
        return token.kind == kind and (not texts or token.word in texts)

    def accept(self, kind: str, *texts: str) -> Token | None:
        if self.at(kind, *texts):
            self.index += 1
            return self.tokens[self.index - 1]
        return None

    def expect(self, kind: str, *texts: str, what: str = "") -> Token:
        token = self.accept(kind, *texts)
        if token is None:
            raise self.fail(f"expected {what or ' or '.join(texts) or kind}")
        return token

    def separated(self, parse: Callable[[], None], kind: str, *separators: str) -> None:
        """``parse (separator parse)*``: the grammar's lists and its left-associative operators."""
        parse()
        while self.accept(kind, *separators):
            parse()

    # query structure

    def single_statement(self) -> tuple[str, ...]:
        """singleStatement: query EOF; query: sourceCommand (PIPE processingCommand)*."""
        commands = [self.from_command()]
        while self.accept("pipe"):
            commands.append(self.processing_command())
        if not self.at("end"):
            raise self.fail("expected | or the end of the query")
        return tuple(commands)

    def from_command(self) -> str:
        """fromCommand: FROM indexPatternAndMetadataFields (indexPattern (COMMA indexPattern)* metadata?)."""
        if not self.at("command", "from"):
            raise self.fail("a query starts with FROM (the only source command in the checked subset)")
        self.index += 1
        self.separated(self.index_pattern, "op", ",")
        if self.accept("keyword", "metadata"):
            self.metadata()
        return "from"

    def index_pattern(self) -> None:
        """indexPattern: (clusterString COLON)? unquotedIndexString | indexString."""
        if self.accept("string"):
            return
        self.expect("source", what="an index pattern")
        if self.accept("op", ":"):
            self.expect("source", what="an index pattern after the cluster name")

    def metadata(self) -> None:
        """metadata: METADATA UNQUOTED_SOURCE (COMMA UNQUOTED_SOURCE)*; the names MetadataAttribute knows."""
        while True:
            field = self.expect("source", what="a metadata field")
            if field.text not in _METADATA_FIELDS:
                raise self.fail(f"unsupported metadata field {field.text!r}", field)
            if not self.accept("op", ","):
                return

    def processing_command(self) -> str:
        """processingCommand, for the commands of the subset."""
        token = self.expect("command", what="a command")
        command = token.word
        if command == "from":
            raise self.fail("FROM can only start a query", token)
        getattr(self, f"{command}_command")()
        return command

    def where_command(self) -> None:
        """whereCommand: WHERE booleanExpression."""
        self.boolean_expression()

    def eval_command(self) -> None:
        """evalCommand: EVAL fields."""
        self.fields()

    def stats_command(self) -> None:
        """statsCommand: STATS aggFields? (BY fields)?; aggField: field (WHERE booleanExpression)?.
        Each aggregate has an aggregate function (the analyzer's rule)."""
        if not self.at("keyword", "by"):
            while True:
                seen, start = self.aggregates_seen, self.current
                self.aggregates_allowed = True
                try:
                    self.field()
                finally:
                    self.aggregates_allowed = False
                if self.aggregates_seen == seen:
                    raise EsqlSyntaxError("a STATS aggregate needs an aggregate function", self.query, start.start)
                if self.accept("keyword", "where"):
                    self.boolean_expression()
                if not self.accept("op", ","):
                    break
        if self.accept("keyword", "by"):
            self.fields()

    def fields(self) -> None:
        """fields: field (COMMA field)*."""
        self.separated(self.field, "op", ",")

    def field(self) -> None:
        """field: (qualifiedName ASSIGN)? booleanExpression."""
        if self.at("ident") or self.at("quoted_ident"):
            start = self.index
            self.qualified_name()
            if not self.accept("op", "="):
                self.index = start
        self.boolean_expression()

    def sort_command(self) -> None:
        """sortCommand: SORT orderExpression (COMMA orderExpression)*;
        orderExpression: booleanExpression (ASC | DESC)? (NULLS (FIRST | LAST))?."""
        while True:
            self.boolean_expression()
            self.accept("keyword", "asc", "desc")
            if self.accept("keyword", "nulls"):
                self.expect("keyword", "first", "last")
            if not self.accept("op", ","):
                return

    def limit_command(self) -> None:
        """limitCommand: LIMIT constant, which the plan builder wants a non-negative integer."""
        self.expect("integer", what="an integer")

    def keep_command(self) -> None:
        """keepCommand: KEEP qualifiedNamePatterns."""
        self.qualified_name_patterns()

    drop_command = keep_command  # dropCommand: DROP qualifiedNamePatterns

    def rename_command(self) -> None:
        """renameCommand: RENAME renameClause (COMMA renameClause)*;
        renameClause: oldName AS newName | newName ASSIGN oldName (each a qualifiedNamePattern)."""
        while True:
            self.qualified_name_pattern()
            if not self.accept("keyword", "as"):
                self.expect("op", "=", what="AS or =")
            self.qualified_name_pattern()
            if not self.accept("op", ","):
                return

    def qualified_name_patterns(self) -> None:
        """qualifiedNamePatterns: qualifiedNamePattern (COMMA qualifiedNamePattern)*."""
        self.separated(self.qualified_name_pattern, "op", ",")

    def qualified_name_pattern(self) -> None:
        """qualifiedNamePattern: identifierPattern (DOT identifierPattern)*."""
        self.expect("id_pattern", what="a field name or pattern")
        while self.accept("op", "."):
            self.expect("id_pattern", what="a field name or pattern after '.'")

    # expressions (parser/Expression.g4)

    def boolean_expression(self) -> None:
        """booleanExpression's binary alternatives: OR below AND (logicalBinary)."""
        self.separated(self.conjunction, "keyword", "or")

    def conjunction(self) -> None:
        """logicalBinary with AND, which binds tighter than OR."""
        self.separated(self.negation, "keyword", "and")

    def negation(self) -> None:
        """logicalNot: NOT booleanExpression, binding tighter than AND and OR."""
        if self.accept("keyword", "not"):
            self.negation()
        else:
            self.predicate()

    def predicate(self) -> None:
        """booleanDefault, logicalIn, isNull and regexBooleanExpression: a valueExpression and at most one of
        [NOT] IN (valueExpression, ...), IS [NOT] NULL, [NOT] LIKE string, [NOT] RLIKE string."""
        self.value_expression()
        if self.accept("keyword", "is"):
            self.accept("keyword", "not")
            self.expect("keyword", "null")
            return
        negated = self.accept("keyword", "not")
        if self.accept("keyword", "in"):
            self.expect("op", "(", what="( after IN")
            self.separated(self.value_expression, "op", ",")
            self.expect("op", ")", what=", or )")
        elif operator := self.accept("keyword", "like", "rlike"):
            self.patterns(operator.word)
        elif negated:
            raise self.fail("expected IN, LIKE or RLIKE after NOT")
        elif self.at("op", ":"):
            raise self.fail("full-text matching (:) is outside the checked subset")

    def patterns(self, operator: str) -> None:
        """likeExpression, rlikeExpression: LIKE string | RLIKE string. Their list forms (LP string, ... RP)
        came with Elasticsearch 9.1 and 9.2 and are outside the checked subset."""
        if self.at("op", "("):
            raise self.fail(f"a list of patterns after {operator.upper()} is outside the checked subset")
        pattern = self.expect("string", what=f"a string pattern after {operator.upper()}")
        if operator == "rlike":
            try:
                check_lucene_regexp(string_value(pattern.text))
            except ValueError as error:
                raise EsqlSyntaxError(str(error), self.query, pattern.start) from None

    def value_expression(self) -> None:
        """valueExpression: operatorExpression (comparisonOperator operatorExpression)? (at most one)."""
        self.operator_expression()
        if self.current.kind == "op" and self.current.text in _COMPARISONS:
            self.index += 1
            self.operator_expression()

    def operator_expression(self) -> None:
        """operatorExpression's arithmeticBinary alternatives: + - below * / %."""
        self.separated(self.term, "op", "+", "-")

    def term(self) -> None:
        """arithmeticBinary with * / %, which bind tighter than + and -."""
        self.separated(self.unary, "op", "*", "/", "%")

    def unary(self) -> None:
        """arithmeticUnary: (MINUS | PLUS) operatorExpression."""
        if self.accept("op", "-", "+"):
            self.unary()
        else:
            self.primary_expression()

    def primary_expression(self) -> None:
        """primaryExpression: constant | qualifiedName | functionExpression | LP booleanExpression RP,
        then any number of inlineCast (CAST_OP dataType)."""
        if self.accept("op", "("):
            self.boolean_expression()
            self.expect("op", ")", what=")")
        elif self.at("ident") or self.at("quoted_ident"):
            following = self.tokens[self.index + 1]
            if following.kind == "op" and following.text == "(":
                self.function_expression()
            else:
                self.qualified_name()
        else:
            self.constant()
        while self.accept("op", "::"):
            self.expect("ident", what="a data type after ::")

    def function_expression(self) -> None:
        """functionExpression: functionName LP (ASTERISK | booleanExpression (COMMA booleanExpression)*)? RP."""
        name_token = self.current
        name = name_token.text.strip("`").lower()
        aggregate = name in _AGGREGATE_FUNCTIONS
        if not aggregate and name not in _SCALAR_FUNCTIONS:
            raise self.fail("unknown function", name_token)
        if aggregate and (not self.aggregates_allowed or self.inside_aggregate):
            where = "inside another aggregate" if self.inside_aggregate else "outside a STATS aggregate"
            raise self.fail(f"aggregate function {name} is not allowed {where}", name_token)
        self.index += 2
        if aggregate:
            self.aggregates_seen += 1
        outer = self.inside_aggregate
        self.inside_aggregate = outer or aggregate
        try:
            if not self.accept("op", "*") and not self.at("op", ")"):
                self.separated(self.boolean_expression, "op", ",")
        finally:
            self.inside_aggregate = outer
        self.expect("op", ")", what=", or )")

    def qualified_name(self) -> None:
        """qualifiedName: identifier (DOT identifier)*."""
        self.separated(self.identifier, "op", ".")

    def identifier(self) -> None:
        """identifier: UNQUOTED_IDENTIFIER | QUOTED_IDENTIFIER; a keyword is neither."""
        if not (self.accept("ident") or self.accept("quoted_ident")):
            hint = " (a keyword: quote it with backticks)" if self.at("keyword") else ""
            raise self.fail(f"expected a field name{hint}")

    def constant(self) -> None:
        """constant: NULL | integerValue UNQUOTED_IDENTIFIER (a time span) | decimalValue | integerValue
        | booleanValue | string | OPENING_BRACKET (numbers | booleans | strings) CLOSING_BRACKET."""
        if self.accept("keyword", "null", "true", "false") or self.accept("string") or self.accept("decimal"):
            return
        if self.accept("integer"):
            unit = self.accept("ident")
            if unit is not None and unit.word not in _TIME_UNITS:
                raise self.fail("unexpected temporal unit", unit)
            return
        if self.accept("op", "["):
            self.array_literal()
            return
        if self.at("keyword"):
            raise self.fail("expected an expression (a keyword cannot be a field name unless quoted with backticks)")
        raise self.fail("expected an expression")

    def array_literal(self) -> None:
        """numericArrayLiteral, booleanArrayLiteral, stringArrayLiteral: one kind of constant, at least one."""
        kinds = []
        while True:
            signed = self.accept("op", "-", "+")
            token = self.current
            if token.kind in ("integer", "decimal"):
                kinds.append("number")
            elif signed:
                raise self.fail("expected a number after the sign")
            elif token.kind == "keyword" and token.word in ("true", "false"):
                kinds.append("boolean")
            elif token.kind == "string":
                kinds.append("string")
            else:
                raise self.fail("expected a number, boolean or string in the array")
            self.index += 1
            if not self.accept("op", ","):
                break
        if len(set(kinds)) > 1:
            raise self.fail("an array literal holds one kind of constant")
        self.expect("op", "]", what=", or ]")


def check(query: str) -> tuple[str, ...]:
    """The commands of ``query`` in order; raises EsqlSyntaxError where Elasticsearch would refuse it."""
    return _Parser(query).single_statement()
