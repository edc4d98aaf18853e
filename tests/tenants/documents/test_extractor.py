"""The embedded generator's reading of a call, on small transcripts: sums of money and
dates in digits or words, what a call leaves out becoming open questions (never a
figure), owners only from the call's own names, determinism, and no carry-over from one
call to the next (P3)."""

from __future__ import annotations

from datetime import date

import pytest

from audora.tenants.calls.content import DocumentKind, Segment, Transcript
from audora.tenants.documents.brands import cased
from audora.tenants.documents.dates import find_dates
from audora.tenants.documents.embedded import EmbeddedGenerator
from audora.tenants.documents.extractor import extract
from audora.tenants.documents.generator import CallContext, GeneratedDocument
from audora.tenants.documents.numbers import find_money

CALL_DATE = date(2026, 3, 4)  # a Wednesday


def transcript(*lines: str | tuple[str, str]) -> Transcript:
    """Segments five seconds apart; a (speaker, text) pair is a labelled one."""
    segments = tuple(
        Segment(
            float(i * 5),
            float(i * 5 + 5),
            line[0] if isinstance(line, tuple) else None,
            line[1] if isinstance(line, tuple) else line,
        )
        for i, line in enumerate(lines)
    )
    return Transcript(" ".join(s.text for s in segments), segments)


def context(title: str = "Kick-off", client: str = "Acme") -> CallContext:
    return CallContext(title, client, CALL_DATE)


async def generate(
    t: Transcript, ctx: CallContext | None = None
) -> dict[DocumentKind, GeneratedDocument]:
    docs = await EmbeddedGenerator().generate(t, ctx or context())
    return {d.kind: d for d in docs}


@pytest.mark.parametrize(
    ("said", "amount"),
    [
        ("Our budget is forty eight thousand dollars.", 48_000),
        ("Our budget is forty-eight thousand dollars.", 48_000),
        ("our budget is $48,000", 48_000),
        ("the budget is 48k dollars", 48_000),
        ("The budget is 48,000.", 48_000),
        ("We set aside one hundred and twenty thousand dollars.", 120_000),
        ("we set aside 120000 dollars", 120_000),
        ("The budget is 1.5 million dollars.", 1_500_000),
    ],
)
async def test_a_budget_said_in_digits_or_words_is_one_figure(said: str, amount: int) -> None:
    docs = await generate(transcript(said))
    for kind in (DocumentKind.SOW, DocumentKind.CLIENT_BRIEF):
        assert docs[kind].structured["budget"]["amount"] == amount
        assert f"${amount:,}" in docs[kind].markdown


def test_numbers_that_are_not_money_are_not_budgets() -> None:
    assert find_money("Our dispatchers track two hundred trucks.") == []
    assert find_money("We have 4 clinics and 200 trucks.") == []


async def test_a_call_without_a_budget_gets_an_open_question_not_a_number() -> None:
    docs = await generate(
        transcript(
            ("Ana (client)", "We need a customer portal where buyers track their orders."),
            ("Ana (client)", "It has to launch by the end of October."),
        )
    )
    for kind in (DocumentKind.SOW, DocumentKind.CLIENT_BRIEF):
        doc = docs[kind]
        assert doc.structured["budget"]["amount"] is None
        assert "Budget: not discussed on the call" in doc.structured["budget"]["open_questions"]
        assert "Budget: not discussed on the call" in doc.markdown
        assert "$" not in doc.markdown
    # Nor is anything else invented: sections the call did not touch say so.
    prd = docs[DocumentKind.PRD].structured
    assert prd["integrations"] == []
    assert "Integrations: none named on the call" in prd["open_questions"]
    assert "Risks: not discussed on the call" in prd["open_questions"]


async def test_what_a_call_does_not_say_is_asked_not_made_up() -> None:
    docs = await generate(transcript("Hello everyone.", "Thanks, talk soon."))
    for doc in docs.values():
        assert "Open questions" in doc.markdown
    assert docs[DocumentKind.PRD].structured["requirements"] == []
    assert docs[DocumentKind.TASK_LIST].structured["items"] == []
    assert "Action items: none agreed on the call" in docs[DocumentKind.TASK_LIST].markdown
    sow = docs[DocumentKind.SOW]
    # The only standard text is change control, worded as the agency's standard terms.
    assert all("agency's standard terms" in c for c in sow.structured["change_control"])


@pytest.mark.parametrize(
    ("said", "iso"),
    [
        ("by June fifteenth", "2026-06-15"),
        ("launch my June 15th", "2026-06-15"),
        ("on 15 June", "2026-06-15"),
        ("by the end of September", "2026-09-30"),
        ("by the twenty-first of March", "2026-03-21"),
        ("January 10th", "2027-01-10"),  # already past on the call's date: next year's
        ("by Friday", "2026-03-06"),
        ("next Tuesday", "2026-03-10"),
        ("tomorrow", "2026-03-05"),
        ("next week", "2026-03-13"),
        ("in two weeks", "2026-03-18"),
    ],
)
def test_dates_and_due_words_resolve_against_the_call_date(said: str, iso: str) -> None:
    assert [d.iso for d in find_dates(said, CALL_DATE)] == [iso]


