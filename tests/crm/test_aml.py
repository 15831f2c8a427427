"""AML screening: the automatic screen against the sample sanctions list (hits, near
misses, aliases, accents, word order), manual results with notes (audited), the
behaviour without a configured list, and loading list files."""

from pathlib import Path

import pytest

from app.runtime import sanctions_from
from app.sanctions import SanctionsFileError, load_sanctions
from app.settings import Settings
from models.audit import AuditEntry
from models.crm import Prospect
from models.sanctions import SanctionsList, normalize_name
from tests.conftest import SANCTIONS_SAMPLE
from tests.crm.support import AML, SCREEN, create_prospect


@pytest.fixture
def no_sanctions_list(runtime, monkeypatch):
    monkeypatch.setattr(runtime.services, "sanctions", None)


@pytest.mark.parametrize(
    ("name", "result", "entry"),
    [
        ("Zoltan Krummelwitz", "HIT", "FIC-0001"),  # exact
        ("KRUMMELWITZ, Zoltan", "HIT", "FIC-0001"),  # order, case, punctuation
        ("Zoltan Krummelwits", "HIT", "FIC-0001"),  # one letter off
        ("Emilie Dupres Fantome", "HIT", "FIC-0002"),  # accents dropped
        ("SØREN ÆGIDIUS BLÅBÆRSEN", "HIT", "FIC-0005"),  # ø/æ/å folded
        ("Soren Aegidius Blabaersen", "HIT", "FIC-0005"),
        ("The Duckmaster", "HIT", "FIC-0003"),  # alias
        ("Ignaz Platzhalter", "HIT", "FIC-0004"),  # alias
        ("Orville Quackenberg", "MANUAL_REVIEW", "FIC-0003"),  # near miss
        ("Ignatius Place", "MANUAL_REVIEW", "FIC-0004"),  # partial name
        ("Zoltan Smith", "CLEAR", None),  # shares a first name only
        ("Jane Doe", "CLEAR", None),
    ],
)
async def test_creation_screens_against_the_list(api, world, name, result, entry) -> None:
    prospect = await create_prospect(api, world("acme", "manager"), name)
    assert prospect["amlResult"] == result
    [check] = prospect["amlChecks"]
    assert (check["result"], check["automatic"], check["matchedEntryId"]) == (result, True, entry)
    assert check["listSource"] == "sanctions-sample.csv"
    assert check["by"]["email"] == "manager@acme.test"
    if result == "HIT":
        assert check["score"] >= 90
    elif result == "MANUAL_REVIEW":
        assert 75 <= check["score"] < 90 and check["matchedName"]
    else:
        assert check["score"] < 75 and check["matchedName"] is None


def test_thresholds_come_from_the_settings(monkeypatch) -> None:
    monkeypatch.setenv("FIDUS_SANCTIONS_FILE", str(SANCTIONS_SAMPLE))
    monkeypatch.setenv("FIDUS_AML_HIT_THRESHOLD", "99")
    monkeypatch.setenv("FIDUS_AML_REVIEW_THRESHOLD", "90")
    strict = sanctions_from(Settings())
    assert strict is not None
    assert strict.screen("Zoltan Krummelwits").result.value == "MANUAL_REVIEW"
    assert strict.screen("Orville Quackenberg").result.value == "CLEAR"
    with pytest.raises(ValueError, match="threshold"):
        SanctionsList("x", (), hit_threshold=70, review_threshold=80)


def test_no_file_configured_means_no_list() -> None:
    assert sanctions_from(Settings(sanctions_file=None)) is None


def test_names_are_normalised() -> None:
    assert normalize_name("  Émilie  DUPRÈS-Fantôme ") == "emilie dupres fantome"
    assert normalize_name("Łukasz Øster_Straße") == "lukasz oster strasse"


