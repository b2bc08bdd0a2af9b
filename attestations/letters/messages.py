"""Dutch and English texts of letters: the redeem pages and the printed letter (registered on
import). Dutch follows the government's B1 guidelines; a deployment changes wording here,
keeping each key and its `{placeholders}`. The printed texts must stay within Latin-1 (the
PDF's standard fonts)."""

from __future__ import annotations

from core import register

register(
    {
        # --- the redeem pages ----------------------------------------------------------------
        "letters.redeem.title": {
            "nl": "Code uit je brief invullen",
            "en": "Enter the code from your letter",
        },
        "letters.redeem.intro": {
            "nl": "Heb je een brief van de gemeente gekregen met een code? Vul de code hier in. "
            "Je krijgt dan een bewijs dat je in je postcodegebied woont. Je adres staat niet in "
            "het bewijs.",
            "en": "Did you get a letter from the municipality with a code? Enter the code here. "
            "You then get a proof that you live in your postcode area. Your address is not in "
            "the proof.",
        },
        "letters.redeem.code": {"nl": "Code (15 tekens)", "en": "Code (15 characters)"},
        "letters.redeem.code_hint": {
            "nl": "Hoofdletters of kleine letters, met of zonder spaties: het maakt niet uit.",
            "en": "Capital or small letters, with or without spaces: it does not matter.",
        },
        "letters.redeem.submit": {"nl": "Code gebruiken", "en": "Use the code"},
        "letters.redeem.once": {
            "nl": "Een code werkt maar 1 keer. Daarna hoort de code bij jouw account.",
            "en": "A code works only once. After that, the code belongs to your account.",
        },
        "letters.offer.title": {"nl": "Je bewijs staat klaar", "en": "Your proof is ready"},
        "letters.offer.intro": {
            "nl": "De code klopt. Je bewijs voor postcodegebied {area} staat klaar. Kies waar je "
            "het wilt bewaren. Doe dit voor {time}.",
            "en": "The code is right. Your proof for postcode area {area} is ready. Choose where "
            "to keep it. Do this before {time}.",
        },
        "letters.offer.kluis": {"nl": "In je Kluis-wallet", "en": "In your Kluis wallet"},
        "letters.offer.kluis_body": {
            "nl": "Heb je geen wallet-app? Dan bewaart Kluis het bewijs voor je.",
            "en": "No wallet app? Then Kluis keeps the proof for you.",
        },
        "letters.offer.app": {"nl": "In je wallet-app", "en": "In your wallet app"},
        "letters.offer.app_body": {
            "nl": "Scan deze QR-code met je wallet-app. De app vraagt om een code: vul dan "
            "{tx_code} in.",
            "en": "Scan this QR code with your wallet app. The app asks for a code: then enter "
            "{tx_code}.",
        },
        "letters.offer.qr_alt": {
            "nl": "QR-code om het bewijs in je wallet-app te zetten",
            "en": "QR code to put the proof into your wallet app",
        },
        "letters.offer.app_link": {
            "nl": "Op deze telefoon? Open het bewijs in je wallet-app",
            "en": "On this phone? Open the proof in your wallet app",
        },
        "letters.throttled": {
            "nl": "Je hebt te vaak een verkeerde code ingevuld. Probeer het over {minutes} "
            "minuten opnieuw.",
            "en": "You entered a wrong code too often. Try again in {minutes} minutes.",
        },
        "letters.error.empty": {
            "nl": "Vul de code uit de brief in.",
            "en": "Enter the code from the letter.",
        },
        "letters.error.malformed": {
            "nl": "Dit is geen code uit een brief. Een code heeft 15 letters en cijfers. De "
            "tekens 0, 1, I, L, O en U komen er niet in voor. Kijk goed en probeer het opnieuw.",
            "en": "This is not a code from a letter. A code has 15 letters and digits. The "
            "characters 0, 1, I, L, O and U are not used. Look carefully and try again.",
        },
        "letters.error.unknown": {
            "nl": "Deze code kennen we niet. Kijk of je de code goed hebt overgenomen en probeer "
            "het opnieuw.",
            "en": "We do not know this code. Check that you copied the code correctly and try "
            "again.",
        },
        "letters.error.expired": {
            "nl": "Deze code is verlopen. Je kunt de code niet meer gebruiken. Neem contact op "
            "met je gemeente als je een nieuwe code nodig hebt.",
            "en": "This code has expired. You can no longer use it. Contact your municipality if "
            "you need a new code.",
        },
        "letters.error.revoked": {
            "nl": "Deze code is ingetrokken. Je kunt de code niet meer gebruiken. Neem contact "
            "op met je gemeente.",
            "en": "This code has been withdrawn. You can no longer use it. Contact your "
            "municipality.",
        },
        "letters.error.taken": {
            "nl": "Deze code is al gebruikt. Een code werkt maar 1 keer. Heb jij de code niet "
            "gebruikt? Neem dan contact op met je gemeente.",
            "en": "This code has already been used. A code works only once. Did you not use the "
            "code yourself? Then contact your municipality.",
        },
        "letters.error.yours": {
            "nl": "Je hebt deze code al gebruikt. Je bewijs staat op je accountpagina of in je "
            "wallet. Kon je het niet ophalen? Vul de code dan na een kwartier opnieuw in.",
            "en": "You already used this code. Your proof is on your account page or in your "
            "wallet. Could you not collect it? Then enter the code again after 15 minutes.",
        },
        "letters.error.one_per_poll": {
            "nl": "Je hebt al een code uit een brief gebruikt voor deze stemming. Met 1 account "
            "kun je maar 1 brief gebruiken.",
            "en": "You already used a code from a letter for this vote. With 1 account you can "
            "use only 1 letter.",
        },
        "letters.error.other_poll": {
            "nl": "Deze code hoort bij een andere stemming.",
            "en": "This code belongs to another vote.",
        },
        "letters.error.voted": {
            "nl": "Met deze code is al gestemd.",
            "en": "This code has already been used to vote.",
        },
        # --- the printed letter (Latin-1 only) ----------------------------------------------
        "letters.print.to": {"nl": "Aan de bewoner(s) van", "en": "To the resident(s) of"},
        "letters.print.title": {"nl": "Je persoonlijke code", "en": "Your personal code"},
        "letters.print.valid": {
            "nl": "Geldig tot en met {date}",
            "en": "Valid until {date} (inclusive)",
        },
        "letters.print.what": {
            "nl": "Met deze code laat je zien dat je in postcodegebied {area} woont. Je hoeft "
            "je adres niet te geven.",
            "en": "With this code you show that you live in postcode area {area}, without "
            "giving your address.",
        },
        "letters.print.poll": {
            "nl": "Je kunt met deze code stemmen in: {poll}.",
            "en": "You can use this code to vote in: {poll}.",
        },
        "letters.print.how": {"nl": "Zo gebruik je de code", "en": "How to use the code"},
        "letters.print.step1": {
            "nl": "1. Scan de QR-code met de camera van je telefoon. Of ga naar {url} en typ "
            "de code over.",
            "en": "1. Scan the QR code with your phone's camera. Or go to {url} and type the code.",
        },
        "letters.print.step2": {
            "nl": "2. Log in bij Kluis. Heb je nog geen account? Maak er dan een.",
            "en": "2. Log in to Kluis. No account yet? Then create one.",
        },
        "letters.print.step3": {
            "nl": "3. Je krijgt een bewijs. Bewaar het in je Kluis-wallet of in je wallet-app.",
            "en": "3. You get a proof. Keep it in your Kluis wallet or in your wallet app.",
        },
        "letters.print.paper": {
            "nl": "Geen smartphone of geen account? Dan kun je ook stemmen met alleen deze "
            "code, op de stempagina van je gemeente.",
            "en": "No smartphone or no account? Then you can also vote with just this code, on "
            "your municipality's voting page.",
        },
        "letters.print.careful": {
            "nl": "Let op: de code werkt maar 1 keer. Geef de code aan niemand anders. Wie de "
            "code heeft, kan namens jou stemmen.",
            "en": "Note: the code works only once. Do not give the code to anyone else. Whoever "
            "has the code can vote in your name.",
        },
    }
)
