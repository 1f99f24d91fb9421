"""Validation at the door (issue 11): what a user types never breaks a draft later.

Each row is a bad input from the issue's "Measured" list: refused with exit 2
and one line naming the field, or (for addresses) normalised correctly.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent import compose, fields, intake
from agent.errors import AddressError, UsageError
from tests.test_cli_local import init_noninteractive, run

AT = "2026-11-20 14:00"
NOW = "2026-11-20T16:00:00+01:00"


def _add(cfg: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str, str]:
    base = {"--company": "Acme", "--role": "Data Engineer", "--at": AT}
    args: list[str] = []
    given_flags = set(extra[::2])
    for flag, value in base.items():
        if flag not in given_flags:
            args += [flag, value]
    if "--interviewer" not in given_flags:
        args += ["--interviewer", "Jane Doe <jane@acme.test>"]
    return run(capsys, "--config", str(cfg), "--now", NOW, "add", *args, *extra)


@pytest.mark.parametrize(
    ("flag", "value", "words"),
    [
        ("--role", "Data\rEngineer", "carriage return"),
        ("--role", "Data\nEngineer", "line break"),
        ("--role", "Data\u2028Engineer", "U+2028"),
        ("--company", "Acme\u2029Corp", "U+2029"),
        ("--company", "Acme\x00", "NUL"),
        ("--company", "Acme\u202eevil", "U+202E"),
        ("--company", "Acme\x1b[31m", "U+001B"),
        ("--interviewer", "Interviewer\r\nBcc: evil@evil.test <interviewer@acme.test>", "CR"),
        ("--interviewer", "interviewer@acme.test, evil@evil.test", "repeat --interviewer"),
        ("--interviewer", "jöhn@acme.test", "UTF8=ACCEPT"),
        ("--recruiter", "Rita\n <rita@agency.test>", "line break"),
        ("--hiring-manager", "a@x.test, b@x.test", "repeat --hiring-manager"),
        ("--note", "ok\x00", "NUL"),
        ("--learned", "fine\x07", "U+0007"),
    ],
)
def test_add_refuses_bad_input_naming_the_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], flag: str, value: str, words: str
) -> None:
    cfg = init_noninteractive(tmp_path, capsys)
    code, out, err = _add(cfg, capsys, flag, value)
    assert code == 2, (out, err)
    assert flag in err and words in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


@pytest.mark.parametrize(
    ("role", "name", "key", "words"),
    [
        ("Data\\u2028Engineer", "Jane", "role", "U+2028"),
        ("Data Engineer", "Jane\\r\\nBcc: x@evil.test", "interviewers[0].name", "(CR)"),
    ],
)
def test_an_interview_file_refuses_control_characters_naming_the_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], role: str, name: str, key: str, words: str
) -> None:
    cfg = init_noninteractive(tmp_path, capsys)
    path = tmp_path / "iv.toml"
    path.write_text(
        f'company = "Acme"\nrole = "{role}"\n[interview]\nat = "2026-11-20 10:00"\n'
        f'[[interviewers]]\nname = "{name}"\nemail = "jane@acme.test"\n'
    )
    code, _, err = run(capsys, "--config", str(cfg), "add", "--from", str(path))
    assert code == 2 and f"{path}: {key}: " in err and words in err, err


def test_notes_keep_their_line_breaks(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = init_noninteractive(tmp_path, capsys)
    code, _, err = _add(cfg, capsys, "--learned", "the pipeline\nand the team")
    assert code == 0, err
    code, _, err = run(capsys, "--config", str(cfg), "edit", "1", "--note", "a\x00b")
    assert code == 2 and "--note" in err and "NUL" in err


def _drafted_to(cfg: Path, capsys: pytest.CaptureFixture[str]) -> tuple[str, str]:
    code, out, err = run(capsys, "--config", str(cfg), "--now", NOW, "preview", "1")
    assert code == 0, err
    return out, err


def test_an_idn_domain_is_encoded(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = init_noninteractive(tmp_path, capsys)
    code, _, err = _add(cfg, capsys, "--interviewer", "Jo Brun <someone@bücher.test>")
    assert code == 0, err
    code, out, err = run(capsys, "--config", str(cfg), "show", "1", "--json")
    assert code == 0, err
    assert "someone@xn--bcher-kva.test" in json.dumps(json.loads(out))
    out, _ = _drafted_to(cfg, capsys)
    assert "To: Jo Brun <someone@xn--bcher-kva.test>" in out


def test_a_name_with_a_comma_is_quoted_and_greeted_by_the_given_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = init_noninteractive(tmp_path, capsys)
    code, _, err = _add(cfg, capsys, "--interviewer", '"Doe, Jane" <jane@acme.test>')
    assert code == 0, err
    out, _ = _drafted_to(cfg, capsys)
    assert "Jane," in out and "Doe,," not in out and "Thank you, Doe" not in out
    assert '"Doe, Jane" <jane@acme.test>' in out


@pytest.mark.parametrize(
    ("name", "first"),
    [("Jane Doe", "Jane"), ("Doe, Jane", "Jane"), ("Doe, Jane Ann", "Jane"), ("Cher", "Cher")],
)
def test_the_salutation_uses_the_given_name(name: str, first: str) -> None:
    assert compose.person_vars(name, "x@acme.test")["first_name"] == first


@given(st.text(max_size=40))
def test_a_name_that_passes_the_door_is_one_header_line(name: str) -> None:
    if fields.line_problem(name) is None:
        assert not any(ch in name for ch in "\r\n\x00\u2028\u2029\x85")


@given(st.text(max_size=30), st.sampled_from(["acme.test", "bücher.test", "例え.test"]))
def test_any_accepted_address_is_ascii_and_single(name: str, domain: str) -> None:
    text = f"{name} <jane@{domain}>"
    try:
        parsed = fields.parse_one(text)
    except AddressError:
        return
    assert parsed.email.isascii() and parsed.email.count("@") == 1
    assert fields.line_problem(parsed.name) is None


@pytest.mark.parametrize(
    ("domain", "stored"),
    [
        ("bücher.test", "xn--bcher-kva.test"),
        ("Acme.Test", "acme.test"),
        ("@acme.test", "acme.test"),
    ],
)
def test_a_company_domain_is_stored_as_mail_carries_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], domain: str, stored: str
) -> None:
    cfg = init_noninteractive(tmp_path, capsys)
    code, _, err = _add(cfg, capsys, "--domain", domain)
    assert code == 0, err
    code, out, err = run(capsys, "--config", str(cfg), "show", "1", "--json")
    assert code == 0 and stored in json.loads(out)["domains"], out


@pytest.mark.parametrize("domain", ["acme", "a b.test", "acme..test"])
def test_a_domain_that_mail_cannot_carry_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], domain: str
) -> None:
    cfg = init_noninteractive(tmp_path, capsys)
    code, _, err = _add(cfg, capsys, "--domain", domain)
    assert code == 2 and "--domain" in err, err


@pytest.mark.parametrize(
    ("person", "words"),
    [
        (intake.PersonIn("Jane\r\nBcc: x@evil.test", "jane@acme.test"), "carriage return"),
        (intake.PersonIn("Jane", "jane@acme.test\r\nBcc: x@evil.test"), "carriage return"),
        (intake.PersonIn("Jane", "jane@acme.test, x@evil.test"), "2 addresses"),
        (intake.PersonIn("Jane\u2028Doe", "jane@acme.test"), "U+2028"),
    ],
)
def test_people_recorded_without_the_flags_are_checked_too(
    person: intake.PersonIn, words: str
) -> None:
    """An invitation's attendees reach `intake.record` without `parse_person`."""
    data = intake.InterviewIn(
        company="Acme", role="R", at=datetime(2026, 11, 20, 10, tzinfo=UTC), interviewers=(person,)
    )
    with pytest.raises(UsageError, match="--interviewer") as err:
        intake.validate(data)
    assert words in str(err.value)


@given(st.text(max_size=60))
def test_parse_person_refuses_or_returns_one_clean_address(text: str) -> None:
    try:
        person = intake.parse_person(text, "--interviewer")
    except UsageError as exc:
        assert str(exc).startswith("--interviewer: ") and "\n" not in str(exc)
        return
    assert person.email.isascii() and person.email.count("@") == 1
    assert fields.line_problem(person.name) is None and fields.line_problem(person.email) is None
    assert "," not in person.email and " " not in person.email


def test_edit_finds_a_person_by_the_address_as_typed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = init_noninteractive(tmp_path, capsys)
    code, _, err = _add(cfg, capsys, "--interviewer", "Jo Brun <someone@Bücher.test>")
    assert code == 0, err
    code, _, err = run(
        capsys, "--config", str(cfg), "edit", "1", "--discussed", "someone@bücher.test=the data"
    )
    assert code == 0, err
