"""Interview files (`add --from FILE.toml`): their errors name the file, not the config."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from agent import examplefile, intake
from agent.errors import ConfigError, IntakeError
from tests.test_cli_local import init_noninteractive, run


@pytest.fixture
def example(tmp_path: Path) -> Path:
    """The file `followup add --example` writes (dated from now, example domains)."""
    path = tmp_path / "interview.toml"
    path.write_text(examplefile.example_interview(datetime.now(UTC), UTC, str(path)))
    return path


UTC = ZoneInfo("UTC")
GOOD = 'company = "Acme"\nrole = "R"\n[interview]\nat = "2026-11-20 10:00"\n'
PERSON = '[[interviewers]]\nemail = "jane@acme.example"\n'


@pytest.mark.parametrize(
    ("text", "key", "words"),
    [
        ('role = "R"\n[interview]\nat = "2026-11-20 10:00"\n' + PERSON, "company", "required"),
        (GOOD.replace('"2026-11-20 10:00"', "10") + PERSON, "interview.at", "a string"),
        (GOOD + '[[interviewers]]\nname = "Jane"\n', "interviewers[0].email", "required"),
        (GOOD + PERSON + 'colour = "red"\n', "interviewers[0].colour", "unknown key"),
        ('domian = ["x.example"]\n' + GOOD + PERSON, "domian", "did you mean 'domains'"),
        (GOOD + "[interview]\n", "", "not valid TOML"),
        ('company = "Acme"\ninterviewers = 3\nrole = "R"\n' + GOOD[28:], "interviewers", "array"),
        (
            GOOD.replace("[interview]", '[interview]\nkind = "lunch"') + PERSON,
            "interview.kind",
            "one of phone",
        ),
    ],
)
def test_file_errors_name_the_file_and_the_key(
    tmp_path: Path, text: str, key: str, words: str
) -> None:
    path = tmp_path / "iv.toml"
    path.write_text(text)
    with pytest.raises(IntakeError) as err:
        intake.load_file(path, UTC)
    assert not isinstance(err.value, ConfigError)
    assert err.value.file == path and err.value.key == key
    assert words in str(err.value) and str(path) in str(err.value)


def test_the_example_file_loads(example: Path) -> None:
    data, agency = intake.load_file(example, UTC)
    assert data.company == "Acme Analytics" and agency and len(data.interviewers) == 3


def test_a_bad_file_is_reported_as_the_file_not_the_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = init_noninteractive(tmp_path, capsys)
    path = tmp_path / "iv.toml"
    path.write_text(GOOD + '[[interviewers]]\nname = "Jane"\n')
    code, _, err = run(capsys, "--config", str(cfg), "add", "--from", str(path))
    assert code == 2
    assert "config error" not in err and str(cfg) not in err
    assert f"{path}: interviewers[0].email: is required" in err


@pytest.mark.parametrize(
    "extra",
    [["--company", "Globex"], ["--role", "CTO"], ["--interviewer", "x@y.example"], ["--final"]],
)
def test_from_file_refuses_flags_it_would_drop(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], example: Path
) -> None:
    cfg = init_noninteractive(tmp_path, capsys)
    code, out, err = run(capsys, "--config", str(cfg), "add", "--from", str(example), *extra)
    assert code == 2 and out == ""
    assert "--from" in err and extra[0] in err
    code, out, _ = run(capsys, "--config", str(cfg), "status", "--json")
    assert out.strip() == "[]"


def test_from_file_keeps_application_for_a_later_round(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], example: Path
) -> None:
    cfg = init_noninteractive(tmp_path, capsys)
    assert run(capsys, "--config", str(cfg), "add", "--from", str(example))[0] == 0
    later = tmp_path / "round2.toml"
    later.write_text(example.read_text().replace("round = 1", "round = 2"))
    code, _, err = run(
        capsys, "--config", str(cfg), "add", "--from", str(later), "--application", "1"
    )
    assert code == 0, err
