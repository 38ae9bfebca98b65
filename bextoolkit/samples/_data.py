"""The vocabulary the synthetic campaign generator draws from (private to :mod:`samples`).

Pools of names, places, e-mail domains, subjects, links and real-world user agents. Every
company, brand and link domain is fictional (Microsoft's Contoso family, ``example.com``);
the webmail domains and user agents are the real ones, because readers meet those.
"""

from __future__ import annotations

from typing import Final

from bextoolkit import schema

#: (first name as written, ASCII form for the e-mail address)
FIRST_NAMES: Final = (
    ("Emma", "emma"), ("Liam", "liam"), ("Olivia", "olivia"), ("Noah", "noah"),
    ("Sofía", "sofia"), ("José", "jose"), ("Zoë", "zoe"), ("Łukasz", "lukasz"),
    ("François", "francois"), ("Chloé", "chloe"), ("Jürgen", "jurgen"), ("Mia", "mia"),
    ("Lucas", "lucas"), ("Ava", "ava"), ("Mateo", "mateo"), ("Hannah", "hannah"),
    ("Ingrid", "ingrid"), ("Søren", "soren"), ("Aisha", "aisha"), ("Wei", "wei"),
    ("Priya", "priya"), ("Kenji", "kenji"), ("Olga", "olga"), ("Björn", "bjorn"),
    ("María José", "mariajose"), ("Seán", "sean"), ("Amelia", "amelia"), ("Ethan", "ethan"),
)  # fmt: skip

#: (last name as written, ASCII form for the e-mail address)
LAST_NAMES: Final = (
    ("Smith", "smith"), ("Johnson", "johnson"), ("García", "garcia"), ("Müller", "mueller"),
    ("Dubois", "dubois"), ("Rossi", "rossi"), ("Nowak", "nowak"), ("Jensen", "jensen"),
    ("O'Brien", "obrien"), ("Fernández", "fernandez"), ("Kowalski", "kowalski"),
    ("Nakamura", "nakamura"), ("Patel", "patel"), ("Chen", "chen"), ("Brown", "brown"),
    ("Lefèvre", "lefevre"), ("Schröder", "schroeder"), ("Silva", "silva"),
    ("van der Berg", "vanderberg"), ("Williams", "williams"), ("Ivanova", "ivanova"),
    ("Jones", "jones"), ("Martin", "martin"), ("Åström", "astrom"),
)  # fmt: skip

#: (city, country, language)
PLACES: Final = (
    ("New York", "US", "en"), ("Chicago", "US", "en"), ("Austin", "US", "en"),
    ("Toronto", "CA", "en"), ("Montréal", "CA", "fr"), ("London", "GB", "en"),
    ("Manchester", "GB", "en"), ("Paris", "FR", "fr"), ("Lyon", "FR", "fr"),
    ("Berlin", "DE", "de"), ("Düsseldorf", "DE", "de"), ("Zürich", "CH", "de"),
    ("Madrid", "ES", "es"), ("Málaga", "ES", "es"), ("São Paulo", "BR", "pt"),
    ("Kraków", "PL", "pl"), ("Amsterdam", "NL", "nl"), ("Milano", "IT", "it"),
    ("Göteborg", "SE", "sv"), ("Sydney", "AU", "en"),
)  # fmt: skip
PLACE_WEIGHTS: Final = (12, 6, 4, 5, 3, 8, 3, 6, 2, 6, 2, 2, 6, 2, 4, 3, 3, 3, 2, 4)

LOYALTY_TIERS: Final = ("Bronze", "Silver", "Gold", "Platinum")
LOYALTY_WEIGHTS: Final = (50, 30, 15, 5)

