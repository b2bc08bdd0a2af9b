"""Dutch and English texts of the operator console (registered on import). The words follow
`kluis clients` (client id, redirect URI, secret), so the CLI and the console say the same."""

from __future__ import annotations

from core import register

register(
    {
        "console.title": {"nl": "Beheer", "en": "Operator console"},
        "console.nav.platforms": {"nl": "Platforms", "en": "Platforms"},
        "console.nav.accounts": {"nl": "Accounts", "en": "Accounts"},
        "console.nav.outbox": {"nl": "Berichten aan platforms", "en": "Outbox"},
        "console.nav.erasure": {"nl": "Verwijderverzoeken", "en": "Erasure requests"},
        "console.back": {"nl": "Terug naar de platforms", "en": "Back to the platforms"},
        "console.cancel": {"nl": "Annuleren", "en": "Cancel"},
        "console.error.password": {
            "nl": "Dit wachtwoord klopt niet.",
            "en": "This password is not right.",
        },
        "console.error.fresh_login": {
            "nl": "Log opnieuw in en probeer het daarna nog eens.",
            "en": "Log in again, then try once more.",
        },
        "console.platforms.title": {"nl": "Platforms", "en": "Platforms"},
        "console.platforms.none": {
            "nl": "Er zijn nog geen platforms aangesloten.",
            "en": "No platforms are connected yet.",
        },
        "console.platforms.removed": {
            "nl": "Het platform is verwijderd, met alles wat het van Kluis had gekregen.",
            "en": "The platform has been removed, with everything Kluis had issued to it.",
        },
        "console.platforms.by_hand": {
            "nl": "geen: verwijderverzoeken met de hand doorgeven",
            "en": "none: erasure requests are passed on by hand",
        },
        "console.col.name": {"nl": "Naam", "en": "Name"},
        "console.col.client_id": {"nl": "Client-id", "en": "Client ID"},
        "console.col.secret": {"nl": "Client-geheim", "en": "Client secret"},
        "console.col.redirect_uris": {"nl": "Redirect-URI's", "en": "Redirect URIs"},
        "console.col.logout_uris": {
            "nl": "Adressen na uitloggen",
            "en": "Post-logout redirect URIs",
        },
        "console.col.auth_method": {"nl": "Authenticatie", "en": "Auth method"},
        "console.col.events": {
            "nl": "Gebeurtenissen en back-channel",
            "en": "Events and back-channel",
        },
        "console.col.events_uri": {"nl": "Adres voor gebeurtenissen", "en": "Events URI"},
        "console.col.backchannel": {
            "nl": "Back-channel-uitlogadres",
            "en": "Back-channel logout URI",
        },
        "console.col.scope": {"nl": "Scopes", "en": "Scopes"},
        "console.col.subject_type": {"nl": "Soort sub", "en": "Subject type"},
        "console.col.created": {"nl": "Aangemaakt", "en": "Created"},
        "console.platforms.add": {"nl": "Platform toevoegen", "en": "Add a platform"},
        "console.platforms.add_intro": {
            "nl": "Kies de software van het platform: Kluis vult de adressen, scopes en "
            "inlogmethode in zoals de OpenID Connect-plug-in van dat platform ze verwacht, en "
            "laat daarna zien wat je aan de kant van het platform invult.",
            "en": "Choose the platform's software: Kluis fills in the addresses, scopes and "
            "auth method as that platform's OpenID Connect plug-in expects them, then shows "
            "what to fill in on the platform's side.",
        },
        "console.platforms.preset": {"nl": "Software van het platform", "en": "Platform software"},
        "console.platforms.preset_choose": {"nl": "Kies…", "en": "Choose…"},
        "console.platforms.base_url": {"nl": "Adres van het platform", "en": "Platform address"},
        "console.platforms.base_url_hint": {
            "nl": "Bijvoorbeeld https://wolk.buurt.nl (https, zonder ?-deel).",
            "en": "For example https://cloud.example.org (https, no query).",
        },
        "console.platforms.name": {"nl": "Naam (niet verplicht)", "en": "Name (optional)"},
        "console.platforms.name_hint": {
            "nl": "Bewoners zien deze naam als Kluis om toestemming vraagt. Leeg: de naam van "
            "de software.",
            "en": "Residents see this name when Kluis asks for consent. Empty: the software's "
            "name.",
        },
        "console.platforms.add_submit": {"nl": "Toevoegen", "en": "Add"},
        "console.platforms.error.preset": {
            "nl": "Kies de software van het platform.",
            "en": "Choose the platform's software.",
        },
        "console.platforms.error.base_url": {
            "nl": "Vul het adres van het platform in.",
            "en": "Fill in the platform's address.",
        },
        "console.platforms.error.invalid": {
            "nl": "Met dit adres kan het platform niet worden toegevoegd (zie hieronder).",
            "en": "The platform cannot be added with this address (see below).",
        },
        "console.secret.once": {
            "nl": "Het client-geheim staat alleen nu op het scherm. Kopieer het naar het "
            "platform; Kluis bewaart alleen een hash.",
            "en": "The client secret is shown only now. Copy it to the platform; Kluis keeps "
            "only a hash.",
        },
        "console.added.title": {"nl": "Platform toegevoegd", "en": "Platform added"},
        "console.added.platform_side": {
            "nl": "Invullen bij {platform}",
            "en": "To fill in on {platform}",
        },
        "console.added.plugin": {"nl": "Plug-in: {plugin}", "en": "Plug-in: {plugin}"},
        "console.added.base_url": {"nl": "Adres van het platform", "en": "Base URL"},
        "console.added.discovery": {"nl": "Discovery-adres", "en": "Discovery URL"},
        "console.added.mapping": {"nl": "Gegevens koppelen", "en": "Claim mapping"},
        "console.added.instructions": {"nl": "Stappen op het platform", "en": "On the platform"},
        "console.added.erasure": {"nl": "Verwijderverzoeken", "en": "Erasure requests"},
        "console.added.note": {"nl": "Let op:", "en": "Note:"},
        "console.added.code": {
            "nl": "Om over te nemen op het platform",
            "en": "To copy to the platform",
        },
        "console.added.manage": {"nl": "Dit platform beheren", "en": "Manage this platform"},
        "console.confirm.platform": {"nl": "Platform {name}:", "en": "Platform {name}:"},
        "console.edit.title": {"nl": "Platform wijzigen", "en": "Edit the platform"},
        "console.edit.link": {"nl": "Naam en adressen wijzigen", "en": "Edit name and addresses"},
        "console.edit.submit": {"nl": "Wijzigingen opslaan", "en": "Save the changes"},
        "console.edit.done": {
            "nl": "De wijzigingen zijn opgeslagen.",
            "en": "The changes have been saved.",
        },
        "console.edit.field.name": {"nl": "Naam", "en": "Name"},
        "console.edit.field.redirect_uris": {"nl": "Redirect-URI's", "en": "Redirect URIs"},
        "console.edit.field.post_logout_redirect_uris": {
            "nl": "Adressen na uitloggen",
            "en": "Post-logout redirect URIs",
        },
        "console.edit.field.backchannel_logout_uri": {
            "nl": "Back-channel-uitlogadres",
            "en": "Back-channel logout URI",
        },
        "console.edit.field.events_uri": {"nl": "Adres voor gebeurtenissen", "en": "Events URI"},
        "console.edit.field.password": {"nl": "Wachtwoord", "en": "Password"},
        "console.edit.hint.name": {
            "nl": "Bewoners zien deze naam als Kluis om toestemming vraagt.",
            "en": "Residents see this name when Kluis asks for consent.",
        },
        "console.edit.hint.redirect_uris": {
            "nl": "Eén adres per regel, precies zoals de plug-in van het platform het stuurt. Ze "
            "blijven op de host van het platform ({host}): daarvan hangen de pseudoniemen van "
            "de bewoners af.",
            "en": "One address per line, exactly as the platform's plug-in sends it. They stay "
            "on the platform's host ({host}): the residents' pseudonyms depend on it.",
        },
        "console.edit.hint.fixed_sector": {
            "nl": "Deze liggen vast in het sector_identifier_uri-document van het platform.",
            "en": "These are fixed by the platform's sector_identifier_uri document.",
        },
        "console.edit.hint.post_logout_redirect_uris": {
            "nl": "Eén adres per regel; leeg als het platform er geen gebruikt.",
            "en": "One address per line; empty if the platform uses none.",
        },
        "console.edit.hint.backchannel_logout_uri": {
            "nl": "Waar Kluis uitlogberichten heen stuurt. Leeg: geen.",
            "en": "Where Kluis sends logout tokens. Empty: none.",
        },
        "console.edit.hint.events_uri": {
            "nl": "Waar Kluis verwijderverzoeken heen stuurt. Leeg: je geeft ze met de hand door.",
            "en": "Where Kluis sends erasure requests. Empty: you pass them on by hand.",
        },
        "console.edit.error.required": {"nl": "Vul dit in.", "en": "Fill this in."},
        "console.edit.error.too_long": {"nl": "Dit is te lang.", "en": "This is too long."},
        "console.edit.error.too_many": {
            "nl": "Hooguit 20 adressen.",
            "en": "At most 20 addresses.",
        },
        "console.edit.error.fragment": {
            "nl": "Een adres mag geen #-deel hebben.",
            "en": "An address may not have a # part.",
        },
        "console.edit.error.absolute": {
            "nl": "Dit is geen volledig https-adres.",
            "en": "This is not a complete https address.",
        },
        "console.edit.error.https": {
            "nl": "Gebruik https (http alleen voor localhost).",
            "en": "Use https (http only for localhost).",
        },
        "console.edit.error.credentials": {
            "nl": "Een adres mag geen gebruikersnaam of wachtwoord bevatten.",
            "en": "An address may not contain a user name or password.",
        },
        "console.edit.error.sector": {
            "nl": "Redirect-URI's blijven op de host van het platform ({host}), anders krijgt "
            "elke bewoner daar een nieuw pseudoniem.",
            "en": "Redirect URIs stay on the platform's host ({host}), or every resident would "
            "get a new pseudonym there.",
        },
        "console.edit.error.sector_document": {
            "nl": "De redirect-URI's liggen vast in het sector_identifier_uri-document.",
            "en": "The redirect URIs are fixed by the sector_identifier_uri document.",
        },
        "console.rotate.title": {"nl": "Nieuw client-geheim", "en": "Rotate the secret"},
        "console.rotate.what": {
            "nl": "Het oude geheim werkt meteen niet meer: het platform kan pas weer inloggen "
            "als het nieuwe geheim daar is ingevuld.",
            "en": "The old secret stops working at once: the platform can log residents in "
            "again only once the new secret is filled in there.",
        },
        "console.rotate.submit": {"nl": "Nieuw geheim maken", "en": "Rotate the secret"},
        "console.rotated.title": {"nl": "Nieuw client-geheim", "en": "New client secret"},
        "console.rotated.what": {
            "nl": "Vul het nieuwe geheim nu in bij het platform; het oude werkt niet meer.",
            "en": "Fill in the new secret on the platform now; the old one no longer works.",
        },
        "console.remove.title": {"nl": "Platform verwijderen", "en": "Remove the platform"},
        "console.remove.what": {
            "nl": "Alles wat Kluis aan dit platform heeft uitgegeven (codes, tokens, "
            "toestemmingen om in te loggen) vervalt. Dit kan niet ongedaan worden gemaakt.",
            "en": "Everything Kluis issued to this platform (codes, tokens, login grants) "
            "ends. This cannot be undone.",
        },
        "console.remove.submit": {"nl": "Verwijderen", "en": "Remove"},
        "console.outbox.title": {
            "nl": "Berichten aan platforms",
            "en": "Outbox: deliveries to platforms",
        },
        "console.outbox.intro": {
            "nl": "Kluis stuurt platforms uitlogberichten (back-channel) en verwijderverzoeken. "
            "Lukt dat niet, dan probeert Kluis het steeds later opnieuw, tot een uur ertussen. "
            "Een platform dat blijft falen: kijk of het adres voor gebeurtenissen klopt en of "
            "het platform bereikbaar is.",
            "en": "Kluis sends platforms logout messages (back-channel) and erasure requests. "
            "When one fails, Kluis tries again later and later, up to an hour apart. A "
            "platform that keeps failing: check its events URI and whether it can be reached.",
        },
        "console.outbox.none": {
            "nl": "Er zijn nog geen berichten aan platforms verstuurd.",
            "en": "No deliveries to platforms yet.",
        },
        "console.outbox.state": {"nl": "Stand", "en": "State"},
        "console.outbox.state_failing": {"nl": "mislukt", "en": "failing"},
        "console.outbox.state_pending": {"nl": "wacht", "en": "pending"},
        "console.outbox.state_ok": {"nl": "alles bezorgd", "en": "all delivered"},
        "console.outbox.pending": {"nl": "Wachtend", "en": "Pending"},
        "console.outbox.failing": {"nl": "Mislukt", "en": "Failing"},
        "console.outbox.delivered": {"nl": "Bezorgd", "en": "Delivered"},
        "console.outbox.waiting_since": {"nl": "Wacht sinds", "en": "Waiting since"},
        "console.outbox.last_error": {"nl": "Laatste fout", "en": "Last error"},
        "console.outbox.removed": {"nl": "verwijderd platform", "en": "removed platform"},
        "console.outbox.attempts": {"nl": "tot {n} pogingen", "en": "up to {n} attempts"},
        "console.nav.keys": {"nl": "Sleutels", "en": "Signing keys"},
        "console.keys.title": {"nl": "Sleutels voor ondertekenen", "en": "Signing keys"},
        "console.keys.intro": {
            "nl": "Met deze sleutels ondertekent Kluis inlogbewijzen (ID-tokens), berichten aan "
            "platforms, bewijzen in wallets en het auditlogboek. Een nieuwe sleutel wordt eerst "
            "gepubliceerd en ondertekent pas daarna; de oude blijft nog een tijd gepubliceerd "
            "zodat wat ermee ondertekend is geldig blijft.",
            "en": "Kluis signs ID tokens, messages to platforms, proofs in wallets and the "
            "audit log with these keys. A new key is published first and signs only after "
            "that; the old one stays published for a while so that what it signed stays valid.",
        },
        "console.keys.kid": {"nl": "Sleutel (kid)", "en": "Key (kid)"},
        "console.keys.alg": {"nl": "Algoritme", "en": "Algorithm"},
        "console.keys.state": {"nl": "Stand", "en": "State"},
        "console.keys.state.published": {"nl": "gepubliceerd", "en": "published"},
        "console.keys.state.active": {"nl": "actief", "en": "active"},
        "console.keys.state.retired": {"nl": "uit dienst", "en": "retired"},
        "console.keys.state.removed": {"nl": "verwijderd", "en": "removed"},
        "console.keys.signs_from": {"nl": "Ondertekent vanaf", "en": "Signs from"},
        "console.keys.retired": {"nl": "Uit dienst sinds", "en": "Retired at"},
        "console.keys.removed": {"nl": "Wordt verwijderd op", "en": "Removed from"},
        "console.keys.rotate": {"nl": "Nieuwe sleutel", "en": "Rotate a key"},
        "console.keys.rotate_what": {
            "nl": "De nieuwe sleutel wordt nu gepubliceerd en ondertekent over {minutes} "
            "minuten, als platforms hem hebben kunnen ophalen.",
            "en": "The new key is published now and signs in {minutes} minutes, once platforms "
            "have been able to fetch it.",
        },
        "console.keys.rotate_submit": {"nl": "Nieuwe sleutel maken", "en": "Rotate the key"},
        "console.keys.rotated": {
            "nl": "De nieuwe sleutel is gepubliceerd.",
            "en": "The new key has been published.",
        },
    }
)