def test_list_files_in_json_and_broken_files(tmp_path: Path) -> None:
    good = tmp_path / "list.json"
    good.write_text('[{"id": "J1", "name": "Quentin Quibble", "aliases": ["Q. Quibble"]}]')
    assert load_sanctions(good, 90, 75).screen("quibble quentin").result.value == "HIT"
    for name, text in [
        ("empty.csv", "id,name,aliases\n"),
        ("noname.csv", "id,name,aliases\nX1,,\n"),
        ("object.json", '{"id": "J1"}'),
        ("broken.json", "[{"),
    ]:
        path = tmp_path / name
        path.write_text(text)
        with pytest.raises(SanctionsFileError):
            load_sanctions(path, 90, 75)
    with pytest.raises(SanctionsFileError):
        load_sanctions(tmp_path / "missing.csv", 90, 75)


async def test_screening_again_appends_a_check(api, world) -> None:
    manager = world("acme", "manager")
    prospect = await create_prospect(api, manager, "Orville Quackenberg")
    again = (await api.gql(SCREEN, {"id": prospect["id"]}, token=manager.token)).ok()
    checks = again["screenProspect"]["amlChecks"]
    assert [c["result"] for c in checks] == ["MANUAL_REVIEW", "MANUAL_REVIEW"]
    assert await AuditEntry.find({"action": "prospect.aml_screen"}).count() == 1


async def test_without_a_list_nothing_is_cleared_silently(api, world, no_sanctions_list) -> None:
    manager = world("acme", "manager")
    prospect = await create_prospect(api, manager, "Zoltan Krummelwitz")
    assert (prospect["amlResult"], prospect["amlChecks"]) == (None, [])
    refused = await api.gql(SCREEN, {"id": prospect["id"]}, token=manager.token)
    assert refused.code == "CONFLICT"
    assert "FIDUS_SANCTIONS_FILE" in refused.errors[0]["message"]
    manual = await api.gql(
        AML, {"id": prospect["id"], "r": "APPROVED", "n": "Checked by hand"}, token=manager.token
    )
    assert manual.ok()["recordAmlCheck"]["amlResult"] == "APPROVED"


@pytest.mark.parametrize("result", ["CLEAR", "HIT", "MANUAL_REVIEW", "APPROVED", "REJECTED"])
async def test_manual_results_are_recorded_and_audited(api, world, result) -> None:
    manager = world("acme", "manager")
    prospect = await create_prospect(api, manager, "Orville Quackenberg")
    variables = {"id": prospect["id"], "r": result, "n": f"Reviewed: {result}"}
    recorded = (await api.gql(AML, variables, token=manager.token)).ok()["recordAmlCheck"]
    assert recorded["amlResult"] == result
    last = recorded["amlChecks"][-1]
    assert (last["automatic"], last["note"], last["by"]["email"]) == (
        False,
        f"Reviewed: {result}",
        manager.email,
    )
    entry = await AuditEntry.find_one({"action": "prospect.aml_check"})
    assert entry is not None and str(entry.target_id) == prospect["id"]
    assert entry.detail == {
        "previous": "MANUAL_REVIEW",
        "result": result,
        "note": f"Reviewed: {result}",
    }


async def test_manual_results_are_validated(api, world) -> None:
    manager = world("acme", "manager")
    prospect = await create_prospect(api, manager, "Jane Doe")
    for result in ("APPROVED", "REJECTED"):
        for note in (None, "   "):
            refused = await api.gql(
                AML, {"id": prospect["id"], "r": result, "n": note}, token=manager.token
            )
            assert (refused.code, refused.errors[0]["extensions"]["field"]) == (
                "BAD_USER_INPUT",
                "note",
            )
    too_long = await api.gql(
        AML, {"id": prospect["id"], "r": "CLEAR", "n": "x" * 2001}, token=manager.token
    )
    assert too_long.code == "BAD_USER_INPUT"
    wrong = await api.gql(AML, {"id": prospect["id"], "r": "MAYBE"}, token=manager.token)
    assert wrong.code == "BAD_USER_INPUT"
    analyst = await api.gql(
        AML, {"id": prospect["id"], "r": "CLEAR"}, token=world("acme", "analyst").token
    )
    assert analyst.code == "FORBIDDEN"
    foreign = await api.gql(
        AML, {"id": prospect["id"], "r": "CLEAR"}, token=world("globex", "manager").token
    )
    assert foreign.code == "NOT_FOUND"
    stored = await Prospect.get(prospect["id"])
    assert stored is not None and [c.automatic for c in stored.aml_checks] == [True]