#: (domain, weight, kind): kind "apple" leans to Apple Mail Privacy Protection, "corporate"
#: mailboxes sit behind security scanners now and then.
DOMAINS: Final = (
    ("gmail.com", 34, "gmail"),
    ("yahoo.com", 9, "yahoo"),
    ("outlook.com", 8, "microsoft"),
    ("hotmail.com", 5, "microsoft"),
    ("icloud.com", 8, "apple"),
    ("me.com", 2, "apple"),
    ("aol.com", 2, "yahoo"),
    ("gmx.de", 3, "other"),
    ("web.de", 2, "other"),
    ("orange.fr", 2, "other"),
    ("yahoo.co.uk", 2, "yahoo"),
    ("wp.pl", 1, "other"),
    ("contoso.com", 5, "corporate"),
    ("fabrikam.com", 4, "corporate"),
    ("northwindtraders.com", 4, "corporate"),
    ("adventure-works.com", 3, "corporate"),
    ("wingtiptoys.com", 3, "corporate"),
    ("tailspintoys.com", 3, "corporate"),
)
DOMAIN_KINDS: Final = ("gmail", "yahoo", "microsoft", "apple", "other", "corporate")

#: What Apple Mail Privacy Protection sends when it pre-fetches a pixel: nothing more.
APPLE_MPP_AGENT: Final = "Mozilla/5.0"

#: User agents that load the open pixel. Index into this tuple from OPEN_AGENT_WEIGHTS.
OPEN_AGENTS: Final = (
    "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)",
    "YahooMailProxy; https://help.yahoo.com/kb/yahoo-mail-proxy-SLN28749.html",
    "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17928; Pro)",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/130.0.0.0 Safari/537.36 Edg/130.0.0.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Mobile/15E148",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko)",
    "Mozilla/5.0 (Linux; Android 14; SM-S918B Build/UP1A.231005.007; wv) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Version/4.0 Chrome/130.0.6723.102 Mobile Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:132.0) Gecko/20100101 Thunderbird/132.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_6_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Mobile/15E148 Outlook-iOS/4.2437.0",
)
#: One row per DOMAIN_KINDS entry: the weight of each OPEN_AGENTS entry for that kind.
OPEN_AGENT_WEIGHTS: Final = (
    (70, 0, 0, 5, 8, 2, 15, 0, 0),  # gmail
    (0, 70, 0, 5, 10, 3, 12, 0, 0),  # yahoo
    (0, 0, 35, 30, 15, 5, 5, 0, 10),  # microsoft
    (0, 0, 0, 5, 60, 35, 0, 0, 0),  # apple
    (5, 0, 15, 25, 20, 10, 15, 10, 0),  # other
    (0, 0, 70, 10, 8, 2, 2, 0, 8),  # corporate
)

#: Browsers that follow a tracked link. Index from CLICK_AGENT_WEIGHTS.
CLICK_AGENTS: Final = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/130.0.0.0 Safari/537.36 Edg/130.0.0.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/18.1 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.6778.39 Mobile Safari/537.36",
    "Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) "
    "SamsungBrowser/26.0 Chrome/122.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:132.0) Gecko/20100101 Firefox/132.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_6_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Mobile/15E148 [FBAN/FBIOS;FBAV/489.0.0.49.96;FBBV/658544013]",
)
CLICK_AGENT_WEIGHTS: Final = (
    (30, 8, 8, 22, 18, 8, 4, 2),  # gmail
    (25, 10, 5, 25, 15, 10, 8, 2),  # yahoo
    (15, 45, 5, 15, 10, 5, 5, 0),  # microsoft
    (5, 2, 38, 50, 0, 0, 3, 2),  # apple
    (25, 10, 8, 15, 15, 10, 17, 0),  # other
    (35, 45, 5, 8, 3, 0, 4, 0),  # corporate
)

#: What link-checking security gateways present when they follow every link on delivery.
SCANNER_AGENTS: Final = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "HeadlessChrome/119.0.6045.105 Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/91.0.4472.114 Safari/537.36",
    "Mozilla/4.0 (compatible; MSIE 8.0; Windows NT 6.1; Trident/4.0; SLCC2; "
    ".NET CLR 2.0.50727; .NET CLR 3.5.30729; .NET CLR 3.0.30729)",
)

