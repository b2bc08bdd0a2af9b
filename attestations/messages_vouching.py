"""Dutch and English texts of the peer-vouching pages (registered on import): the vouchee's
"ask a neighbour" page, the voucher's confirm page, the desk's request page, and the wording
of the vouching problems."""

from __future__ import annotations

from core import register

register(
    {
        # --- the vouchee: /account/vouching ------------------------------------------------
        "vouching.section": {"nl": "Bevestigd door buren", "en": "Confirmed by neighbours"},
        "vouching.link": {
            "nl": "Vraag een buur om je te bevestigen",
            "en": "Ask a neighbour to confirm me",
        },
        "vouching.account_intro": {
            "nl": "Buren die je kennen kunnen bevestigen dat je echt bent wie je zegt. Dan krijg "
            "je een bewijs 'echt persoon'.",
            "en": "Neighbours who know you can confirm that you really are who you say. Then you "
            "get a 'real person' proof.",
        },
        "vouching.ask.title": {
            "nl": "Vraag een buur om je te bevestigen",
            "en": "Ask a neighbour to confirm me",
        },
        "vouching.ask.intro": {
            "nl": "Spreek af met iemand die je kent en die al een bewijs 'echt persoon' heeft. "
            "Laat die persoon de QR-code scannen met de eigen telefoon. Die ziet dan je naam en "
            "bevestigt dat je echt bent wie je zegt.",
            "en": "Meet someone who knows you and who already has a 'real person' proof. Let "
            "them scan the QR code with their own phone. They then see your name and confirm "
            "that you really are who you say.",
        },
        "vouching.ask.rule": {
            "nl": "Je hebt {threshold} bevestigingen nodig van verschillende mensen, binnen "
            "{days} dagen. Mensen die op je eigen adres wonen tellen samen als één.",
            "en": "You need {threshold} confirmations from different people, within {days} "
            "days. People who live at your own address count together as one.",
        },
        "vouching.progress": {
            "nl": "Je hebt {count} van de {threshold} bevestigingen.",
            "en": "You have {count} of the {threshold} confirmations.",
        },
        "vouching.lapsed.below_threshold": {
            "nl": "Je bewijs 'echt persoon' van buren is op {date} ingetrokken: een van de "
            "bevestigingen telt niet meer. Vraag opnieuw buren om je te bevestigen.",
            "en": "Your 'real person' proof from neighbours was withdrawn on {date}: one of the "
            "confirmations no longer counts. Ask neighbours to confirm you again.",
        },
        "vouching.lapsed.expired": {
            "nl": "Je bewijs 'echt persoon' van buren is op {date} verlopen. Vraag opnieuw buren "
            "om je te bevestigen.",
            "en": "Your 'real person' proof from neighbours expired on {date}. Ask neighbours to "
            "confirm you again.",
        },
        "vouching.lapsed.other": {
            "nl": "Je bewijs 'echt persoon' van buren is op {date} ingetrokken.",
            "en": "Your 'real person' proof from neighbours was withdrawn on {date}.",
        },
        "vouching.verified": {
            "nl": "Je hebt al een bewijs 'echt persoon' dat nog lang geldig is. Je hoeft nu "
            "niemand te vragen.",
            "en": "You already have a 'real person' proof that is valid for a long time. You do "
            "not need to ask anyone now.",
        },
        "vouching.ask.start": {"nl": "Toon een QR-code", "en": "Show a QR code"},
        "vouching.ask.again": {
            "nl": "Nieuwe QR-code voor de volgende buur",
            "en": "New QR code for the next neighbour",
        },
        "vouching.request.heading": {"nl": "Laat je buur scannen", "en": "Let your neighbour scan"},
        "vouching.request.qr_alt": {
            "nl": "QR-code om te scannen met de telefoon van je buur",
            "en": "QR code to scan with your neighbour's phone",
        },
        "vouching.request.check": {"nl": "Controlecode", "en": "Check code"},
        "vouching.request.check_hint": {
            "nl": "Je buur ziet dezelfde 4 cijfers. Zijn ze anders? Dan kijkt je buur naar een "
            "ander verzoek. Stop dan.",
            "en": "Your neighbour sees the same 4 digits. Are they different? Then your "
            "neighbour is looking at another request. Stop then.",
        },
        "vouching.request.short": {"nl": "Code om te typen", "en": "Code to type"},
        "vouching.request.short_hint": {
            "nl": "Lukt scannen niet? Je buur gaat naar {url} en typt deze code.",
            "en": "Scanning does not work? Your neighbour goes to {url} and types this code.",
        },
        "vouching.request.expires": {
            "nl": "De codes werken tot {time} en maar één keer.",
            "en": "The codes work until {time}, and only once.",
        },
        "vouching.request.refresh": {"nl": "Status bijwerken", "en": "Refresh the status"},
        "vouching.state.open": {
            "nl": "Wacht op je buur…",
            "en": "Waiting for your neighbour…",
        },
        "vouching.state.confirmed": {  # shown to the resident and at the desk alike
            "nl": "Bevestigd door een buur.",
            "en": "Confirmed by a neighbour.",
        },
        "vouching.state.declined": {
            "nl": "Je buur heeft je niet bevestigd.",
            "en": "Your neighbour did not confirm you.",
        },
        "vouching.state.expired": {
            "nl": "De code is verlopen. Maak een nieuwe als je buur er is.",
            "en": "The code has expired. Make a new one when your neighbour is there.",
        },
        "vouching.claim.ready": {
            "nl": "Je hebt genoeg bevestigingen. Haal je bewijs 'echt persoon' op.",
            "en": "You have enough confirmations. Collect your 'real person' proof.",
        },
        "vouching.claim.heading": {"nl": "Je bewijs ophalen", "en": "Collect the proof"},
        "vouching.claim.submit": {"nl": "Haal mijn bewijs op", "en": "Collect my proof"},
        "vouching.back": {"nl": "Terug naar je account", "en": "Back to your account"},
        # --- the peer offer ----------------------------------------------------------------
        "vouching.offer.title": {
            "nl": "Je bewijs 'echt persoon' staat klaar",
            "en": "Your 'real person' proof is ready",
        },
        "vouching.offer.intro": {
            "nl": "Je buren hebben bevestigd dat je echt bent wie je zegt. Het bewijs staat "
            "klaar tot {time}.",
            "en": "Your neighbours confirmed that you really are who you say. The proof waits "
            "until {time}.",
        },
        "vouching.offer.kluis": {"nl": "In je Kluis-wallet", "en": "In your Kluis wallet"},
        "vouching.offer.kluis_body": {
            "nl": "Het makkelijkst: Kluis bewaart het bewijs voor je.",
            "en": "The easiest: Kluis keeps the proof for you.",
        },
        "vouching.offer.app": {"nl": "In een wallet-app", "en": "In a wallet app"},
        "vouching.offer.app_body": {
            "nl": "Scan deze QR-code met je wallet-app. Typ daarna de code hieronder.",
            "en": "Scan this QR code with your wallet app. Then type the code below.",
        },
        "vouching.offer.qr_alt": {
            "nl": "QR-code voor je wallet-app: bewijs 'echt persoon'",
            "en": "QR code for your wallet app: 'real person' proof",
        },
        "vouching.offer.app_link": {
            "nl": "Open in de wallet-app op dit apparaat",
            "en": "Open in the wallet app on this device",
        },
        # --- the voucher: /vouch -----------------------------------------------------------
        "vouching.code.title": {"nl": "Bevestig een buur", "en": "Confirm a neighbour"},
        "vouching.code.intro": {
            "nl": "Scan de QR-code op de telefoon van je buur. Of typ hier de code die je buur "
            "je laat zien.",
            "en": "Scan the QR code on your neighbour's phone. Or type here the code your "
            "neighbour shows you.",
        },
        "vouching.code.label": {"nl": "Code van 8 tekens", "en": "Code of 8 characters"},
        "vouching.code.hint": {
            "nl": "Letters en cijfers, bijvoorbeeld K7MP 2XQR. Hoofdletters en spaties maken "
            "niet uit.",
            "en": "Letters and digits, for example K7MP 2XQR. Capitals and spaces do not matter.",
        },
        "vouching.code.submit": {"nl": "Verder", "en": "Continue"},
        "vouching.code.gone": {
            "nl": "Deze code werkt niet. Hij is verkeerd getypt, verlopen of al gebruikt. Vraag "
            "je buur om een nieuwe code.",
            "en": "This code does not work. It was mistyped, has expired or was used already. "
            "Ask your neighbour for a new code.",
        },
        "vouching.code.throttled": {
            "nl": "Je hebt te vaak een verkeerde code getypt. Probeer het over {minutes} "
            "minuten opnieuw.",
            "en": "You typed a wrong code too often. Try again in {minutes} minutes.",
        },
        "vouching.preview.title": {"nl": "Bevestig wie dit is", "en": "Confirm who this is"},
        "vouching.preview.who": {"nl": "Naam", "en": "Name"},
        "vouching.preview.check_hint": {
            "nl": "Ziet je buur dezelfde 4 cijfers? Dan kijken jullie naar hetzelfde verzoek. "
            "Zijn ze anders? Stop dan.",
            "en": "Does your neighbour see the same 4 digits? Then you are looking at the same "
            "request. Are they different? Stop then.",
        },
        "vouching.preview.honest": {
            "nl": "Ik heb {name} in het echt ontmoet en ken deze persoon onder deze naam. Dit "
            "bevestig ik eerlijk.",
            "en": "I have met {name} in person and know this person by this name. I confirm "
            "this honestly.",
        },
        "vouching.preview.honest_why": {
            "nl": "Bevestig alleen iemand die je echt kent. Blijkt iemand die jij bevestigde niet "
            "echt te zijn, dan mag je een tijd niemand bevestigen.",
            "en": "Only confirm someone you really know. If someone you confirmed turns out not "
            "to be real, you may not confirm anyone for a while.",
        },
        "vouching.preview.quota": {
            "nl": "Je kunt de komende tijd nog {count} mensen bevestigen.",
            "en": "You can confirm {count} more people for now.",
        },
        "vouching.preview.confirm": {"nl": "Bevestigen", "en": "Confirm"},
        "vouching.preview.decline": {"nl": "Niet bevestigen", "en": "Do not confirm"},
        "vouching.preview.error.honest": {
            "nl": "Vink aan dat je deze persoon in het echt hebt ontmoet en kent onder deze "
            "naam. Anders kun je niet bevestigen.",
            "en": "Tick that you have met this person in person and know them by this name. "
            "Otherwise you cannot confirm.",
        },
        "vouching.report.summary": {
            "nl": "Dit is niet wie die zegt te zijn",
            "en": "Report this profile as fake",
        },
        "vouching.report.body": {
            "nl": "Denk je dat dit profiel nep is? Meld het. Een beheerder bekijkt het. "
            "{name} ziet niet wie het meldde.",
            "en": "Do you think this profile is fake? Report it. A steward will look at it. "
            "{name} does not see who reported it.",
        },
        "vouching.report.submit": {"nl": "Meld als nep", "en": "Report as fake"},
        "vouching.refusal.self": {
            "nl": "Dit is je eigen verzoek. Laat een buur deze QR-code scannen.",
            "en": "This is your own request. Let a neighbour scan this QR code.",
        },
        "vouching.refusal.fake": {
            "nl": "Je kunt deze persoon niet bevestigen. Heb je vragen? Ga naar de balie.",
            "en": "You cannot confirm this person. Any questions? Go to the desk.",
        },
        "vouching.refusal.suspended": {
            "nl": "Je mag een tijd niemand bevestigen. Iemand die je eerder bevestigde bleek "
            "niet echt te zijn. Heb je vragen? Ga naar de balie.",
            "en": "You may not confirm anyone for a while. Someone you confirmed before turned "
            "out not to be real. Any questions? Go to the desk.",
        },
        "vouching.refusal.not_eligible": {
            "nl": "Je kunt nog niemand bevestigen. Daarvoor heb je zelf een bewijs 'echt "
            "persoon' nodig dat minstens {days} dagen oud is.",
            "en": "You cannot confirm anyone yet. For that you need a 'real person' proof of "
            "your own that is at least {days} days old.",
        },
        "vouching.refusal.quota": {
            "nl": "Je hebt in de afgelopen {days} dagen al zoveel mensen bevestigd als mag. "
            "Probeer het later opnieuw.",
            "en": "You have already confirmed as many people as allowed in the last {days} "
            "days. Try again later.",
        },
        "vouching.refusal.already_confirmed": {
            "nl": "Je hebt deze persoon al bevestigd. Eén keer is genoeg.",
            "en": "You already confirmed this person. Once is enough.",
        },
        "vouching.done.title": {"nl": "Bedankt", "en": "Thank you"},
        "vouching.done.confirmed": {
            "nl": "Je hebt {name} bevestigd. Het scherm dat om je bevestiging vroeg, laat het "
            "nu ook zien.",
            "en": "You confirmed {name}. The screen that asked for your confirmation now shows "
            "it too.",
        },
        "vouching.done.declined": {
            "nl": "Je hebt {name} niet bevestigd. De telefoon van {name} laat zien dat het "
            "verzoek is afgewezen, niet waarom.",
            "en": "You did not confirm {name}. The phone of {name} shows that the request was "
            "declined, not why.",
        },
        "vouching.done.reported": {
            "nl": "Je melding is ontvangen. Een beheerder bekijkt het. Je hebt deze persoon "
            "niet bevestigd.",
            "en": "Your report was received. A steward will look at it. You have not confirmed "
            "this person.",
        },
        "vouching.failed.title": {"nl": "Dat lukte niet", "en": "That did not work"},
        # --- the desk: /desk/vouching ------------------------------------------------------
        "vouching.desk.heading": {
            "nl": "Bevestiging door buren",
            "en": "Confirmation by neighbours",
        },
        "vouching.desk.intro": {
            "nl": "Voor een bewoner zonder smartphone: toon op dit scherm een QR-code. Een buur "
            "die de bewoner kent scant hem met de eigen telefoon, of typt de code.",
            "en": "For a resident without a smartphone: show a QR code on this screen. A "
            "neighbour who knows the resident scans it with their own phone, or types the "
            "code.",
        },
        "vouching.desk.start": {
            "nl": "Toon een QR-code voor een buur",
            "en": "Show a QR code for a neighbour",
        },
        "vouching.desk.title": {
            "nl": "Bevestiging door buren voor {handle}",
            "en": "Confirmation by neighbours for {handle}",
        },
        "vouching.desk.heading_scan": {"nl": "Voor de buur", "en": "For the neighbour"},
        "vouching.desk.check_hint": {
            "nl": "De buur ziet dezelfde 4 cijfers op de eigen telefoon. Zijn ze anders? Stop dan.",
            "en": "The neighbour sees the same 4 digits on their own phone. Are they different? "
            "Stop then.",
        },
        "vouching.desk.short_hint": {
            "nl": "Lukt scannen niet? De buur gaat naar {url} en typt deze code.",
            "en": "Scanning does not work? The neighbour goes to {url} and types this code.",
        },
        "vouching.desk.scan": {
            "nl": "Laat de buur deze QR-code scannen met de eigen telefoon.",
            "en": "Let the neighbour scan this QR code with their own phone.",
        },
        "vouching.desk.progress": {
            "nl": "De bewoner heeft {count} van de {threshold} bevestigingen.",
            "en": "The resident has {count} of the {threshold} confirmations.",
        },
        "vouching.desk.verified": {
            "nl": "De bewoner heeft al een bewijs 'echt persoon' dat nog lang geldig is.",
            "en": "The resident already has a 'real person' proof that is valid for a long time.",
        },
        "vouching.desk.ready": {
            "nl": "Genoeg bevestigingen. Zet het bewijs 'echt persoon' klaar voor de bewoner.",
            "en": "Enough confirmations. Make the 'real person' proof ready for the resident.",
        },
        "vouching.desk.claim": {"nl": "Bewijs klaarzetten", "en": "Make the proof ready"},
        "vouching.desk.none": {
            "nl": "Er staat geen verzoek open op dit scherm. Begin opnieuw bij de balie.",
            "en": "No request is open on this screen. Start again at the desk.",
        },
        # --- problems ------------------------------------------------------------------------
        "vouching.error.refused": {
            "nl": "Dit kan nu niet.",
            "en": "This cannot be done now.",
        },
        "vouching.error.request_gone": {
            "nl": "Dit verzoek bestaat niet of werkt niet meer. Het is verlopen of al beantwoord. "
            "Vraag je buur om een nieuwe QR-code.",
            "en": "This request does not exist or no longer works. It has expired or was "
            "answered already. Ask your neighbour for a new QR code.",
        },
        "vouching.error.confirmation_refused": {
            "nl": "Je kunt deze persoon nu niet bevestigen.",
            "en": "You cannot confirm this person now.",
        },
        "vouching.error.threshold": {
            "nl": "Er zijn nog niet genoeg bevestigingen. Vraag nog een buur.",
            "en": "There are not enough confirmations yet. Ask another neighbour.",
        },
        "vouching.error.already_verified": {
            "nl": "Er is al een bewijs 'echt persoon' dat nog lang geldig is.",
            "en": "A 'real person' proof is already valid for a long time.",
        },
        "vouching.error.report": {
            "nl": "Deze melding kan niet. Je kunt jezelf niet melden, en je kunt niet meer dan "
            "een paar meldingen tegelijk open hebben.",
            "en": "This report cannot be made. You cannot report yourself, and you cannot have "
            "more than a few reports open at once.",
        },
        "vouching.error.report_not_found": {
            "nl": "Deze melding bestaat niet of is al beoordeeld.",
            "en": "This report does not exist or was decided already.",
        },
    }
)

