"""Every ES|QL query ``content sigma --backend esql`` writes for the bundled rules is valid ES|QL, read
by a checker that follows Elastic's grammar; the checker itself is proven on written queries first."""

from __future__ import annotations

import pytest

from connector.detections import convert
from tests.detections.esql_syntax import EsqlSyntaxError, check, check_lucene_regexp, string_value, tokenize

INDEX = "from logs-aws_connector.cloudtrail-* metadata _id, _index, _version"

VALID = {
    # The forms the generator writes.
    "lowered field in a list": 'from a | where TO_LOWER(event.action) in ("a", "b")',
    "negated parenthesized list": "from a | where not (x in (1, 2))",
    "comparison without spaces": 'from a | where event.dataset=="aws.cloudtrail"',
    "is not null": "from a | where source.geo.country_iso_code is not null",
    "stats with assignment and grouping": "from a | stats value_count=count_distinct(destination.port) by timebucket,"
                                          " source.ip",
    "time span without a space": "from a | eval timebucket=date_trunc(5minutes, @timestamp)",
    "rlike with escaped brackets": 'from a | where TO_LOWER(m) rlike ".*[{ ]consolelogin=(\\\\[([^\\\\]]*, )?)?'
                                   'success[,}\\\\]].*"',
    "whole threshold query": f"{INDEX} | where x == 1\n| eval b=date_trunc(1minutes, @timestamp)"
                             " | stats event_count=count() by b, source.ip\n| where event_count >= 5",
    # Keywords, functions and commands in any case; comments anywhere.
    "upper-case keywords": 'FROM a | WHERE X == 1 AND NOT Y IS NULL OR Z NOT LIKE "a*" | Limit 5',
    "functions in any case": 'from a | where starts_with(To_Lower(x), "a") or ENDS_WITH(y, "b")',
    "comments": "from a // the index\n| where /* inline */ x == 1 /* outer /* nested */ still */",
    # Literals.
    "numbers": "from a | where x == 1 and y == 1.5 and z == .5 and w == 1e3 and v == 2.5E-3 and u == -7",
    "booleans and null": "from a | where x == true or y != FALSE or z == null",
    "escapes": 'from a | where x == "tab\\t cr\\r lf\\n quote\\" backslash\\\\"',
    "escape letters in upper case": 'from a | where x == "\\T\\N\\R"',
    "triple-quoted strings": 'from a | where x rlike """a\\.b""" and y == """say "hi\\q" """',
    "triple quotes ending in quotes": 'from a | where x == """a"""" and y == """b"""""',
    "time spans": "from a | eval t = date_trunc(1 hour, @timestamp), u = now() - 2 DAYS, v = 1h, w = 30 sec,"
                  " y = 3 mo, z = 1 yr",
    "arrays": 'from a | where x in ([1, 2], ["a"], [true, false], [-1.5])',
    "quoted identifiers": "from a | where `event.action` == 1 and a.`by`.c == 2 and `we``ird` == 3",
    "at and underscore identifiers": "from a | where @timestamp > now() - 1 day and _x == 1",
    # Expressions.
    "precedence and parentheses": "from a | where not x == 1 and (y == 2 or z == 3) or w in (1)",
    "arithmetic": "from a | eval x = -(1 + 2) * 3 % 4 / +y - -z",
    "casts": "from a | where x::long == 1 and (y)::double > 2 and abs(z)::integer < 3",
    "like, rlike and negations": 'from a | where x like "a*" and y not like "b?" and z rlike "c.*" and'
                                 ' w not rlike "d+" and v not in (1, 2)',
    "function arguments": 'from a | where cidr_match(source.ip, "10.0.0.0/8", "192.168.0.0/16") and'
                          ' concat(a, "b", c) == "x"',
    "parenthesized list predicate compared": "from a | where (x in (1)) == true",
    # Commands.
    "from lists and metadata": 'FROM a, "b-*", remote:c METADATA _id, _index, _version, _score',
    "eval fields": "from a | eval x = 1, y.z = x + 1, `q` = 2, 3 + 4",
    "stats forms": "from a | stats count(*), c = count(), m = max(y) where y > 0 by g, h = bucket(t, 1 hour)",
    "stats grouping only": "from a | stats by x",
    "aggregates inside expressions": "from a | stats r = round(avg(x), 2) + max(y)",
    "keep, drop, rename": "from a | keep event.*, @timestamp, `a b`, *id | drop x* | rename a AS b, c = d",
    "sort": "from a | sort x desc nulls first, y asc, z nulls last, w",
    "limit": "from a | limit 0 | limit 10000",
}

