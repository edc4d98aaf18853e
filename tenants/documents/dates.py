"""Dates and due words as said on a call, resolved against the call's own date.

"by June fifteenth", "June 15th", "15 June", "the end of September", "Friday", "next
Tuesday", "tomorrow", "next week", "in two weeks". Each mention keeps the words as said;
its ISO date is filled only when the call's date settles it:
- a calendar date without a year is its next occurrence on or after the call's date;
- a month alone ("by September", "the end of September") is that month's last day, and
  "the beginning of" / "mid" one its first / fifteenth;
- a weekday is its next occurrence after the call's date; "next <weekday>" is the one
  in the following week (Monday to Sunday);
- a span ("next week", "this week", "end of the month") is its last working day or its
  last day;
- "asap", "soon", "later" are kept as said, with no date.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta

from audora.tenants.documents.numbers import ORDINALS, TENS, ordinal_or_number, words_to_number

MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name}
MONTHS.update({name.lower(): i for i, name in enumerate(calendar.month_abbr) if name})
WEEKDAYS = {name.lower(): i for i, name in enumerate(calendar.day_name)}

_MONTH = r"(?P<month>" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\b"
_ORD_WORD = "|".join(sorted(ORDINALS, key=len, reverse=True))
_DAY = (
    r"(?P<day>\d{1,2}(?:st|nd|rd|th)?\b|(?:(?:"
    + "|".join(TENS)
    + r")[\s-])?(?:"
    + _ORD_WORD
    + r")\b)"
)
_YEAR = r"(?:,?\s+(?P<year>20\d\d)\b)?"
_WEEKDAY = r"(?P<weekday>" + "|".join(WEEKDAYS) + r")\b"

CALENDAR_PATTERNS = [
    # June fifteenth, June 15th, June the 15th (2027)
    re.compile(rf"\b{_MONTH}\s+(?:the\s+)?{_DAY}{_YEAR}", re.IGNORECASE),
    # 15 June, the fifteenth of June
    re.compile(rf"\b(?:the\s+)?{_DAY}\s+(?:of\s+)?{_MONTH}{_YEAR}", re.IGNORECASE),
    # the end of September, early October, mid-March, by September
    re.compile(
        rf"\b(?:(?P<part>(?:the\s+)?(?:end|beginning|start|middle)\s+(?:of|on|in)|early|mid|late)"
        rf"[\s-]+)?{_MONTH}{_YEAR}",
        re.IGNORECASE,
    ),
]
RELATIVE = re.compile(
    r"\b(?:"
    r"(?P<today>today|tonight|end of (?:the )?day|eod)"
    r"|(?P<dayafter>the day after tomorrow)"
    r"|(?P<tomorrow>tomorrow)"
    rf"|(?P<which>next|this|coming)?\s*{_WEEKDAY}"
    r"|(?P<nextweek>next week|end of next week)"
    r"|(?P<thisweek>this week|end of (?:the |this )?week)"
    r"|(?P<monthend>end of (?:the |this )?month)"
    r"|(?P<nextmonth>next month)"
    r"|in (?P<count>a|an|one|two|three|four|five|six|\d+) (?P<unit>days?|weeks?|months?)"
    r"|(?P<vague>asap|as soon as possible)"
    r")",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class DateMention:
    said: str
    iso: str | None
    start: int
    end: int
    calendar: bool  # a calendar date or month (a deadline), not a relative due word


def _next_on_or_after(month: int, day: int, year: int | None, today: date) -> date | None:
    for candidate_year in [year] if year else [today.year, today.year + 1]:
        try:
            candidate = date(candidate_year, month, day)
        except ValueError:
            return None
        if year or candidate >= today:
            return candidate
    return None


def _month_part(month: int, part: str | None, year: int | None, today: date) -> date:
    part = (part or "end").lower()
    if "beginning" in part or "start" in part or part == "early":
        day = 1
    elif "middle" in part or part == "mid":
        day = 15
    else:
        day = calendar.monthrange(year or today.year, month)[1]
    candidate = _next_on_or_after(month, day, year, today)
    if candidate is None:  # 29 February in a year without one
        candidate = date(today.year + 1, month, calendar.monthrange(today.year + 1, month)[1])
    return candidate


def _relative(match: re.Match[str], today: date) -> date | None:
    g = match.groupdict()
    if g["today"]:
        return today
    if g["dayafter"]:
        return today + timedelta(days=2)
    if g["tomorrow"]:
        return today + timedelta(days=1)
    if g["weekday"]:
        target = WEEKDAYS[g["weekday"].lower()]
        if (g["which"] or "").lower() == "next":
            next_monday = today + timedelta(days=7 - today.weekday())
            return next_monday + timedelta(days=target)
        return today + timedelta(days=(target - today.weekday() - 1) % 7 + 1)
    if g["nextweek"]:
        return today + timedelta(days=7 - today.weekday() + 4)
    if g["thisweek"]:
        return max(today, today + timedelta(days=4 - today.weekday()))
    if g["monthend"]:
        return today.replace(day=calendar.monthrange(today.year, today.month)[1])
    if g["nextmonth"]:
        year, month = (today.year + 1, 1) if today.month == 12 else (today.year, today.month + 1)
        return date(year, month, calendar.monthrange(year, month)[1])
    if g["count"]:
        count = int(words_to_number(g["count"]) or 1)
        unit = g["unit"].lower()
        days = count * (1 if unit.startswith("day") else 7 if unit.startswith("week") else 30)
        return today + timedelta(days=days)
    return None


def find_dates(text: str, today: date) -> list[DateMention]:
    """Every date and due word in `text`, in order, none overlapping another."""
    found: list[DateMention] = []
    taken: list[tuple[int, int]] = []

    def free(start: int, end: int) -> bool:
        return all(end <= a or start >= b for a, b in taken)

    for pattern in CALENDAR_PATTERNS:
        for m in pattern.finditer(text):
            if not free(m.start(), m.end()):
                continue
            month = MONTHS[m.group("month").lower().rstrip(".")]
            if m.group("month").lower() == "may" and not _looks_like_may(text, m):
                continue
            year = int(m.group("year")) if m.group("year") else None
            groups = m.groupdict()
            if groups.get("day"):
                day = ordinal_or_number(groups["day"])
                when = _next_on_or_after(month, day, year, today) if day else None
            else:
                when = _month_part(month, groups.get("part"), year, today)
            found.append(DateMention(m.group(0).strip(), _iso(when), m.start(), m.end(), True))
            taken.append((m.start(), m.end()))
    for m in RELATIVE.finditer(text):
        if free(m.start(), m.end()):
            when = _relative(m, today)
            found.append(DateMention(m.group(0).strip(), _iso(when), m.start(), m.end(), False))
            taken.append((m.start(), m.end()))
    return sorted(found, key=lambda d: d.start)


def _looks_like_may(text: str, match: re.Match[str]) -> bool:
    """ "may" is a month only next to a day, a year or a preposition of time."""
    groups = match.groupdict()
    if groups.get("day") or groups.get("year") or groups.get("part"):
        return True
    before = text[: match.start()].lower().split()[-1:]
    return bool(before) and before[0] in {"in", "by", "until", "before", "of", "since"}


def _iso(when: date | None) -> str | None:
    return when.isoformat() if when else None


def display(iso: str | None, said: str) -> str:
    """ "June 15, 2026 (said: “by June fifteenth”)", or the words alone when unresolved."""
    if iso is None:
        return f"“{said}” (no date given)"
    when = date.fromisoformat(iso)
    return f"{calendar.month_name[when.month]} {when.day}, {when.year} (said: “{said}”)"