async def test_priorities_follow_the_words_of_the_call() -> None:
    e = extract(
        transcript(
            "The app must work offline.",
            "Users should be able to export their data.",
            "Dark mode would be nice to have.",
            "The admin needs an audit trail of every change.",
            "That is a nice to have.",
        ).segments,
        CALL_DATE,
    )
    assert [(r.statement, r.priority) for r in e.requirements] == [
        ("The app must work offline.", "must"),
        ("Users should be able to export their data.", "should"),
        ("Dark mode would be nice to have.", "could"),
        ("The admin needs an audit trail of every change.", "could"),
    ]


async def test_an_unpunctuated_lower_case_transcript_is_still_read() -> None:
    docs = await generate(
        transcript(
            "so we need an online booking app where patients pick a time slot and it has to "
            "sync with dentrix because our front desk uses it our budget is forty eight "
            "thousand dollars and we want to launch by june fifteenth leo could you send us "
            "the dentrix api documentation by friday"
        )
    )
    prd = docs[DocumentKind.PRD].markdown
    assert "online booking app" in prd
    assert "Dentrix API" in prd
    assert docs[DocumentKind.SOW].structured["budget"]["amount"] == 48_000
    assert "June 15, 2026" in docs[DocumentKind.SOW].markdown
    (item,) = docs[DocumentKind.TASK_LIST].structured["items"]
    assert item["owner"] == "Leo"
    assert item["due_said"] == "friday"
    assert "dentrix api documentation" in item["title"].lower()


async def test_product_names_heard_in_lower_case_are_written_as_their_makers_write_them() -> None:
    docs = await generate(
        transcript(
            "Payments must go through stripe and the app must run on ios and android.",
            "Kim, please send the stripe account details by Friday.",
        )
    )
    prd = docs[DocumentKind.PRD].markdown
    assert "- Stripe: Payments must go through Stripe" in prd  # an integration, by name
    assert "iOS and Android" in prd
    assert "- iOS" not in prd  # a platform, not an integration
    assert "- Android" not in prd
    (item,) = docs[DocumentKind.TASK_LIST].structured["items"]  # "Kim, please ..." is Kim's
    assert (item["title"], item["owner"]) == ("Send the Stripe account details", "Kim")


@pytest.mark.parametrize(
    "said",
    ["The menu board has a blue stripe.", "Customers pinch to zoom the map.", "Cut us some slack."],
)
def test_a_product_name_that_is_also_a_plain_word_keeps_its_case_outside_a_products_context(
    said: str,
) -> None:
    assert cased(said) == said


async def test_owners_come_from_the_calls_own_names_or_are_left_unnamed() -> None:
    docs = await generate(
        transcript(
            ("Dr. Maria Chen (client)", "We need new signage for the lobby."),
            ("Sam (agency)", "Mariah, can you send us the floor plans by Monday?"),
            "Sam: I will draft the proposal by Thursday.",
            "Hi, I'm Nora from the studio, and I will review the mood board tomorrow.",
            "I will book the photographer next week.",
        )
    )
    items = docs[DocumentKind.TASK_LIST].structured["items"]
    owners = {i["title"]: i["owner"] for i in items}
    assert owners == {
        "Send the floor plans": "Maria Chen",  # "Mariah" is the call's Maria
        "Draft the proposal": "Sam",
        "Review the mood board": "Nora",
        # Said by someone the call does not name: no guess.
        "Book the photographer": None,
    }
    markdown = docs[DocumentKind.TASK_LIST].markdown
    assert "| Book the photographer | owner not named on the call |" in markdown


async def test_sums_of_money_outside_the_budget_are_masked() -> None:
    docs = await generate(
        transcript(
            ("Sam (agency)", "Our budget is $20,000."),
            ("Sam (agency)", "I will send the invoice for $5,000 by Friday."),
        )
    )
    task_list = docs[DocumentKind.TASK_LIST]
    assert "5,000" not in task_list.markdown
    assert "[amount in the budget section]" in task_list.structured["items"][0]["title"]


async def test_the_same_call_gives_the_same_documents() -> None:
    call = transcript(
        ("Tom (client)", "We want a fleet dashboard with a live map."),
        ("Tom (client)", "We set aside one hundred thousand dollars."),
        ("Priya (agency)", "I will schedule a discovery session for next Tuesday."),
    )
    first = await EmbeddedGenerator().generate(call, context())
    again = await EmbeddedGenerator().generate(call, context())
    assert first == again


async def test_one_call_leaves_nothing_in_the_next() -> None:
    """P3: a generator keeps nothing between calls; the second call's documents are what
    a fresh generator makes of it, with nothing of the first."""
    generator = EmbeddedGenerator()
    first = transcript(
        ("Maria (client)", "Our practice system is Dentrix, so the booking app must sync with it."),
        ("Maria (client)", "Our budget is forty eight thousand dollars."),
        ("Leo (client)", "I will send the Dentrix documentation tomorrow."),
    )
    second = transcript("We need a newsletter signup form on the homepage.")
    await generator.generate(first, context("Brightside", "Brightside Dental"))
    after = await generator.generate(second, context("Kick-off", "Acme"))
    fresh = await EmbeddedGenerator().generate(second, context("Kick-off", "Acme"))
    assert after == fresh
    text = " ".join(d.markdown + str(d.structured) for d in after)
    for trace in ("Dentrix", "Brightside", "48,000", "forty eight", "Maria", "Leo"):
        assert trace not in text
