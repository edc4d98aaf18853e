"""Budget sections and keys are what a seat without financials:read never sees: every
section under a heading starting with "Budget" (any level, ATX or setext, numbered or
emphasised), up to the next heading of its level or higher, and budget keys at any
depth of the structured JSON; nothing else changes."""

from __future__ import annotations

from audora.tenants.documents.redaction import (
    HIDDEN_NOTICE,
    has_budget_sections,
    redact_markdown,
    redact_structured,
)

SOW = """# Statement of work

## Scope

- Booking app

## Budget and payment schedule: 48,000 USD

- Total: 48,000 USD

### Payments

- 50% upfront (24,000 USD)

## Timeline

- June 15
"""


def test_a_budget_section_and_its_subsections_become_one_placeholder() -> None:
    redacted = redact_markdown(SOW)
    assert "48,000" not in redacted
    assert "24,000" not in redacted
    assert "## Budget\n\n" + HIDDEN_NOTICE in redacted
    assert "## Scope\n\n- Booking app" in redacted
    assert "## Timeline\n\n- June 15" in redacted
    assert has_budget_sections(SOW)
    assert not has_budget_sections(redacted.replace("## Budget", "## Money"))


def test_numbered_emphasised_and_setext_budget_headings_count() -> None:
    for heading in ("## 4. Budget", "## **Budget**", "#### budget notes"):
        assert "9,999" not in redact_markdown(f"# Doc\n\n{heading}\n\n9,999 EUR\n")
    setext = "Doc\n===\n\nBudget\n------\n\n9,999 EUR\n\nTimeline\n--------\n\nJune\n"
    redacted = redact_markdown(setext)
    assert "9,999" not in redacted
    assert "Timeline\n--------\n\nJune" in redacted


def test_a_heading_inside_a_code_block_is_not_a_heading() -> None:
    text = "# Doc\n\n```\n## Budget\n```\n\nNothing hidden here.\n"
    assert redact_markdown(text) == text
    assert not has_budget_sections(text)


def test_a_budget_section_at_the_end_is_hidden_to_the_end() -> None:
    assert redact_markdown("# Brief\n\n## Budget\n\n10k\n\nmore 10k\n").count("10k") == 0


def test_budget_keys_go_at_every_depth_and_the_rest_stays() -> None:
    structured = {
        "budget": {"total": "48,000"},
        "timeline": ["June 15"],
        "milestones": [{"name": "Launch", "budget_share": "50%", "payment_schedule": "x"}],
        "paymentSchedule": ["a"],
    }
    assert redact_structured(structured) == {
        "timeline": ["June 15"],
        "milestones": [{"name": "Launch"}],
    }