#: (messageName, subjectLine, campaign slug for utm_campaign). The first ones deliberately
#: carry the characters that break naive CSV handling: commas, double quotes, pipes,
#: non-ASCII letters and emoji.
MAILINGS: Final = (
    ("BF26 Early Access", "Black Friday starts now, 40% off everything 🖤", "bf26-early"),
    ('Newsletter Nov - "Winter Edit"', 'Meet the "Winter Edit": coats, knits, boots', "nl-2611"),
    ("ES Última oportunidad", "Última oportunidad: -30 % en abrigos ❄️", "es-last-chance"),
    ("Price drop | Nordic parka", 'Price drop | "Nordic" parka now €149, sizes XS–XXL', "pd-parka"),
    ("Welcome series #1", "Welcome! Here's 10% off your first order 🎁", "welcome-1"),
    ("Cart reminder", "You left something behind… still want it?", "cart-reminder"),
    ("DE Neuheiten", "Neu: Größen für alle – Versand gratis ab 50 €", "de-neu"),
    ("Loyalty points expiry", "Your points expire Sunday, use them or lose them", "loyalty-exp"),
    ("FR Soldes privées", "Soldes privées : jusqu'à -50 % ce week-end", "fr-soldes"),
    ("Survey Q4", 'Tell us: "How did we do?" (2 minutes, promise)', "survey-q4"),
    ("Cyber Monday", "Cyber Monday ⚡ 24 hours, free shipping, no code needed", "cm26"),
    ("PL Nowa kolekcja", "Nowa kolekcja już jest — zobacz, co się zmieniło", "pl-nowa"),
)

#: (urlDescription, path on the shop). Links with an empty path leave the shop.
LINKS: Final = (
    ("Hero banner", "/collections/winter"),
    ("Shop now", "/sale"),
    ("Women", "/women/coats"),
    ("Men", "/men/knitwear"),
    ("Product: Nordic parka", "/products/nordic-parka?color=navy&size=m"),
    ("Store locator", "/stores"),
    ("Café & gift cards", "/caf%C3%A9-gift-cards"),
    ("View in browser", "/email/view"),
    ("Instagram", ""),
    ("Preference center", "/account/preferences"),
)
SHOP_URL: Final = "https://shop.example.com"
SOCIAL_URL: Final = "https://www.instagram.com/example_shop/"

#: What the opt-out form records about how a contact left.
OPT_OUT_DETAILS: Final = (
    "Opt-out link in email",
    "List-Unsubscribe (one-click)",
    "Preference center: all mailings",
)
OPT_OUT_WEIGHTS: Final = (55, 35, 10)

#: Database columns a job definition may ask for, as the simulated database names them.
DATABASE_COLUMNS: Final = (
    "FirstName",
    "LastName",
    "City",
    "Country",
    "Language",
    "LoyaltyTier",
    "SignupDate",
)

# --- realistic accounts (generate_campaign(realistic=True)) ---------------------------------
#: The mailbox provider of each webmail domain (domain.md, section 9); every other domain,
#: corporate ones included, is "other".
PROVIDERS: Final = schema.PROVIDERS
#: Each provider's consumer domains (the one map in :data:`bextoolkit.schema.PROVIDER_DOMAINS`).
PROVIDER_DOMAINS: Final = {
    p: tuple(d for d, q in schema.PROVIDER_DOMAINS.items() if q == p) for p in PROVIDERS[:-1]
}

#: The domains of a realistic account, as (domain, weight, kind) like :data:`DOMAINS`: those,
#: and every other domain of each mailbox provider.
ACCOUNT_DOMAINS: Final = (
    *DOMAINS,
    ("googlemail.com", 2, "gmail"),
    ("ymail.com", 1, "yahoo"),
    ("rocketmail.com", 1, "yahoo"),
    ("live.com", 2, "microsoft"),
    ("msn.com", 1, "microsoft"),
    ("mac.com", 1, "apple"),
)

#: The recurring batch mailings of a realistic account: (messageName, subjectLine, slug).
#: Every third batch mailing is "Weekly Deals"; the others take these names in turn, so
#: each name is used by many mailings on different dates.
WEEKLY_DEALS: Final = ("Weekly Deals", "This week's deals: up to 50% off, until Sunday", "weekly")
BATCH_SERIES: Final = tuple(
    m for m in MAILINGS if m[0] not in ("Welcome series #1", "Cart reminder")
)
#: The daily programs (Programs / AutoResponder) of a realistic account, taken in turn.
PROGRAM_SERIES: Final = tuple(m for m in MAILINGS if m[0] in ("Welcome series #1", "Cart reminder"))
