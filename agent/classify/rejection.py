"""Is a message from the company a rejection? Pure: text in, the phrase found (or None) out.

Only clear, final wording counts: "we have decided to move forward with other
candidates", "the position has been filled". A delay, a reschedule, "unable to
offer a time slot", an acknowledgement or a job alert is no rejection, and a
weak phrase ("unfortunately", "we'll keep your CV on file") on its own is not
one either: the message is then an ordinary reply (`responded`), never
`rejected`. Text the sender quoted (our own note, "If the position has been
filled...") is cut off first, and a phrase under "if"/"whether" does not count.
"""

from __future__ import annotations

import re

# English and the main European languages (de, fr, es, it, nl, pt). Each
# pattern needs the object of the decision (candidates, application,
# position), which is what separates it from scheduling and delay mail.
_PHRASES = (
    # English
    r"(?:decided|chosen|elected|opted) to (?:move forward|proceed|continue|go ahead|progress)"
    r" with (?:an?other|other|different|the other|a different)\b[^.]{0,40}?"
    r"(?:candidate|applicant|profile)",
    r"(?:decided|chosen) to (?:pursue|offer the (?:role|position|job) to|go with|hire)"
    r" (?:an?other|other|a different|different)\b",
    r"(?:will|would|won't|are) not (?:be )?(?:moving|move|going|proceeding|proceed|progressing)"
    r" (?:forward |ahead |further )?with your (?:application|candidacy|candidature)",
    r"won't be (?:moving|going) (?:forward|ahead) with your (?:application|candidacy)",
    r"(?:decided|chosen) not to (?:move forward|proceed|progress|continue)"
    r" with your (?:application|candidacy|candidature)",
    r"(?:position|role|job|vacancy|opening) (?:has|have) (?:now |already )?been filled",
    r"(?:unable|not able) to offer you (?:the|this|a) (?:position|role|job)",
    r"(?:unable|not able|not in a position) to offer you employment",
    r"(?:your|the) application (?:was|has been|is) (?:not )?unsuccessful",
    r"not been successful (?:on|in|with|this time)",
    r"(?:will|would) not be (?:offering|extending) you (?:an|the) (?:offer|position|role)",
    # German
    r"(?:uns )?f(?:ü|ue)r (?:eine[nr]? )?(?:andere[nr]?|anderweitige[nr]?)"
    r" (?:kandidat|bewerber|person)",
    r"bewerbung[^.]{0,40}? nicht (?:weiter |mehr |l(?:ä|ae)nger )?(?:ber(?:ü|ue)cksichtig|verfolg)",
    r"stelle (?:ist |wurde )?(?:bereits |inzwischen )?(?:besetzt|vergeben)",
    # French
    r"ne (?:pas |plus )?(?:pouvons |pourrons )?(?:pas )?donner (?:une )?suite (?:favorable )?"
    r"(?:à|a) votre candidature",
    r"votre candidature n'a pas (?:été|ete) retenue",
    r"ne pas retenir votre candidature",
    r"(?:le )?poste (?:a|est) (?:déjà |deja )?(?:été |ete )?pourvu",
    r"(?:poursuivre|continuer) (?:le processus )?avec d'autres candidat",
    # Spanish
    r"(?:continuar|seguir|avanzar) (?:el proceso )?con otros? (?:candidat|perfil)",
    r"(?:su|tu) candidatura no (?:ha sido|fue) seleccionada",
    r"(?:el )?puesto (?:ya )?(?:ha sido|fue) cubierto",
    r"no (?:seguir|continuar|avanzar) (?:adelante )?con (?:su|tu) candidatura",
    # Italian
    r"(?:proseguire|procedere|continuare) con altri candidat",
    r"(?:la )?(?:posizione|ruolo) (?:è|e') stat[oa] (?:già )?(?:coperta|coperto|assegnat)",
    r"(?:la sua|la tua) candidatura non (?:è|e') stata selezionata",
    # Dutch
    r"(?:verder|door) (?:te )?gaan met (?:een )?andere kandida",
    r"(?:de )?vacature is (?:inmiddels |al )?(?:vervuld|ingevuld)",
    r"(?:je|uw) sollicitatie (?:niet|helaas niet) (?:verder )?in behandeling",
    # Portuguese
    r"(?:seguir|prosseguir|avançar|continuar) com outros? (?:candidat|perfi)",
    r"(?:a )?vaga (?:já )?foi preenchida",
    r"(?:sua|tua) candidatura n[ãa]o foi selecionada",
)
_REJECTION = re.compile("|".join(f"(?:{p})" for p in _PHRASES))

# A condition just before the phrase ("if the position has been filled").
_CONDITION = re.compile(
    r"(?:\bif|\bwhether|\bin case|\bunless|\bwenn|\bfalls|\bob|\bsi|\bse|\bals|\bcaso)\W+"
    r"(?:\w+\W+){0,4}$"
)
# Where the sender's own text ends: the quoted message begins.
_QUOTE_START = re.compile(
    r"^(?:on .{0,200}wrote:|am .{0,200}schrieb .{0,100}:|le .{0,200}a écrit\s*:"
    r"|el .{0,200}escribió:|-{2,}\s*original message\s*-{2,}|from:\s.*|von:\s.*|de\s?:\s.*)\s*$",
    re.MULTILINE,
)


def _own_text(text: str) -> str:
    """The sender's text: quoted lines dropped, everything from the quoted message cut."""
    lines = [ln for ln in text.splitlines() if not ln.lstrip().startswith(">")]
    own = "\n".join(lines).lower().replace("\u2019", "'").replace("\u00a0", " ")
    cut = _QUOTE_START.search(own)
    return own[: cut.start()] if cut else own


def rejection_phrase(text: str) -> str | None:
    """The rejection wording in the sender's own text, or None when it is no clear rejection."""
    own = re.sub(r"\s+", " ", _own_text(text))
    for found in _REJECTION.finditer(own):
        before = own[max(0, found.start() - 60) : found.start()]
        if _CONDITION.search(before):
            continue
        # Whole words: "other candidate" → "other candidates".
        tail = re.match(r"\w*", own[found.end() :])
        return found.group(0) + (tail.group(0) if tail else "")
    return None
