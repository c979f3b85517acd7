"""Parse ``triggerPolicy.condition``, the CEL-like string the kfp SDK writes for dsl.If/Elif/Else.

KFP writes a conjunction of comparisons, each possibly negated: ``!(a == 1) && b > 2`` for an Elif
after an If. Operands are the group's inputs (``inputs.parameter_values['name']``, possibly wrapped
in ``int()``/``double()``/``string()`` or quoted as ``'{...}'`` for a cast to string), and literals
(quoted strings, numbers, ``true``/``false``/``null``). The kfp SDK does not escape quotes in string
literals (``'it's'``), so a literal ends at the quote that is followed by the end, a closing
parenthesis, ``&&``, ``||`` or a comparison. The model holds a conjunction of (possibly negated)
comparisons; anything else (``||``, a negated conjunction, arithmetic, functions) is refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

_REFERENCE = re.compile(
    r"inputs\.(?:parameter_values\[(?P<q1>['\"])(?P<name1>.*?)(?P=q1)\]"
    r"|parameters\[(?P<q2>['\"])(?P<name2>.*?)(?P=q2)\](?:\.(?:string_value|int_value|double_value|bool_value))?)"
)
_NUMBER = re.compile(r"-?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")
_OPERATORS = ("==", "!=", "<=", ">=", "<", ">")
_CASTS = ("int", "double", "string", "bool", "uint")
_STRING_END = re.compile(r"\s*(?:$|\)|&&|\|\||==|!=|<=|>=|<|>)")


class ConditionSyntaxError(ValueError):
    """A condition this parser cannot read, or the model cannot express."""


@dataclass(frozen=True)
class Reference:
    """``inputs.parameter_values['name']``: an input of the condition's group task."""

    name: str


@dataclass(frozen=True)
class Literal:
    value: Any


Operand = Reference | Literal


@dataclass(frozen=True)
class Comparison:
    left: Operand
    operator: str
    right: Operand
    negate: bool = False


@dataclass(frozen=True)
class _Token:
    kind: str  # "ref", "lit", "op", "not", "and", "or", "(", ")", "cast"
    value: Any = None


class _Lexer:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.tokens: list[_Token] = []

    def fail(self, message: str) -> ConditionSyntaxError:
        return ConditionSyntaxError(f"{message} at character {self.pos + 1} of {self.text!r}")

    def _string(self, quote: str) -> None:
        start = self.pos + 1
        inner = self.text[start:]
        cast = re.match(rf"\{{?\s*(?:(?:{'|'.join(_CASTS)})\()*\s*", inner)
        skipped = cast.end() if cast else 0
        ref = _REFERENCE.match(inner, skipped)
        if ref is not None:
            rest = re.match(rf"(?:\s*\))*\s*\}}?{quote}", inner[ref.end() :])
            if rest is not None:  # '{int(inputs.parameter_values['x'])}': the input cast to a string
                self.tokens.append(_Token("ref", Reference(ref["name1"] or ref["name2"] or "")))
                self.pos = start + ref.end() + rest.end()
                return
        i = start
        chars: list[str] = []
        while i < len(self.text):
            ch = self.text[i]
            if ch == "\\" and i + 1 < len(self.text):
                nxt = self.text[i + 1]
                chars.append({"n": "\n", "t": "\t", "r": "\r"}.get(nxt, nxt))
                i += 2
                continue
            if ch == quote and _STRING_END.match(self.text, i + 1):
                self.tokens.append(_Token("lit", Literal("".join(chars))))
                self.pos = i + 1
                return
            chars.append(ch)
            i += 1
        raise self.fail("unterminated string")

    def run(self) -> list[_Token]:
        text = self.text
        while self.pos < len(text):
            ch = text[self.pos]
            if ch.isspace():
                self.pos += 1
                continue
            if text.startswith("&&", self.pos):
                self.tokens.append(_Token("and"))
                self.pos += 2
            elif text.startswith("||", self.pos):
                self.tokens.append(_Token("or"))
                self.pos += 2
            elif any(text.startswith(op, self.pos) for op in _OPERATORS):
                op = next(op for op in _OPERATORS if text.startswith(op, self.pos))
                self.tokens.append(_Token("op", op))
                self.pos += len(op)
            elif ch == "!":
                self.tokens.append(_Token("not"))
                self.pos += 1
            elif ch in "()":
                self.tokens.append(_Token(ch))
                self.pos += 1
            elif ch in "'\"":
                self._string(ch)
            elif m := _REFERENCE.match(text, self.pos):
                self.tokens.append(_Token("ref", Reference(m["name1"] or m["name2"] or "")))
                self.pos = m.end()
            elif m := re.compile(rf"(?:{'|'.join(_CASTS)})\s*\(").match(text, self.pos):
                self.tokens.append(_Token("cast", m.group().rstrip("( ")))
                self.tokens.append(_Token("("))
                self.pos = m.end()
            elif m := _NUMBER.match(text, self.pos):
                raw = m.group()
                is_float = any(c in raw for c in ".eE")
                self.tokens.append(_Token("lit", Literal(float(raw) if is_float else int(raw))))
                self.pos = m.end()
            elif m := re.compile(r"(true|false|null)\b").match(text, self.pos):
                self.tokens.append(_Token("lit", Literal({"true": True, "false": False, "null": None}[m.group()])))
                self.pos = m.end()
            else:
                raise self.fail(f"unexpected {text[self.pos : self.pos + 12]!r}")
        return self.tokens


