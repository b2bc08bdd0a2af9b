"""Dutch and English texts of the desk's pages (registered on import)."""

from __future__ import annotations

from core import register

register(
    {
        "desk.title": {"nl": "Balie", "en": "Desk"},
        "desk.intro": {
            "nl": "Controleer eerst een identiteitsbewijs van de bewoner, in persoon. Geef daarna "
            "een bewijs uit, of maak een account voor iemand zonder e-mailadres. Kluis bewaart "
            "niet welk document je zag, alleen dat je het controleerde.",
            "en": "First check the resident's identity document, in person. Then issue a proof, "
            "or create an account for someone without an e-mail address. Kluis does not keep "
            "which document you saw, only that you checked it.",
        },
        "desk.resident": {
            "nl": "E-mailadres of gebruikersnaam van de bewoner",
            "en": "The resident's e-mail address or username",
        },
        "desk.resident_hint": {
            "nl": "De bewoner ziet de gebruikersnaam op de eigen accountpagina.",
            "en": "Residents see their username on their account page.",
        },
        "desk.document_checked": {
            "nl": "Ik heb een identiteitsbewijs van deze bewoner gecontroleerd, in persoon.",
            "en": "I checked this resident's identity document, in person.",
        },
        "desk.postcode.heading": {"nl": "Woonplaatsbewijs", "en": "Proof of residence"},
        "desk.postcode.postcode": {"nl": "Postcode", "en": "Postcode"},
        "desk.postcode.postcode_hint": {
            "nl": "Zoals op het identiteitsbewijs of een brief van de gemeente, bijvoorbeeld "
            "1087 AB.",
            "en": "As on the identity document or a letter from the municipality, for example "
            "1087 AB.",
        },
        "desk.postcode.house_number": {
            "nl": "Huisnummer (mag leeg blijven)",
            "en": "House number (may be left empty)",
        },
        "desk.postcode.house_number_hint": {
            "nl": "Alleen nodig als buren deze bewoner bevestigen als echt persoon: buren op "
            "hetzelfde adres tellen dan samen één keer. Kluis bewaart het huisnummer niet en zet "
            "het niet in het bewijs.",
            "en": "Only needed when the resident asks neighbours to confirm they are real: "
            "neighbours at the same address then count once together. Kluis does not keep the "
            "house number and does not put it in the proof.",
        },
        "desk.postcode.house_addition": {
            "nl": "Huisletter of toevoeging (mag leeg blijven)",
            "en": "House letter or addition (may be left empty)",
        },
        "desk.postcode.house_addition_hint": {
            "nl": "Zoals op het document, bijvoorbeeld A of 3.",
            "en": "As on the document, for example A or 3.",
        },
        "desk.postcode.municipality_code": {"nl": "Gemeentecode", "en": "Municipality code"},
        "desk.postcode.municipality_code_hint": {
            "nl": "De CBS-code, bijvoorbeeld GM0363 voor Amsterdam.",
            "en": "The CBS code, for example GM0363 for Amsterdam.",
        },
        "desk.postcode.municipality_name": {"nl": "Gemeente", "en": "Municipality"},
        "desk.age.heading": {"nl": "Leeftijdsbewijs", "en": "Proof of age"},
        "desk.age.birth_date": {"nl": "Geboortedatum", "en": "Date of birth"},
        "desk.age.birth_date_hint": {
            "nl": "Kluis bewaart de datum niet. Het bewijs zegt alleen of iemand 12, 16, 18, 21 "
            "of 65 jaar of ouder is.",
            "en": "Kluis does not keep the date. The proof only says whether someone is 12, 16, "
            "18, 21 or 65 or older.",
        },
        "desk.real_person.heading": {"nl": "Echt persoon", "en": "Real person"},
        "desk.offer.submit": {"nl": "Bewijs uitgeven", "en": "Issue the proof"},
        "desk.account.heading": {
            "nl": "Account voor iemand zonder e-mailadres",
            "en": "Account for someone without an e-mail address",
        },
        "desk.account.intro": {
            "nl": "De bewoner krijgt een activeringscode op papier. Daarmee kiest de bewoner "
            "zelf een wachtwoord op de pagina Activeren.",
            "en": "The resident gets an activation code on paper. With it, the resident chooses "
            "a password on the Activate page.",
        },
        "desk.account.name": {"nl": "Naam van de bewoner", "en": "The resident's name"},
        "desk.account.submit": {"nl": "Account maken", "en": "Create the account"},
        "desk.offered.title": {"nl": "Bewijs klaargezet", "en": "Proof ready"},
        "desk.offered.body": {
            "nl": "Het bewijs '{type}' staat klaar voor {handle}.",
            "en": "The proof '{type}' is ready for {handle}.",
        },
        "desk.offered.app": {"nl": "Met een wallet-app", "en": "With a wallet app"},
        "desk.offered.scan": {
            "nl": "Laat de bewoner deze QR-code scannen met de wallet-app en daarna de code typen.",
            "en": "Let the resident scan this QR code with the wallet app and then type the code.",
        },
        "desk.offered.kluis": {"nl": "Met de Kluis-wallet", "en": "With the Kluis wallet"},
        "desk.offered.kluis_body": {
            "nl": "Of: de bewoner logt in bij Kluis, gaat naar Mijn account en typt de code bij "
            "het bewijs dat klaarstaat.",
            "en": "Or: the resident logs in to Kluis, goes to My account and types the code next "
            "to the proof that is waiting.",
        },
        "desk.offered.expires": {
            "nl": "Het bewijs staat klaar tot {when}.",
            "en": "The proof waits until {when}.",
        },
        "desk.created.title": {"nl": "Account gemaakt", "en": "Account created"},
        "desk.created.body": {
            "nl": "Geef de bewoner deze gegevens op papier.",
            "en": "Give the resident these details on paper.",
        },
        "desk.created.code": {"nl": "Activeringscode", "en": "Activation code"},
        "desk.created.until": {"nl": "Geldig tot", "en": "Valid until"},
        "desk.created.next": {
            "nl": "De bewoner gaat naar de pagina Activeren ({url}), typt de code en kiest een "
            "wachtwoord. Daarna logt de bewoner in met de gebruikersnaam en dat wachtwoord.",
            "en": "The resident goes to the Activate page ({url}), types the code and chooses a "
            "password. Then the resident logs in with the username and that password.",
        },
        "desk.back": {"nl": "Terug naar de balie", "en": "Back to the desk"},
        "desk.error.document": {
            "nl": "Vink aan dat je het identiteitsbewijs hebt gecontroleerd. Zonder controle "
            "geeft Kluis geen bewijs uit.",
            "en": "Tick that you checked the identity document. Without a check Kluis issues "
            "no proof.",
        },
        "desk.error.type": {"nl": "Kies een soort bewijs.", "en": "Choose a kind of proof."},
        "desk.error.house_number": {
            "nl": "Vul een huisnummer van 1 tot 99999 in, met een huisletter of toevoeging van "
            "hoogstens 6 letters en cijfers. Of laat beide leeg.",
            "en": "Enter a house number from 1 to 99999, with a house letter or addition of at "
            "most 6 letters and digits. Or leave both empty.",
        },
        "desk.title_error": {
            "nl": "Balie: controleer het formulier",
            "en": "Desk: check the form",
        },
        "desk.error.resident_empty": {
            "nl": "Vul het e-mailadres of de gebruikersnaam van de bewoner in.",
            "en": "Enter the resident's e-mail address or username.",
        },
        "desk.error.resident": {
            "nl": "Er is geen account met dit e-mailadres of deze gebruikersnaam. Kijk het na.",
            "en": "There is no account with this e-mail address or username. Check it.",
        },
        "desk.error.claims.postcode": {
            "nl": "Vul een Nederlandse postcode in (1087 AB), een CBS-gemeentecode (GM0363) en "
            "de naam van de gemeente.",
            "en": "Enter a Dutch postcode (1087 AB), a CBS municipality code (GM0363) and the "
            "municipality's name.",
        },
        "desk.error.claims.age": {
            "nl": "Vul een geboortedatum in die niet in de toekomst ligt.",
            "en": "Enter a date of birth that is not in the future.",
        },
        "desk.error.claims.real_person": {
            "nl": "Dit bewijs kon niet worden gemaakt.",
            "en": "This proof could not be made.",
        },
        "desk.error.name": {
            "nl": "Vul de naam van de bewoner in.",
            "en": "Enter the resident's name.",
        },
    }
)