# the error page's wording of the vouching problems (`service.app`: `error.problem.<slug>`)
register(
    {
        "error.problem.vouching-refused": {
            "nl": "Dit kan nu niet.",
            "en": "This cannot be done now.",
        },
        "error.problem.vouching-request-gone": {
            "nl": "Dit verzoek bestaat niet of werkt niet meer. Het is verlopen of al beantwoord.",
            "en": "This request does not exist or no longer works. It has expired or was "
            "answered already.",
        },
        "error.problem.vouching-confirmation-refused": {
            "nl": "Je kunt deze persoon nu niet bevestigen.",
            "en": "You cannot confirm this person now.",
        },
        "error.problem.vouching-threshold-not-met": {
            "nl": "Er zijn nog niet genoeg bevestigingen.",
            "en": "There are not enough confirmations yet.",
        },
        "error.problem.vouching-already-verified": {
            "nl": "Er is al een bewijs 'echt persoon' dat nog lang geldig is.",
            "en": "A 'real person' proof is already valid for a long time.",
        },
        "error.problem.vouching-report-refused": {
            "nl": "Deze melding kan niet.",
            "en": "This report cannot be made.",
        },
        "error.problem.vouching-report-not-found": {
            "nl": "Deze melding bestaat niet of is al beoordeeld.",
            "en": "This report does not exist or was decided already.",
        },
    }
)