def _cast(kind: str, operand: Operand) -> Operand:
    """A cast of a literal is applied now; a cast of an input is left to the comparison (numbers
    compare as numbers)."""
    if isinstance(operand, Reference):
        return operand
    value = operand.value
    try:
        if kind in ("int", "uint"):
            return Literal(int(value))
        if kind == "double":
            return Literal(float(value))
        if kind == "string":
            return Literal(
                value if isinstance(value, str) else str(value).lower() if isinstance(value, bool) else str(value)
            )
        if kind == "bool":
            return Literal(value if isinstance(value, bool) else str(value).lower() == "true")
    except (TypeError, ValueError):
        raise ConditionSyntaxError(f"cannot apply {kind}() to {value!r}") from None
    return operand


MAX_NESTING = 50
"""Deepest nesting of parentheses and negations in a condition (the kfp SDK writes two or three levels);
the parser recurses once per level, so this keeps it far from Python's recursion limit."""


def _check_nesting(tokens: list[_Token], text: str) -> None:
    depth = deepest = 0
    negations: list[int] = []  # the parenthesis depth of each negation still open
    for token in tokens:
        if token.kind == "not":
            negations.append(depth)
        elif token.kind == "(":
            depth += 1
        elif token.kind == ")":
            depth -= 1
            while negations and negations[-1] > depth:
                negations.pop()
        elif token.kind in ("and", "or"):
            while negations and negations[-1] >= depth:
                negations.pop()
        deepest = max(deepest, depth + len(negations))
    if deepest > MAX_NESTING:
        raise ConditionSyntaxError(
            f"the condition nests parentheses and negations {deepest} levels deep, more than the {MAX_NESTING} "
            f"allowed; simplify it (dsl.If takes one comparison; nest dsl.If blocks instead) ({text[:80]!r}...)"
        )


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _Lexer(text).run()
        _check_nesting(self.tokens, text)
        self.i = 0

    def peek(self) -> _Token | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self, kind: str) -> _Token:
        token = self.peek()
        if token is None or token.kind != kind:
            found = "the end" if token is None else repr(token.value or token.kind)
            raise ConditionSyntaxError(f"expected {kind!r} but found {found} in {self.text!r}")
        self.i += 1
        return token

    def parse(self) -> list[Comparison]:
        terms = self.disjunction()
        if self.peek() is not None:
            raise ConditionSyntaxError(f"unexpected {self.peek()!r} in {self.text!r}")
        return terms

    def disjunction(self) -> list[Comparison]:
        terms = self.conjunction()
        if self.peek() is not None and self.peek().kind == "or":  # type: ignore[union-attr]
            raise ConditionSyntaxError(
                f"'||' (or) cannot be expressed: a branch runs when all of its comparisons hold; "
                f"write one dsl.If per alternative instead ({self.text!r})"
            )
        return terms

    def conjunction(self) -> list[Comparison]:
        terms = self.unary()
        while self.peek() is not None and self.peek().kind == "and":  # type: ignore[union-attr]
            self.i += 1
            terms += self.unary()
        return terms

    def unary(self) -> list[Comparison]:
        token = self.peek()
        if token is not None and token.kind == "not":
            self.i += 1
            inner = self.unary()
            if len(inner) != 1:
                raise ConditionSyntaxError(
                    f"a negated conjunction '!(a && b)' cannot be expressed (it means a || b): {self.text!r}"
                )
            c = inner[0]
            return [Comparison(c.left, c.operator, c.right, not c.negate)]
        if token is not None and token.kind == "(":
            saved = self.i
            try:
                self.i += 1
                inner = self.disjunction()
                self.take(")")
                return inner
            except ConditionSyntaxError:
                self.i = saved  # a parenthesis around an operand: (inputs...) == 1
        return [self.comparison()]

    def comparison(self) -> Comparison:
        left = self.operand()
        token = self.peek()
        if token is None or token.kind != "op":
            raise ConditionSyntaxError(
                f"expected a comparison (==, !=, <, <=, >, >=) after {left!r} in {self.text!r}; "
                f"a bare value cannot be a condition: compare it, for example x == true"
            )
        self.i += 1
        right = self.operand()
        return Comparison(left, str(token.value), right)

    def operand(self) -> Operand:
        token = self.peek()
        if token is None:
            raise ConditionSyntaxError(f"a comparison is missing an operand in {self.text!r}")
        if token.kind == "cast":
            self.i += 1
            self.take("(")
            inner = self.operand()
            self.take(")")
            return _cast(str(token.value), inner)
        if token.kind == "(":
            self.i += 1
            inner = self.operand()
            self.take(")")
            return inner
        if token.kind in ("ref", "lit"):
            self.i += 1
            return token.value  # type: ignore[no-any-return]
        raise ConditionSyntaxError(f"unexpected {token.kind!r} where a value was expected in {self.text!r}")


def parse_condition(text: str) -> list[Comparison]:
    """The comparisons that must all hold, each possibly negated."""
    if not isinstance(text, str) or not text.strip():
        raise ConditionSyntaxError("the condition is empty")
    return _Parser(text).parse()
