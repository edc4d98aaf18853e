"""Numbers and sums of money as people say them and as speech recognition writes them:
"48,000", "$48,000", "48k", "48 thousand", "forty-eight thousand", "forty eight thousand",
"one hundred and twenty thousand", "1.5 million". All give the same integer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

UNITS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
    "nineteen": 19,
}  # fmt: skip
TENS = {
    "twenty": 20, "thirty": 30, "forty": 40, "fourty": 40, "fifty": 50, "sixty": 60,
    "seventy": 70, "eighty": 80, "ninety": 90,
}  # fmt: skip
SCALES = {"thousand": 1_000, "k": 1_000, "million": 1_000_000, "m": 1_000_000}
ORDINALS = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7,
    "eighth": 8, "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12, "thirteenth": 13,
    "fourteenth": 14, "fifteenth": 15, "sixteenth": 16, "seventeenth": 17,
    "eighteenth": 18, "nineteenth": 19, "twentieth": 20, "thirtieth": 30,
}  # fmt: skip

_WORD = "|".join(sorted([*UNITS, *TENS, "hundred", "thousand", "million", "a"], key=len)[::-1])
_DIGITS = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
# A run of number words and digits: "one hundred and twenty thousand", "48 thousand", "48k".
NUMBER = re.compile(
    rf"(?<![\w.,])(?:(?:{_DIGITS})(?:\s*(?:k|m)\b)?|(?:{_WORD})\b)"
    rf"(?:[\s-]+(?:and[\s-]+)?(?:(?:{_DIGITS})|(?:{_WORD})\b))*",
    re.IGNORECASE,
)
CURRENCY_WORDS = {
    "dollar": "USD", "dollars": "USD", "usd": "USD", "bucks": "USD", "euro": "EUR",
    "euros": "EUR", "eur": "EUR", "pound": "GBP", "pounds": "GBP", "gbp": "GBP",
}  # fmt: skip
CURRENCY_SIGNS = {"$": "USD", "€": "EUR", "£": "GBP"}
SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£"}


def words_to_number(text: str) -> float | None:
    """The value of a spoken or written number, or None when it is not one."""
    tokens = [t for t in re.split(r"[\s-]+", text.lower().strip()) if t and t != "and"]
    if not tokens or tokens == ["a"]:
        return None
    total, current, seen = 0.0, 0.0, False
    for word in tokens:
        plain = word.replace(",", "")
        if re.fullmatch(r"\d+(?:\.\d+)?", plain):
            current += float(plain)
        elif word == "a":
            current += 1
        elif word in UNITS:
            current += UNITS[word]
        elif word in TENS:
            current += TENS[word]
        elif word == "hundred":
            current = (current or 1) * 100
        elif word in SCALES:
            total += (current or 1) * SCALES[word]
            current = 0
        else:
            return None
        seen = True
    return total + current if seen else None


@dataclass(frozen=True)
class Money:
    amount: int
    currency: str
    said: str  # the words as they were said (or written by the recogniser)
    start: int
    end: int


def find_money(text: str, *, assume_currency: bool = False) -> list[Money]:
    """Sums of money in `text`: a number after a currency sign or before a currency word.
    With `assume_currency` (a sentence about a budget), a bare number of a thousand or
    more counts too, in dollars."""
    found: list[Money] = []
    for match in NUMBER.finditer(text):
        said = match.group(0).strip()
        value = words_to_number(said.replace("k", " k").replace("K", " k"))
        if value is None:
            continue
        start, end = match.start(), match.start() + len(said)
        prefix = text[:start].rstrip()
        after = re.match(r"\s*([A-Za-z]+)", text[end:])
        currency = CURRENCY_SIGNS.get(prefix[-1:]) if prefix else None
        if currency is not None:
            start = len(prefix) - 1
        elif after and after.group(1).lower() in CURRENCY_WORDS:
            currency = CURRENCY_WORDS[after.group(1).lower()]
            end += after.end()
        elif assume_currency and value >= 1000:
            currency = "USD"
        if currency is None:
            continue
        found.append(Money(round(value), currency, text[start:end].strip(), start, end))
    return found


def money_display(amount: int, currency: str | None) -> str:
    """ "$48,000": the form documents show (and the one people search for)."""
    symbol = SYMBOLS.get(currency or "USD")
    return f"{symbol}{amount:,}" if symbol else f"{amount:,} {currency}"


def ordinal_or_number(token: str) -> int | None:
    """A day of the month: "15", "15th", "fifteenth", "twenty first", "twenty-first"."""
    token = token.lower().strip()
    digits = re.fullmatch(r"(\d{1,2})(?:st|nd|rd|th)?", token)
    if digits:
        return int(digits.group(1))
    parts = [p for p in re.split(r"[\s-]+", token) if p]
    if len(parts) == 1:
        return ORDINALS.get(parts[0])
    if len(parts) == 2 and parts[0] in TENS and parts[1] in ORDINALS:
        return TENS[parts[0]] + ORDINALS[parts[1]]
    return None