INVALID = {
    # Commands.
    "no source command": ("where x == 1", "starts with FROM"),
    "empty query": ("", "starts with FROM"),
    "unknown command": ("from a | filter x == 1", "'filter' is not an ES|QL command"),
    "command glued to its argument": ("from a | where(x == 1)", "'where(x' is not an ES|QL command"),
    "command outside the subset": ("from a | enrich p", "outside the checked subset"),
    "trailing pipe": ("from a | where x == 1 |", "expected a command"),
    "two froms": ("from a | from b", "FROM can only start a query"),
    "trailing comma in from": ("from a, | limit 1", "expected an index pattern"),
    "metadata without fields": ("from a metadata", "expected a metadata field"),
    "unknown metadata field": ("from a metadata _foo", "unsupported metadata field"),
    "index named metadata": ("from metadata", "expected an index pattern"),
    "where without condition": ("from a | where", "expected an expression"),
    "eval without fields": ("from a | eval", "expected an expression"),
    "stats without aggregate function": ("from a | stats x = y + 1 by z", "needs an aggregate function"),
    "stats without anything": ("from a | stats", "expected an expression"),
    "aggregate in where": ("from a | where count(x) > 1", "not allowed outside a STATS aggregate"),
    "aggregate in by": ("from a | stats count() by max(x)", "not allowed outside a STATS aggregate"),
    "nested aggregates": ("from a | stats max(count(x))", "inside another aggregate"),
    "keep without names": ("from a | keep", "expected a field name or pattern"),
    "keep with expression": ("from a | keep a + b", "unexpected character '+'"),
    "rename without as": ("from a | rename a b", "expected AS or ="),
    "sort with two orders": ("from a | sort x asc desc", "expected | or the end of the query"),
    "decimal limit": ("from a | limit 1.5", "expected an integer"),
    "negative limit": ("from a | limit -1", "expected an integer"),
    # Expressions.
    "assignment instead of comparison": ("from a | where x = 1", "found '='"),
    "chained comparison": ("from a | where x == 1 == 2", "found '=='"),
    "unbalanced parenthesis": ("from a | where (x == 1", "expected )"),
    "extra parenthesis": ("from a | where x == 1)", "found ')'"),
    "dangling and": ("from a | where x == 1 and", "expected an expression"),
    "not without operator": ("from a | where x not null", "expected IN, LIKE or RLIKE after NOT"),
    "is not not null": ("from a | where x is not not null", "expected null"),
    "in without parentheses": ('from a | where x in "a"', "expected ( after IN"),
    "empty in list": ("from a | where x in ()", "expected an expression"),
    "in list without commas": ("from a | where x in (1 2)", "expected , or )"),
    "in list compared": ("from a | where x in (1) == true", "found '=='"),
    "like against a field": ("from a | where x like y", "expected a string pattern after LIKE"),
    "like with a pattern list": ('from a | where x like ("a", "b")', "list of patterns"),
    "unknown function": ("from a | where lower(x) == 1", "unknown function"),
    "trailing comma in call": ("from a | where concat(x,) == 1", "expected an expression"),
    "star with arguments": ("from a | stats count(*, x)", "expected , or )"),
    "keyword as field": ("from a | where event.by == 1", "quote it with backticks"),
    "keyword as field start": ("from a | where nulls == 1", "keyword cannot be a field name"),
    "digit after dot": ("from a | where x.1 == 1", "found '.1'"),
    "lone at sign": ("from a | where @ == 1", "unexpected character '@'"),
    "lone underscore": ("from a | where _ == 1", "unexpected character '_'"),
    "empty quoted identifier": ("from a | where `` == 1", "unexpected character '`'"),
    "mixed array": ('from a | where x in ([1, "a"])', "one kind of constant"),
    "query parameter": ("from a | where x == ?", "outside the checked subset"),
    "semicolon": ("from a | where x == 1;", "unexpected character ';'"),
    "unterminated comment": ("from a /* x", "unterminated /* comment"),
    # Strings.
    "unknown escape": ('from a | where x == "a\\qb"', "an escape other than"),
    "unicode escape": ('from a | where x == "\\u0041"', "an escape other than"),
    "single-quote escape": ("from a | where x == \"it\\'s\"", "an escape other than"),
    "line break in a string": ('from a | where x == "a\nb"', "a line break in a string"),
    "unterminated string": ('from a | where x == "abc', "unterminated string"),
    "single quotes": ("from a | where x == 'a'", "unexpected character"),
    "unterminated triple quotes": ('from a | where x == """abc', "unterminated string"),
    "too many closing quotes": ('from a | where x == """a""""""', "unterminated string"),
    "line break in triple quotes": ('from a | where x == """a\nb"""', "unterminated string"),
    # Time spans.
    "unknown unit": ("from a | eval t = date_trunc(5 mins, @timestamp)", "unexpected temporal unit"),
    "minute as m": ("from a | eval t = date_trunc(5m, @timestamp)", "unexpected temporal unit"),
    "exponent without digits": ("from a | where x == 1e", "unexpected temporal unit"),
    "decimal time span": ("from a | eval t = 1.5 hours", "found 'hours'"),
    # RLIKE patterns are Lucene regular expressions.
    "regex with unbalanced bracket": ('from a | where x rlike "[a"', "] expected"),
    "regex with unescaped at sign": ('from a | where x rlike "a.b@c.com" and y rlike "a)"', "end of pattern"),
    "regex with Perl escape": ('from a | where x rlike "\\\\bword"', "\\b is not a character class"),
    "regex with newline escape": ('from a | where x rlike """a\\n"""', "\\n is not a character class"),
}


