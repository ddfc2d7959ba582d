"""docs/events.md is the published event contract for downstream agencies: it must say exactly
what the schemas say."""

from pathlib import Path

from fangfei.events.catalog_doc import render

DOC = Path(__file__).resolve().parents[2] / "docs" / "events.md"


def test_the_event_catalogue_matches_the_schemas() -> None:
    assert DOC.read_text(encoding="utf-8") == render(), (
        "docs/events.md is out of date: run `python -m fangfei.events.catalog_doc > docs/events.md`"
    )
