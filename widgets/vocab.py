"""The codebook: every fixed vocabulary, in the order analyses and exports show it.

One table each, so the schema, the card, the store and the codebook cannot disagree.
"""

from __future__ import annotations

# Ordered from most to least restrictive: analyses that need an ordinal scale use this order.
STANCES: tuple[str, ...] = (
    "decline",
    "decline_and_explore",
    "refer",
    "consult_first",
    "accept_with_safeguards",
    "accept",
)

STANCE_LABELS: dict[str, str] = {
    "decline": "Decline",
    "decline_and_explore": "Decline and explore",
    "refer": "Refer",
    "consult_first": "Consult first",
    "accept_with_safeguards": "Accept with safeguards",
    "accept": "Accept",
}

# The eight modules of the curriculum: slug -> (number, title). Lesson notebooks are NN_slug.
MODULES: dict[str, tuple[int, str]] = {
    "confidentiality": (1, "Confidentiality and the fact of therapy"),
    "business": (2, "Business and financial relationships"),
    "social": (3, "Social relationships and endings"),
    "gifts": (4, "Gifts, barter and money"),
    "communities": (5, "Small and overlapping communities"),
    "romantic": (6, "Romantic and sexual boundaries"),
    "digital": (7, "Digital boundaries"),
    "roles": (8, "Roles and power"),
}

CODES: tuple[str, ...] = ("APA", "ACA", "AAMFT", "NASW")

RISK_LEVELS: tuple[str, ...] = ("low", "medium", "high")

# Kitchener (1988): the three factors that raise the risk of harm in a dual role.
KITCHENER_FACTORS: dict[str, str] = {
    "expectations": "Incompatible expectations between the roles",
    "obligations": "Diverging obligations (objectivity, loyalty)",
    "power": "Power and prestige differential",
}

# "delayed": the post-test offered again some days after it (an assessment setting), for retention.
PHASES: tuple[str, ...] = ("practice", "pre", "post", "delayed")

CLIENTS: tuple[str, ...] = ("lab", "voila", "service", "script", "simulator")

# Partial credit for matching the reference: the codebook states it once.
SCORE_PREFERRED = 1.0
SCORE_ACCEPTABLE = 0.5
SCORE_OTHER = 0.0

# Gottlieb (1993), as commonly summarised: each dimension from low to high risk.
GOTTLIEB_DIMENSIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    "power": ("Power differential", ("low", "mid", "high")),
    "duration": ("Duration of the professional relationship", ("brief", "intermediate", "long")),
    "termination": ("Clarity of termination", ("clear", "uncertain", "ongoing")),
}