@pytest.mark.parametrize("query", VALID.values(), ids=VALID.keys())
def test_accepts_valid_queries(query: str) -> None:
    assert check(query)[0] == "from"


@pytest.mark.parametrize(("query", "reason"), INVALID.values(), ids=INVALID.keys())
def test_refuses_malformed_queries(query: str, reason: str) -> None:
    with pytest.raises(EsqlSyntaxError) as raised:
        check(query)
    assert reason in str(raised.value)


def test_returns_the_commands_in_order() -> None:
    assert check("FROM a | WHERE x == 1 | EVAL y = 1 | STATS c = count() BY y | SORT c | KEEP c | LIMIT 1") == (
        "from", "where", "eval", "stats", "sort", "keep", "limit")


def test_error_names_line_and_column() -> None:
    with pytest.raises(EsqlSyntaxError, match=r"^line 2:11: .*found '='"):
        check("from a\n| where x = 1")


def test_each_command_lexes_in_its_own_mode() -> None:
    kinds = [(t.kind, t.text) for t in tokenize("from logs-* | keep event.* | where x == 1")]
    assert kinds == [("command", "from"), ("source", "logs-*"), ("pipe", "|"), ("command", "keep"),
                     ("id_pattern", "event"), ("op", "."), ("id_pattern", "*"), ("pipe", "|"),
                     ("command", "where"), ("ident", "x"), ("op", "=="), ("integer", "1"), ("end", "")]


def test_time_span_needs_no_space() -> None:
    assert [t.kind for t in tokenize("from a | eval x = 5minutes")][-3:] == ["integer", "ident", "end"]


def test_string_values_follow_the_unescaping_rules() -> None:
    assert string_value('"a\\tb\\nc\\rd\\"e\\\\f"') == 'a\tb\nc\rd"e\\f'
    assert string_value('"\\T"') == "\\T"
    assert string_value('"""a\\.b"c"""') == 'a\\.b"c'
    assert string_value('".*(\\\\[([^\\\\]]*, )?)?"') == ".*(\\[([^\\]]*, )?)?"


@pytest.mark.parametrize("pattern", [
    "", "abc", ".*[{ ]consolelogin=(\\[([^\\]]*, )?)?failure[,}\\]].*", "a{2}b{1,3}c{2,}", "\\d+\\.\\w*\\s",
    "[a-z0-9_]+", "(ab|cd)*", "()", "a\\@b", '"a.b"', "<1-100>", "~(a)", "a&b", "#|@", ")", "[]a]", "[\\\\-]",
])
def test_lucene_regexp_accepts(pattern: str) -> None:
    check_lucene_regexp(pattern)


@pytest.mark.parametrize("pattern", [
    "[a", "a)", "(a", "a|", "a{", "a{x}", "a{3,1}", "[b-a]", "[\\}-a]", '"abc', "<name>", "<1->", "\\q", "a\\",
    "[\\.-]",
])
def test_lucene_regexp_refuses(pattern: str) -> None:
    with pytest.raises(ValueError):
        check_lucene_regexp(pattern)


def test_every_bundled_rule_converts_to_valid_esql() -> None:
    detections = convert("esql").detections
    assert detections
    failures = []
    for detection in detections:
        try:
            check(detection.query)
        except EsqlSyntaxError as error:
            failures.append(f"{detection.title}: {error}\n    {detection.query}")
    assert not failures, "\n".join(failures)


def _antlr_errors(query: str) -> list[str]:
    """Syntax errors from the ANTLR parser built from Elastic's own ES|QL grammar (esql-parser)."""
    from antlr4 import CommonTokenStream, InputStream
    from antlr4.error.ErrorListener import ErrorListener
    from esql_parser.EsqlBaseLexer import EsqlBaseLexer
    from esql_parser.EsqlBaseParser import EsqlBaseParser

    errors: list[str] = []

    class Collect(ErrorListener):  # type: ignore[misc]
        def syntaxError(self, recognizer: object, symbol: object, line: int, column: int, msg: str,
                        e: object) -> None:
            errors.append(f"{line}:{column} {msg}")

    lexer = EsqlBaseLexer(InputStream(query))
    lexer.removeErrorListeners()
    lexer.addErrorListener(Collect())
    parser = EsqlBaseParser(CommonTokenStream(lexer))
    parser.removeErrorListeners()
    parser.addErrorListener(Collect())
    parser.singleStatement()
    return errors


def test_elastics_grammar_parses_every_generated_query() -> None:
    """The same queries through the ANTLR parser generated from Elastic's ES|QL grammar."""
    queries = [d.query for d in convert("esql").detections]
    assert queries
    for query in queries:
        assert _antlr_errors(query) == [], query


def test_elastics_grammar_rejects_a_broken_query() -> None:
    assert _antlr_errors('from logs-* | where TO_LOWER(event.action) == "x" and') != []
