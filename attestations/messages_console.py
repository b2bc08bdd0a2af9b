"""Dutch and English texts of the operator console's accounts and attestations pages
(registered on import). The words follow `kluis accounts` and `kluis attestations`, and the
desk's pages (attestations.messages_desk) for what a resident is handed on paper."""

from __future__ import annotations

from core import register

register(
    {
        "console.accounts.title": {"nl": "Accounts", "en": "Accounts"},
        "console.accounts.find": {"nl": "Een account zoeken", "en": "Find an account"},
        "console.accounts.find_intro": {
            "nl": "Kluis toont geen lijst van alle bewoners. Typ het e-mailadres, de "
            "gebruikersnaam (bewoner-…) of het account-id precies zoals het is.",
            "en": "Kluis shows no list of all residents. Type the e-mail address, the username "
            "(bewoner-…) or the account id exactly as it is.",
        },
        "console.accounts.identifier": {
            "nl": "E-mailadres, gebruikersnaam of account-id",
            "en": "E-mail address, username or account id",
        },
        "console.accounts.find_submit": {"nl": "Zoeken", "en": "Find"},
        "console.accounts.error.identifier": {
            "nl": "Vul een e-mailadres, gebruikersnaam of account-id in.",
            "en": "Fill in an e-mail address, username or account id.",
        },
        "console.accounts.error.not_found": {
            "nl": "Er is geen account met precies dit e-mailadres, deze gebruikersnaam of dit "
            "id. Kijk het na.",
            "en": "There is no account with exactly this e-mail address, username or id. Check it.",
        },
        "console.accounts.desk": {
            "nl": "Account voor iemand zonder e-mailadres",
            "en": "Account for someone without an e-mail address",
        },
        "console.accounts.desk_intro": {
            "nl": "De bewoner krijgt een activeringscode op papier en kiest daarmee zelf een "
            "wachtwoord. De naam wordt versleuteld bewaard en verder nergens getoond.",
            "en": "The resident gets an activation code on paper and chooses a password with "
            "it. The name is stored encrypted and not shown anywhere else.",
        },
        "console.accounts.name": {"nl": "Naam van de bewoner", "en": "The resident's name"},
        "console.accounts.desk_submit": {"nl": "Account maken", "en": "Create the account"},
        "console.accounts.error.name": {
            "nl": "Vul de naam van de bewoner in.",
            "en": "Fill in the resident's name.",
        },
        "console.accounts.created": {"nl": "Account gemaakt", "en": "Account created"},
        "console.accounts.open": {"nl": "Dit account openen", "en": "Open this account"},
        "console.accounts.back": {"nl": "Terug naar het account", "en": "Back to the account"},
        "console.accounts.another": {
            "nl": "Een ander account zoeken",
            "en": "Find another account",
        },
        "console.account.id": {"nl": "Account-id", "en": "Account id"},
        "console.account.handle": {"nl": "Gebruikersnaam", "en": "Username"},
        "console.account.status": {"nl": "Stand", "en": "State"},
        "console.account.status.active": {"nl": "actief", "en": "active"},
        "console.account.status.pending_activation": {
            "nl": "wacht op activering (balie-account)",
            "en": "waiting for activation (desk account)",
        },
        "console.account.status.disabled": {"nl": "uitgeschakeld", "en": "disabled"},
        "console.account.email": {"nl": "E-mailadres", "en": "E-mail address"},
        "console.account.password": {"nl": "Wachtwoord", "en": "Password"},
        "console.account.yes": {"nl": "ja", "en": "yes"},
        "console.account.no": {"nl": "nee", "en": "no"},
        "console.account.no_email": {
            "nl": "nee (balie-account)",
            "en": "no (desk account)",
        },
        "console.account.roles": {"nl": "Rollen", "en": "Roles"},
        "console.account.no_roles": {"nl": "geen", "en": "none"},
        "console.account.created": {"nl": "Aangemaakt", "en": "Created"},
        "console.role.steward": {"nl": "data-steward", "en": "data steward"},
        "console.role.operator": {"nl": "beheerder", "en": "console operator"},
        "console.role.desk": {"nl": "baliemedewerker", "en": "desk operator"},
        "console.account.roles_edit": {"nl": "Rollen wijzigen", "en": "Change the roles"},
        "console.account.disable": {"nl": "Account uitschakelen", "en": "Disable the account"},
        "console.account.enable": {"nl": "Account weer aanzetten", "en": "Re-enable the account"},
        "console.account.done.disabled": {
            "nl": "Het account is uitgeschakeld; de sessies en toegang van platforms zijn "
            "beëindigd.",
            "en": "The account is disabled; its sessions and the platforms' access have ended.",
        },
        "console.account.done.enabled": {
            "nl": "Het account staat weer aan.",
            "en": "The account is enabled again.",
        },
        "console.account.done.roles": {
            "nl": "De rollen zijn bijgewerkt.",
            "en": "The roles are updated.",
        },
        "console.account.done.revoked": {
            "nl": "Het bewijs is ingetrokken. Platforms zien dat via de statuslijst.",
            "en": "The attestation is revoked. Platforms see this through the status list.",
        },
        "console.confirm.account": {"nl": "Account {handle}", "en": "Account {handle}"},
        "console.disable.title": {"nl": "Account uitschakelen", "en": "Disable the account"},
        "console.disable.what": {
            "nl": "De bewoner kan niet meer inloggen. Alle sessies eindigen meteen, platforms "
            "krijgen een uitlogbericht en hun toegang (ook langlopende) vervalt. Bewijzen "
            "blijven geldig tot je ze op de pagina van het account intrekt. Je kunt het account "
            "later weer aanzetten.",
            "en": "The resident can no longer log in. Every session ends at once, platforms get "
            "a logout message and their access (long-lived too) ends. Proofs stay valid until "
            "you revoke them on the account's page. You can re-enable the account later.",
        },
        "console.disable.submit": {"nl": "Uitschakelen", "en": "Disable"},
        "console.enable.title": {"nl": "Account weer aanzetten", "en": "Re-enable the account"},
        "console.enable.what": {
            "nl": "De bewoner kan weer inloggen. Platforms moeten opnieuw toestemming vragen.",
            "en": "The resident can log in again. Platforms have to ask for consent again.",
        },
        "console.enable.submit": {"nl": "Weer aanzetten", "en": "Re-enable"},
        "console.roles.title": {"nl": "Rollen wijzigen", "en": "Change the roles"},
        "console.roles.what": {
            "nl": "Een rol werkt meteen, en intrekken beëindigt de toegang meteen, ook in een "
            "browser die nog is ingelogd.",
            "en": "A role works at once, and revoking it ends access at once, also in a browser "
            "that is still logged in.",
        },
        "console.roles.legend": {"nl": "Rollen van dit account", "en": "Roles of this account"},
        "console.roles.steward_hint": {
            "nl": "leest het auditlogboek en de overzichten van toestemming en verwijdering",
            "en": "reads the audit log and the consent and erasure overviews",
        },
        "console.roles.operator_hint": {
            "nl": "gebruikt deze beheeromgeving",
            "en": "uses this operator console",
        },
        "console.roles.desk_hint": {
            "nl": "geeft aan de balie bewijzen uit na controle van een identiteitsbewijs",
            "en": "issues proofs at the desk after checking an identity document",
        },
        "console.roles.submit": {"nl": "Rollen opslaan", "en": "Save the roles"},
        "console.accounts.error.self": {
            "nl": "Je kunt je eigen account niet uitschakelen en je eigen beheerdersrol niet "
            "intrekken. Vraag een andere beheerder.",
            "en": "You cannot disable your own account or revoke your own operator role. Ask "
            "another operator.",
        },
        "console.attestations.title": {"nl": "Bewijzen", "en": "Attestations"},
        "console.attestations.none": {
            "nl": "Dit account heeft nog geen bewijzen gekregen.",
            "en": "This account has not been issued any attestations yet.",
        },
        "console.attestations.kept": {
            "nl": "Kluis bewaart alleen de soort en de stand van een bewijs, niet wat erin staat.",
            "en": "Kluis keeps only an attestation's type and state, not what it says.",
        },
        "console.attestations.type": {"nl": "Soort", "en": "Type"},
        "console.attestations.state": {"nl": "Stand", "en": "State"},
        "console.attestations.state.valid": {"nl": "geldig", "en": "valid"},
        "console.attestations.state.revoked": {"nl": "ingetrokken", "en": "revoked"},
        "console.attestations.state.expired": {"nl": "verlopen", "en": "expired"},
        "console.attestations.issued": {"nl": "Uitgegeven", "en": "Issued"},
        "console.attestations.until": {"nl": "Geldig tot", "en": "Valid until"},
        "console.attestations.revoke": {"nl": "Intrekken", "en": "Revoke"},
        "console.offers.title": {
            "nl": "Klaargezet, nog niet opgehaald",
            "en": "Offered, not collected yet",
        },
        "console.offers.line": {"nl": "{type}, klaar tot", "en": "{type}, waiting until"},
        "console.attestations.offer": {"nl": "Bewijs aanbieden", "en": "Offer an attestation"},
        "console.revoke.title": {"nl": "Bewijs intrekken", "en": "Revoke the attestation"},
        "console.revoke.what": {
            "nl": "Het bewijs wordt ongeldig: platforms die het controleren zien dat via de "
            "statuslijst. Dit kan niet ongedaan worden gemaakt.",
            "en": "The attestation becomes invalid: platforms that check it see this through "
            "the status list. This cannot be undone.",
        },
        "console.revoke.which": {"nl": "Bewijs: {type}", "en": "Attestation: {type}"},
        "console.revoke.submit": {"nl": "Intrekken", "en": "Revoke"},
        "console.offer.title": {"nl": "Bewijs aanbieden", "en": "Offer an attestation"},
        "console.offer.intro": {
            "nl": "Kluis zet het bewijs klaar voor de wallet van de bewoner (een QR-code en een "
            "code om te typen). Alleen de gegevens van de gekozen soort worden gebruikt.",
            "en": "Kluis prepares the attestation for the resident's wallet (a QR code and a "
            "code to type). Only the fields of the chosen type are used.",
        },
        "console.offer.type": {"nl": "Soort bewijs", "en": "Type of attestation"},
        "console.offer.postcode": {"nl": "Postcode", "en": "Postcode"},
        "console.offer.postcode_hint": {
            "nl": "Bijvoorbeeld 1087 AB.",
            "en": "For example 1087 AB.",
        },
        "console.offer.municipality_code": {
            "nl": "Gemeentecode (CBS)",
            "en": "Municipality code (CBS)",
        },
        "console.offer.municipality_code_hint": {
            "nl": "GM en vier cijfers, bijvoorbeeld GM0363.",
            "en": "GM and four digits, for example GM0363.",
        },
        "console.offer.municipality_name": {"nl": "Gemeentenaam", "en": "Municipality name"},
        "console.offer.residence_source": {"nl": "Vastgesteld via", "en": "Established through"},
        "console.offer.source.registry": {"nl": "basisregistratie (BRP)", "en": "registry (BRP)"},
        "console.offer.source.letter": {"nl": "brief met code", "en": "letter with a code"},
        "console.offer.source.desk": {"nl": "balie", "en": "desk"},
        "console.offer.source.peer": {"nl": "andere bewoners", "en": "other residents"},
        "console.offer.birth_date": {"nl": "Geboortedatum", "en": "Date of birth"},
        "console.offer.birth_date_hint": {
            "nl": "Wordt niet bewaard: het bewijs zegt alleen of iemand 12, 16, 18, 21 of 65 of "
            "ouder is.",
            "en": "Not kept: the attestation says only whether someone is 12, 16, 18, 21 or 65 "
            "or older.",
        },
        "console.offer.verification": {"nl": "Vastgesteld door", "en": "Verified by"},
        "console.offer.submit": {"nl": "Bewijs aanbieden", "en": "Offer the attestation"},
        "console.offer.error.type": {"nl": "Kies een soort bewijs.", "en": "Choose a type."},
        "console.offer.error.required": {"nl": "Vul dit in.", "en": "Fill this in."},
        "console.offer.error.choose": {"nl": "Kies een van de mogelijkheden.", "en": "Choose one."},
        "console.offer.error.postcode": {
            "nl": "Dit is geen postcode: vier cijfers (niet beginnend met 0) en twee letters, "
            "bijvoorbeeld 1087 AB.",
            "en": "This is not a postcode: four digits (not starting with 0) and two letters, "
            "for example 1087 AB.",
        },
        "console.offer.error.municipality_code": {
            "nl": "Dit is geen gemeentecode: GM en vier cijfers, bijvoorbeeld GM0363.",
            "en": "This is not a municipality code: GM and four digits, for example GM0363.",
        },
        "console.offer.error.municipality_name": {
            "nl": "Een gemeentenaam heeft hoogstens 100 tekens.",
            "en": "A municipality name has at most 100 characters.",
        },
        "console.offer.error.age": {
            "nl": "Deze geboortedatum klopt niet (JJJJ-MM-DD, niet in de toekomst).",
            "en": "This date of birth is not right (YYYY-MM-DD, not in the future).",
        },
        "console.offer.error.claims": {
            "nl": "Dit bewijs kan met deze gegevens niet worden uitgegeven. Kijk ze na.",
            "en": "This attestation cannot be issued with these details. Check them.",
        },
        "console.offer.error.disabled": {
            "nl": "Dit account is uitgeschakeld en krijgt geen bewijzen.",
            "en": "This account is disabled and gets no attestations.",
        },
        "console.offered.title": {"nl": "Bewijs klaargezet", "en": "Attestation offered"},
        "console.offered.body": {
            "nl": "Er staat een {type} klaar voor {handle}. De QR-code en de code staan alleen "
            "nu op het scherm.",
            "en": "A {type} is waiting for {handle}. The QR code and the code are shown only now.",
        },
        "console.offered.uri": {"nl": "Aanbod (voor de wallet)", "en": "Offer (for the wallet)"},
    }
)
