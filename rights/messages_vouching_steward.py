"""Dutch and English texts of the steward's peer-vouching pages (registered on import)."""

from __future__ import annotations

from core import register

register(
    {
        "steward.nav.vouching": {"nl": "Meldingen nepprofiel", "en": "Fake-profile reports"},
        "steward.nav.vouching_graph": {
            "nl": "Bevestigingen: waarschuwingen",
            "en": "Confirmations: warning signs",
        },
        "steward.vouching.intro": {
            "nl": "Bewoners kunnen een profiel melden als nep. Per gemeld account zie je hoeveel "
            "meldingen er zijn, hoeveel bevestigingen het gaf en kreeg, en of het een bewijs "
            "'echt persoon' heeft. Het account staat er alleen als referentie.",
            "en": "Residents can report a profile as fake. For each reported account you see "
            "how many reports there are, how many confirmations it gave and got, and whether "
            "it holds a 'real person' proof. The account appears only as a reference.",
        },
        "steward.vouching.none": {"nl": "Geen open meldingen.", "en": "No open reports."},
        "steward.vouching.col.account": {"nl": "Account (referentie)", "en": "Account (reference)"},
        "steward.vouching.col.reports": {"nl": "Meldingen", "en": "Reports"},
        "steward.vouching.col.since": {"nl": "Eerste melding", "en": "First report"},
        "steward.vouching.col.last": {"nl": "Laatste melding", "en": "Last report"},
        "steward.vouching.col.gave": {"nl": "Bevestigingen gegeven", "en": "Confirmations given"},
        "steward.vouching.col.got": {"nl": "Bevestigingen gekregen", "en": "Confirmations got"},
        "steward.vouching.col.real_person": {
            "nl": "Bewijs 'echt persoon'",
            "en": "'Real person' proof",
        },
        "steward.vouching.col.action": {"nl": "Besluit", "en": "Decision"},
        "steward.vouching.yes": {"nl": "ja", "en": "yes"},
        "steward.vouching.no": {"nl": "nee", "en": "no"},
        "steward.vouching.decide": {"nl": "Beoordelen", "en": "Decide"},
        "steward.vouching.report.title": {"nl": "Melding beoordelen", "en": "Decide a report"},
        "steward.vouching.report.what_fake": {
            "nl": "Nep: alle bewijzen van dit account worden ingetrokken, alle bevestigingen die "
            "het gaf vervallen, wie het bevestigde mag 120 dagen niet bevestigen, en bewoners die "
            "daardoor te weinig bevestigingen hebben verliezen hun bewijs 'echt persoon'. De "
            "platforms krijgen bericht. Dit kun je niet terugdraaien.",
            "en": "Fake: every proof of this account is revoked, every confirmation it gave is "
            "withdrawn, whoever confirmed it may not confirm for 120 days, and residents left "
            "with too few confirmations lose their 'real person' proof. The platforms are told. "
            "This cannot be undone.",
        },
        "steward.vouching.report.what_dismiss": {
            "nl": "Afwijzen: de meldingen over dit account worden gesloten; verder verandert "
            "er niets.",
            "en": "Dismiss: the reports on this account are closed; nothing else changes.",
        },
        "steward.vouching.decision": {"nl": "Jouw besluit", "en": "Your decision"},
        "steward.vouching.decision.fake": {
            "nl": "Dit profiel is nep",
            "en": "This profile is fake",
        },
        "steward.vouching.decision.dismiss": {
            "nl": "De meldingen afwijzen",
            "en": "Dismiss the reports",
        },
        "steward.vouching.submit": {"nl": "Besluit vastleggen", "en": "Record the decision"},
        "steward.vouching.back": {"nl": "Terug naar de meldingen", "en": "Back to the reports"},
        "steward.vouching.error.decision": {
            "nl": "Kies nep of afwijzen.",
            "en": "Choose fake or dismiss.",
        },
        "steward.vouching.error.password": {
            "nl": "Dat wachtwoord klopt niet. Er is niets besloten.",
            "en": "That password is not right. Nothing has been decided.",
        },
        "steward.vouching.error.fresh_login": {
            "nl": "Log eerst opnieuw in en probeer het dan nog een keer. Er is niets besloten.",
            "en": "Please log in again first, then try once more. Nothing has been decided.",
        },
        "steward.vouching.decided.title": {"nl": "Besluit vastgelegd", "en": "Decision recorded"},
        "steward.vouching.decided.fake": {
            "nl": "Het account is als nep vastgelegd ({n} melding(en)).",
            "en": "The account was recorded as fake ({n} report(s)).",
        },
        "steward.vouching.decided.dismissed": {
            "nl": "De meldingen zijn afgewezen ({n} melding(en)). Er is verder niets veranderd.",
            "en": "The reports were dismissed ({n} report(s)). Nothing else changed.",
        },
        "steward.vouching.out.revoked": {
            "nl": "Ingetrokken bewijzen van het account",
            "en": "Proofs of the account revoked",
        },
        "steward.vouching.out.withdrawn": {
            "nl": "Vervallen bevestigingen (door het account gegeven)",
            "en": "Confirmations withdrawn (given by the account)",
        },
        "steward.vouching.out.suspended": {
            "nl": "Geschorste bevestigers",
            "en": "Vouchers suspended",
        },
        "steward.vouching.out.lapsed": {
            "nl": "Vervallen bewijzen 'echt persoon' via bevestigingen",
            "en": "Peer 'real person' proofs lapsed",
        },
        "steward.vouching.out.lost": {
            "nl": "Bewoners zonder bewijs 'echt persoon'",
            "en": "Residents left without a 'real person' proof",
        },
        "steward.vouching.out.events": {
            "nl": "Berichten aan platforms",
            "en": "Messages to platforms",
        },
        "steward.vouching.graph.intro": {
            "nl": "Tekenen die een nadere blik waard zijn. Ze bewijzen niets: een gezin of een "
            "nieuwe buurtvrijwilliger kan er ook in staan. Accounts staan er alleen als "
            "referentie; zoek een referentie op in het auditlogboek.",
            "en": "Signs worth a closer look. They prove nothing: a household or a new "
            "neighbourhood volunteer can show up too. Accounts appear only as references; "
            "look a reference up in the audit log.",
        },
        "steward.vouching.graph.summary": {"nl": "Overzicht", "en": "Summary"},
        "steward.vouching.graph.confirmations": {
            "nl": "Geldige bevestigingen",
            "en": "Live confirmations",
        },
        "steward.vouching.graph.holders": {
            "nl": "Bewoners met 'echt persoon' via bevestigingen",
            "en": "Residents with a peer 'real person' proof",
        },
        "steward.vouching.graph.seeds": {"nl": "Startbevestigers", "en": "Seed vouchers"},
        "steward.vouching.graph.suspended": {
            "nl": "Geschorste bevestigers",
            "en": "Suspended vouchers",
        },
        "steward.vouching.graph.clusters": {
            "nl": "Groepen die vooral elkaar bevestigen",
            "en": "Groups that mostly confirm each other",
        },
        "steward.vouching.graph.clusters.hint": {
            "nl": "Minstens {size} accounts die elkaar in een kring bevestigen, waarvan meer "
            "dan {share}% van de bevestigingen uit de eigen groep komt.",
            "en": "At least {size} accounts confirming each other in a ring, with more than "
            "{share}% of their confirmations from inside the group.",
        },
        "steward.vouching.graph.near_quota": {
            "nl": "Bevestigers bij hun maximum",
            "en": "Vouchers near their quota",
        },
        "steward.vouching.graph.near_quota.hint": {
            "nl": "Nog {left} of minder bevestigingen over in deze periode.",
            "en": "{left} or fewer confirmations left in this period.",
        },
        "steward.vouching.graph.newcomers": {
            "nl": "Nieuwe accounts die veel bevestigen",
            "en": "New accounts confirming many",
        },
        "steward.vouching.graph.newcomers.hint": {
            "nl": "Account of bewijs 'echt persoon' jonger dan {days} dagen, en in die tijd "
            "minstens {many} bevestigingen gegeven.",
            "en": "Account or 'real person' proof younger than {days} days, with at least "
            "{many} confirmations given in that time.",
        },
        "steward.vouching.graph.none": {"nl": "Niets gevonden.", "en": "Nothing found."},
        "steward.vouching.graph.more": {
            "nl": "De eerste {shown} van {total}.",
            "en": "The first {shown} of {total}.",
        },
        "steward.vouching.col.members": {
            "nl": "Accounts (referenties)",
            "en": "Accounts (references)",
        },
        "steward.vouching.col.inside": {
            "nl": "Bevestigingen uit de groep",
            "en": "Confirmations from inside",
        },
        "steward.vouching.col.used": {"nl": "Gebruikt", "en": "Used"},
        "steward.vouching.col.quota": {"nl": "Maximum", "en": "Quota"},
        "steward.vouching.col.given": {"nl": "Gegeven", "en": "Given"},
        "steward.vouching.col.account_days": {
            "nl": "Account (dagen oud)",
            "en": "Account (days old)",
        },
        "steward.vouching.col.real_person_days": {
            "nl": "'Echt persoon' (dagen oud)",
            "en": "'Real person' (days old)",
        },
        "steward.vouching.col.seed": {"nl": "Startbevestiger", "en": "Seed voucher"},
    }
)
