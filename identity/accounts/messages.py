"""Dutch and English texts of the account pages and mails (registered on import)."""

from __future__ import annotations

from core import register

register(
    {
        # fields
        "accounts.field.email": {"nl": "E-mailadres", "en": "E-mail address"},
        "accounts.field.identifier": {
            "nl": "E-mailadres of gebruikersnaam",
            "en": "E-mail address or username",
        },
        "accounts.field.password": {"nl": "Wachtwoord", "en": "Password"},
        "accounts.field.new_password": {"nl": "Nieuw wachtwoord", "en": "New password"},
        "accounts.field.password_hint": {
            "nl": "Minstens 10 tekens. Een zin van een paar woorden is sterk en makkelijk te "
            "onthouden.",
            "en": "At least 10 characters. A sentence of a few words is strong and easy to "
            "remember.",
        },
        "accounts.field.name": {"nl": "Naam (niet verplicht)", "en": "Name (optional)"},
        "accounts.field.name_hint": {
            "nl": "Hoe je genoemd wilt worden. Een platform ziet dit alleen als jij dat toestaat.",
            "en": "What you want to be called. A platform sees this only if you allow it.",
        },
        "accounts.field.code": {"nl": "Activeringscode", "en": "Activation code"},
        "accounts.field.code_hint": {
            "nl": "De code die je bij de balie kreeg, bijvoorbeeld ABCD-EFGH-JKLM.",
            "en": "The code you were given at the desk, for example ABCD-EFGH-JKLM.",
        },
        "accounts.field.email_optional": {
            "nl": "E-mailadres (niet verplicht)",
            "en": "E-mail address (optional)",
        },
        "accounts.field.email_optional_hint": {
            "nl": "Alleen nodig als je bij de balie geen e-mailadres hebt opgegeven. Je krijgt "
            "dan een link om het te bevestigen.",
            "en": "Only needed if you gave no e-mail address at the desk. You will get a link "
            "to confirm it.",
        },
        "accounts.errors.summary": {
            "nl": "Er ging iets mis. Controleer het volgende:",
            "en": "Something went wrong. Please check the following:",
        },
        # login
        "accounts.login.title": {"nl": "Inloggen", "en": "Log in"},
        "accounts.login.submit": {"nl": "Inloggen", "en": "Log in"},
        "accounts.login.forgot": {"nl": "Wachtwoord vergeten?", "en": "Forgot your password?"},
        "accounts.login.register": {
            "nl": "Nog geen account? Maak er een aan.",
            "en": "No account yet? Create one.",
        },
        "accounts.login.activate": {
            "nl": "Een code gekregen bij de balie? Activeer je account.",
            "en": "Got a code at the desk? Activate your account.",
        },
        "accounts.status.logged_out": {"nl": "Je bent uitgelogd.", "en": "You are logged out."},
        "accounts.status.email_verified": {
            "nl": "Je e-mailadres is bevestigd. Je kunt nu inloggen.",
            "en": "Your e-mail address is confirmed. You can log in now.",
        },
        "accounts.status.password_reset": {
            "nl": "Je wachtwoord is gewijzigd. Log in met je nieuwe wachtwoord.",
            "en": "Your password has been changed. Log in with your new password.",
        },
        "accounts.logged_in_as": {
            "nl": "Je bent ingelogd.",
            "en": "You are logged in.",
        },
        "accounts.logout.submit": {"nl": "Uitloggen", "en": "Log out"},
        "accounts.throttled.title": {
            "nl": "Even wachten",
            "en": "Please wait a moment",
        },
        "accounts.throttled.body": {
            "nl": "Er is te vaak een verkeerd wachtwoord ingevuld. Probeer het over {minutes} "
            "minuten opnieuw. Wachtwoord vergeten? Kies dan een nieuw wachtwoord via 'Wachtwoord "
            "vergeten?'.",
            "en": "A wrong password was entered too often. Please try again in {minutes} minutes. "
            "Forgot your password? Then choose a new one through 'Forgot your password?'.",
        },
        # registration and verification
        "accounts.register.title": {"nl": "Account aanmaken", "en": "Create an account"},
        "accounts.register.submit": {"nl": "Account aanmaken", "en": "Create account"},
        "accounts.register.have_account": {
            "nl": "Heb je al een account? Log dan in.",
            "en": "Already have an account? Log in.",
        },
        "accounts.register.sent.title": {"nl": "Kijk in je mailbox", "en": "Check your inbox"},
        "accounts.register.sent.body": {
            "nl": "We hebben een e-mail gestuurd naar het adres dat je opgaf. Klik op de link in "
            "die e-mail om je account te bevestigen. Niets ontvangen? Kijk dan ook in de map met "
            "ongewenste e-mail (spam).",
            "en": "We have sent an e-mail to the address you gave. Click the link in it to "
            "confirm your account. Nothing arrived? Then also look in your spam folder.",
        },
        "accounts.error.password_missing": {
            "nl": "Vul je wachtwoord in.",
            "en": "Type your password.",
        },
        "accounts.error.reconfirm_missing": {
            "nl": "Vul je wachtwoord in. Er is niets gewist.",
            "en": "Type your password. Nothing has been erased.",
        },
        "accounts.error.reconfirm_password": {
            "nl": "Dat wachtwoord klopt niet. Er is niets gewist.",
            "en": "That password is not right. Nothing has been erased.",
        },
        "accounts.error.fresh_login": {
            "nl": "Log eerst opnieuw in en probeer het dan nog een keer. Er is niets gewist.",
            "en": "Please log in again first, then try once more. Nothing has been erased.",
        },
        "accounts.register.resend.title": {"nl": "Niets gekregen?", "en": "Nothing arrived?"},
        "accounts.register.resend.submit": {
            "nl": "Stuur de link opnieuw",
            "en": "Send the link again",
        },
        "accounts.register.resent.body": {
            "nl": "Hoort dit adres bij een account dat nog niet bevestigd is? Dan hebben we een "
            "nieuwe link gestuurd. Kijk ook in de map met ongewenste e-mail (spam).",
            "en": "Does this address belong to an account that is not confirmed yet? Then we have "
            "sent a new link. Also look in your spam folder.",
        },
        "accounts.verify.failed.title": {
            "nl": "Deze link werkt niet",
            "en": "This link does not work",
        },
        "accounts.unverified.title": {
            "nl": "Bevestig eerst je e-mailadres",
            "en": "Please confirm your e-mail address first",
        },
        # forgotten password
        "accounts.forgot.title": {"nl": "Wachtwoord vergeten", "en": "Forgotten password"},
        "accounts.forgot.intro": {
            "nl": "Vul je e-mailadres in. Als er een account bij hoort, sturen we je een link "
            "om een nieuw wachtwoord te kiezen.",
            "en": "Enter your e-mail address. If it belongs to an account, we will send you a "
            "link to choose a new password.",
        },
        "accounts.forgot.submit": {"nl": "Link versturen", "en": "Send link"},
        "accounts.forgot.sent.title": {"nl": "Kijk in je mailbox", "en": "Check your inbox"},
        "accounts.forgot.sent.body": {
            "nl": "Als dit adres bij een account hoort, is er nu een e-mail onderweg met een "
            "link. De link werkt één keer en is 30 minuten geldig.",
            "en": "If this address belongs to an account, an e-mail with a link is on its way. "
            "The link works once and is valid for 30 minutes.",
        },
        "accounts.reset.title": {"nl": "Nieuw wachtwoord kiezen", "en": "Choose a new password"},
        "accounts.reset.intro": {
            "nl": "Als je je wachtwoord wijzigt, logt Kluis je uit op al je apparaten.",
            "en": "When you change your password, Kluis logs you out on all your devices.",
        },
        "accounts.reset.submit": {"nl": "Wachtwoord opslaan", "en": "Save password"},
        "accounts.reset.again": {
            "nl": "Vraag een nieuwe link aan.",
            "en": "Request a new link.",
        },
        # activation
        "accounts.activate.title": {"nl": "Account activeren", "en": "Activate your account"},
        "accounts.activate.intro": {
            "nl": "Vul de code van de balie in en kies een wachtwoord.",
            "en": "Enter the code from the desk and choose a password.",
        },
        "accounts.activate.submit": {"nl": "Activeren", "en": "Activate"},
        "accounts.activate.done.title": {
            "nl": "Je account is actief",
            "en": "Your account is active",
        },
        "accounts.activate.done.body": {
            "nl": "Je gebruikersnaam is {handle}. Log in met je gebruikersnaam en je nieuwe "
            "wachtwoord. Heb je je e-mailadres bevestigd? Dan kun je ook inloggen met je "
            "e-mailadres.",
            "en": "Your username is {handle}. Log in with your username and your new password. "
            "Once you have confirmed your e-mail address, you can also log in with that.",
        },
        # errors
        "accounts.error.generic": {
            "nl": "Dat lukte niet. Probeer het opnieuw.",
            "en": "That did not work. Please try again.",
        },
        "accounts.error.email_invalid": {
            "nl": "Vul een geldig e-mailadres in, zoals naam@voorbeeld.nl.",
            "en": "Enter a valid e-mail address, such as name@example.org.",
        },
        "accounts.error.password_short": {
            "nl": "Kies een wachtwoord van minstens 10 tekens.",
            "en": "Choose a password of at least 10 characters.",
        },
        "accounts.error.password_long": {
            "nl": "Kies een wachtwoord van hoogstens 1024 tekens.",
            "en": "Choose a password of at most 1024 characters.",
        },
        "accounts.error.password_is_email": {
            "nl": "Je wachtwoord mag niet hetzelfde zijn als je e-mailadres.",
            "en": "Your password must not be the same as your e-mail address.",
        },
        "accounts.error.person_has_account": {
            "nl": "Je hebt al een ander account bij Kluis. Iedereen heeft er maar één. Log in "
            "met dat account. Weet je niet meer welk? Vraag het na bij de balie van de gemeente.",
            "en": "You already have another Kluis account. Everyone has just one. Log in with "
            "that account. Do you not know which one it is? Ask at the municipality's desk.",
        },
        "accounts.error.account_of_another_person": {
            "nl": "Dit account hoort bij iemand anders. Log in met je eigen account.",
            "en": "This account belongs to someone else. Log in with your own account.",
        },
        "accounts.error.credentials": {
            "nl": "Het e-mailadres (of de gebruikersnaam) of het wachtwoord klopt niet. "
            "Controleer wat je hebt ingevuld en probeer het opnieuw.",
            "en": "The e-mail address (or username) or the password is not right. Check what you "
            "entered and try again.",
        },
        "accounts.error.email_unverified": {
            "nl": "Je e-mailadres is nog niet bevestigd. Klik op de link in de nieuwste e-mail "
            "die we je stuurden. Log daarna opnieuw in.",
            "en": "Your e-mail address is not confirmed yet. Click the link in the latest e-mail "
            "we sent you. Then log in again.",
        },
        "accounts.error.throttled": {
            "nl": "Te veel mislukte pogingen. Wacht even en probeer het opnieuw.",
            "en": "Too many failed attempts. Please wait and try again.",
        },
        "accounts.error.token": {
            "nl": "Deze link is verlopen, al gebruikt of klopt niet.",
            "en": "This link has expired, was already used or is not right.",
        },
        "accounts.error.activation_code": {
            "nl": "Deze code is verlopen, al gebruikt of klopt niet. Vraag bij de balie een "
            "nieuwe code.",
            "en": "This code has expired, was already used or is not right. Ask the desk for a "
            "new code.",
        },
        # the account page
        "accounts.account.title": {"nl": "Mijn account", "en": "My account"},
        "accounts.account.link": {"nl": "Naar mijn account", "en": "Go to my account"},
        "accounts.account.profile": {"nl": "Je gegevens", "en": "Your details"},
        "accounts.account.handle": {"nl": "Gebruikersnaam", "en": "Username"},
        "accounts.account.name": {"nl": "Naam", "en": "Name"},
        "accounts.account.email_state": {
            "nl": "E-mailadres bevestigd",
            "en": "E-mail address confirmed",
        },
        "accounts.account.email_verified": {"nl": "Ja", "en": "Yes"},
        "accounts.account.email_unverified": {
            "nl": "Nee, nog niet. Klik op de link in de e-mail die we je stuurden.",
            "en": "No, not yet. Follow the link in the e-mail we sent you.",
        },
        "accounts.account.no_email": {
            "nl": "Geen e-mailadres opgegeven",
            "en": "No e-mail address given",
        },
        "accounts.account.offers": {
            "nl": "Bewijzen die voor je klaarstaan",
            "en": "Proofs waiting for you",
        },
        "accounts.account.offers_intro": {
            "nl": "Zo haal je een bewijs op: scan de QR-code met je wallet-app. Vul daarna de "
            "code van 6 cijfers in die je apart kreeg. Die code staat nooit op deze pagina.",
            "en": "To collect a proof, scan the QR code with your wallet app. Then enter the "
            "6-digit code you were given separately. That code is never shown on this page.",
        },
        "accounts.account.no_offers": {
            "nl": "Er staan geen bewijzen voor je klaar.",
            "en": "No proofs are waiting for you.",
        },
        "accounts.account.credentials": {
            "nl": "Bewijzen die je kreeg",
            "en": "Proofs you received",
        },
        "accounts.account.credentials_intro": {
            "nl": "Van deze bewijzen bewaart Kluis alleen wanneer ze zijn uitgegeven en of ze nog "
            "geldig zijn. Wat erin staat, bewaart Kluis niet. Alleen een bewijs in je "
            "Kluis-wallet staat bij Kluis, versleuteld. Je wallet krijgt meerdere exemplaren van "
            "elk bewijs. Zo kunnen platforms je niet volgen.",
            "en": "For these proofs, Kluis keeps only when they were issued and whether they are "
            "still valid. Kluis does not keep what they say. Only a proof in your Kluis wallet is "
            "stored at Kluis, encrypted. Your wallet gets several copies of each proof, so that "
            "platforms cannot track you.",
        },
        "accounts.account.no_credentials": {
            "nl": "Je hebt nog geen bewijzen gekregen.",
            "en": "You have not received any proofs yet.",
        },
        "accounts.account.col.type": {"nl": "Soort bewijs", "en": "Type of proof"},
        "accounts.account.col.offered": {"nl": "Klaargezet op", "en": "Offered on"},
        "accounts.account.col.collect_before": {
            "nl": "Op te halen tot",
            "en": "Collect before",
        },
        "accounts.account.col.state": {"nl": "Status", "en": "Status"},
        "accounts.account.col.issued": {"nl": "Uitgegeven op", "en": "Issued on"},
        "accounts.account.col.valid_until": {"nl": "Geldig tot", "en": "Valid until"},
        "accounts.account.col.copies": {"nl": "Exemplaren", "en": "Copies"},
        "accounts.account.offer.open": {"nl": "Klaar om op te halen", "en": "Ready to collect"},
        "accounts.account.offer.used": {"nl": "Opgehaald", "en": "Collected"},
        "accounts.account.offer.expired": {"nl": "Verlopen", "en": "Expired"},
        "accounts.account.offer.blocked": {
            "nl": "Geblokkeerd: te vaak een verkeerde code ingevuld",
            "en": "Blocked: a wrong code was entered too often",
        },
        "accounts.account.credential.valid": {"nl": "Geldig", "en": "Valid"},
        "accounts.account.credential.revoked": {"nl": "Ingetrokken", "en": "Revoked"},
        "accounts.account.credential.partly_revoked": {
            "nl": "{revoked} van de {copies} ingetrokken",
            "en": "{revoked} of {copies} revoked",
        },
        "accounts.account.credential.expired": {"nl": "Verlopen", "en": "Expired"},
        # mails
        "accounts.mail.signature": {
            "nl": "Met vriendelijke groet,\nKluis",
            "en": "Kind regards,\nKluis",
        },
        "accounts.mail.verify.subject": {
            "nl": "Bevestig je e-mailadres",
            "en": "Confirm your e-mail address",
        },
        "accounts.mail.verify.body": {
            "nl": "Hallo,\n\nBevestig je e-mailadres via deze link:\n\n{link}\n\nDe link is twee "
            "dagen geldig. Heb je geen account aangemaakt? Dan kun je deze e-mail negeren.",
            "en": "Hello,\n\nPlease confirm your e-mail address with this link:\n\n{link}\n\nThe "
            "link is valid for two days. Did you not create an account? Then you can ignore this "
            "e-mail.",
        },
        "accounts.mail.already_registered.subject": {
            "nl": "Iemand probeerde een account aan te maken met jouw adres",
            "en": "Someone tried to create an account with your address",
        },
        "accounts.mail.already_registered.body": {
            "nl": "Hallo,\n\nIemand probeerde een nieuw account aan te maken met dit e-mailadres. "
            "Maar er hoort al een account bij. Was jij dat? Log dan in:\n\n{login}\n\nWachtwoord "
            "vergeten? Kies een nieuw wachtwoord:\n\n{reset}\n\nWas jij het niet? Dan hoef je "
            "niets te doen. Er is niets veranderd.",
            "en": "Hello,\n\nSomeone tried to create a new account with this e-mail address. But "
            "it already has an account. Was it you? Then log in:\n\n{login}\n\nForgot your "
            "password? Choose a new one:\n\n{reset}\n\nWas it not you? Then you do not need to do "
            "anything. Nothing has changed.",
        },
        "accounts.mail.reset.subject": {
            "nl": "Kies een nieuw wachtwoord",
            "en": "Choose a new password",
        },
        "accounts.mail.reset.body": {
            "nl": "Hallo,\n\nKies een nieuw wachtwoord via deze link:\n\n{link}\n\nDe link werkt "
            "één keer en is {minutes} minuten geldig. Heb je dit niet gevraagd? Dan kun je deze "
            "e-mail negeren. Je wachtwoord blijft dan hetzelfde.",
            "en": "Hello,\n\nChoose a new password with this link:\n\n{link}\n\nThe link works "
            "once and is valid for {minutes} minutes. Did you not ask for this? Then you can "
            "ignore this e-mail. Your password then stays the same.",
        },
    }
)
