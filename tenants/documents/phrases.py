"""Phrase-level helpers shared by the extractor's readers: clauses of a sentence, a
clause written back as a sentence, money found and masked, and the repair of names
that speech recognition spells out letter by letter."""

from __future__ import annotations

import re
from collections.abc import Sequence

from audora.tenants.documents.brands import cased
from audora.tenants.documents.numbers import find_money

MONEY_WORDS = re.compile(
    r"\b(?:budget|set aside|spend|cost|costs|price|pricing|fee|fees|invest|funding|quote|"
    r"paid|pay|payment|payments|invoice|dollars?|euros?|pounds?)\b|[$€£]",
    re.IGNORECASE,
)


def mask_money(text: str) -> str:
    """`text` with every sum of money replaced, for sections a seat without financials
    may read."""
    out = text
    for money in reversed(find_money(text)):
        out = out[: money.start] + "[amount in the budget section]" + out[money.end :]
    return out


SPELLED = re.compile(r"\b[A-Z]{1,4}(?:-[A-Z]{1,4}){2,}\b")


def normalise(texts: Sequence[str]) -> list[str]:
    """Undo what speech recognition does to names, over a whole call: spelled-out names
    "SAM-SAR-A" → "Samsara", and "SAM-SAR-A-B-I" → "Samsara API" (its "A-P-I" heard as
    "A-B-I", the name's last letter and the A of API run together); well-known products
    in their makers' casing ("through stripe" → "through Stripe")."""
    known = {"".join(t.split("-")) for text in texts for t in SPELLED.findall(text)}

    def word(letters: str) -> str:
        return letters.capitalize() if len(letters) > 3 else letters

    def fix(m: re.Match[str]) -> str:
        pieces = m.group(0).split("-")
        if len(pieces) > 3 and pieces[-2:] in (["P", "I"], ["B", "I"]) and pieces[-3] == "A":
            for name in ("".join(pieces[:-3]), "".join(pieces[:-2])):
                if name in known:
                    return f"{word(name)} API"
            return f"{word(''.join(pieces[:-3]))} API"
        return word("".join(pieces))

    return [cased(SPELLED.sub(fix, text)) for text in texts]


def clauses(text: str) -> list[str]:
    """A sentence cut where a new statement starts: ", and they must ...", "; ", ": "."""
    parts = re.split(
        r",?\s+(?:and|but)\s+(?=(?:\w+\s+){0,3}?(?:must|should|need|needs|has to|have to|want|"
        r"wants|will|would like)\b)|,\s+(?:and|but)\s+|;\s*|:\s+",
        text,
    )
    return [p.strip(" ,") for p in parts if p and re.search(r"\w", p)]


def as_sentence(text: str) -> str:
    """A clause as a sentence, without the fillers that opened it ("So", "Sure, ")."""
    text = text.strip().rstrip(",;:")
    text = re.sub(
        r"^(?:(?:so|and|but|also|then|sure|yes|yeah|okay|ok|well|great|right)\b[,]?\s+)+",
        "",
        text,
        flags=re.I,
    )
    text = text[:1].upper() + text[1:]
    return text if re.search(r"[.?!]$", text) else text + "."


def has_money(text: str) -> bool:
    return bool(MONEY_WORDS.search(text) or find_money(text))
