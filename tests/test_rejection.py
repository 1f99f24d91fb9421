"""Rejections vs their look-alikes: each phrase set is checked against every look-alike."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent.classify.rejection import rejection_phrase

REJECTIONS = [
    "We have decided to move forward with other candidates whose experience more closely fits.",
    "After careful consideration, we have decided to proceed with another candidate.",
    "Unfortunately we will not be moving forward with your application at this time.",
    "We won't be moving forward with your application.",
    "I wanted to let you know that the position has been filled.",
    "We are unable to offer you the position.",
    "We have decided not to proceed with your application.",
    "Your application was unsuccessful on this occasion.",
    "We've chosen to go with a different candidate for this role.",
    "Thank you for your time; sadly you have not been successful this time.",
    # German
    "Leider haben wir uns für einen anderen Kandidaten entschieden.",
    "Ihre Bewerbung können wir leider nicht weiter berücksichtigen.",
    "Die Stelle ist inzwischen besetzt.",
    # French
    "Nous ne pouvons pas donner une suite favorable à votre candidature.",
    "Votre candidature n'a pas été retenue.",
    "Le poste a déjà été pourvu.",
    # Spanish
    "Hemos decidido continuar el proceso con otros candidatos.",
    "Su candidatura no ha sido seleccionada.",
    # Italian
    "Abbiamo deciso di proseguire con altri candidati.",
    "La posizione è stata già coperta.",
    # Dutch
    "We hebben besloten verder te gaan met andere kandidaten.",
    "De vacature is inmiddels vervuld.",
    # Portuguese
    "Decidimos seguir com outros candidatos.",
    "A vaga já foi preenchida.",
]

LOOK_ALIKES = [
    # delays
    "The decision is taking longer than expected; we hope to update you next week.",
    "We are still interviewing other candidates and will be in touch soon.",
    "Die Entscheidung dauert leider etwas länger.",
    # reschedules
    "Could we reschedule the call to Thursday? We would like to move forward with a second round.",
    "We are unable to offer a time slot this week, could you do Monday instead?",
    "We would like to move forward with your application and invite you to an onsite.",
    # acknowledgements and job alerts
    "Thank you for applying! We have received your application and will review it shortly.",
    "New jobs matching your search: Data Engineer at Globex, Analyst at Initech.",
    "We are pleased to offer you the position of Data Engineer.",
    # weak or ambiguous: an ordinary reply
    "Unfortunately the hiring manager is travelling; we will get back to you.",
    "We will keep your CV on file.",
    "Nothing has been decided yet; the role has not been filled.",
    # a condition, or our own note quoted back
    "If the position has been filled, please let me know.",
    "Thanks, noted.\n\nOn Mon, 14 Dec 2026, Alex wrote:\n> If the position has been filled,"
    " I would still welcome the chance",
    "Thanks!\n> we have decided to move forward with other candidates\n",
]


@pytest.mark.parametrize("text", REJECTIONS)
def test_rejection_wording_is_found(text: str) -> None:
    assert rejection_phrase(text) is not None


@pytest.mark.parametrize("text", LOOK_ALIKES)
def test_look_alikes_are_not_rejections(text: str) -> None:
    assert rejection_phrase(text) is None


@pytest.mark.parametrize("rejection", REJECTIONS)
@pytest.mark.parametrize("look_alike", LOOK_ALIKES[:9])
def test_a_rejection_next_to_a_look_alike_is_still_one(rejection: str, look_alike: str) -> None:
    # A real rejection often thanks for applying or mentions the delay too.
    assert rejection_phrase(f"{look_alike}\n\n{rejection}") is not None


@given(st.text(max_size=400))
def test_any_text_is_read_without_raising(text: str) -> None:
    found = rejection_phrase(text)
    assert found is None or found in " ".join(text.lower().replace("\u2019", "'").split())
