"""Demo content for the groups app, taken from the ASI Working Groups Terms of Reference (2025)
and, for the second tenant, an invented standards body that shares nothing with ASI."""

from __future__ import annotations

import datetime

ASI = {
    "name": "Aluminium Stewardship Initiative",
    "short_name": "ASI",
    "slug": "asi",
    "time_zone": "Australia/Melbourne",
    "website": "https://aluminium-stewardship.org/",
    "privacy_policy_url": "https://aluminium-stewardship.org/privacy-policy",
    "contact_email": "standards@asi.example",
}

ASI_STANDARDS = [
    ("Performance Standard", "V3", "Under revision towards V4."),
    ("Chain of Custody Standard", "V2", "Under revision, with the related Claims Guide."),
    (
        "Claims and assurance framework",
        "",
        "The claims and assurance framework associated with the standards.",
    ),
]

ASI_OBJECTIVES = [
    (
        "Enable greater differentiation; recognising different performance levels and creating "
        "pathways for continuous improvement",
        "The revision will likely mean moving away from a 'one size fits all' approach and "
        "exploring the introduction of different performance levels or increasing expectations "
        "for Entities over time.",
    ),
    (
        "Further strengthen credibility of the standards and related assurance",
        "The Revision aims to ensure that criteria are developed in a clear and consistent way, "
        "with strong input from auditors throughout the process.",
    ),
    (
        "Improve the relevance of criteria, focusing effort on the most critical areas",
        "The aim is to maintain the value of a 'broad' sustainability standard, but to ensure that "
        "the most critical impacts or risks are prioritised. This might mean more inclusion of "
        "materiality or risk assessments.",
    ),
    (
        "Strengthen focus on priorities for Indigenous Peoples and other traditional communities",
        "Strong representation from ASI's Indigenous People's Advisory Forum (IPAF) is central to "
        "ASI's governance structure and standard setting procedures. This aims to ensure that the "
        "priorities of Indigenous Peoples and other affected communities will be considered "
        "throughout the standards revision process.",
    ),
    (
        "Enhance the value through certification",
        "This revision intends to ensure that ASI certification provides clear and measurable "
        "value to certified Entities, including new categories of claims such as GHG "
        "emissions-related claims and product carbon footprinting, and better support for "
        "Entities' due diligence requirements.",
    ),
    (
        "Improve alignment with other standards",
        "Building on the benchmarking and recognition work already in place: expanded recognition "
        "of key ISO certifications, more cross-recognition of comparable certifications, and "
        "better alignment with regulatory requirements.",
    ),
    (
        "Renew focus on impact",
        "Meeting ASI criteria should be designed to not only 'tick the boxes' for certification, "
        "but also incentivize measurable business changes, which in turn create positive outcomes "
        "for the environment, for workers, and for affected communities.",
    ),
]

PS, COC, CLAIMS = (
    ("Performance Standard", "V3"),
    ("Chain of Custody Standard", "V2"),
    (
        "Claims and assurance framework",
        "",
    ),
)

# Focus areas: a string is an item; a (title, [sub-items]) pair nests.
ASI_GROUPS: list[dict] = [
    {
        "number": 1,
        "name": "Circularity",
        "slug": "circularity",
        "theme": "Circularity",
        "standards": [PS, COC],
        "summary": (
            "Enhancing the integration of circular economy principles and practices throughout "
            "the standards, raising expectations for certified Entities."
        ),
        "scope": (
            "A Circular Economy (CE) is an economic system that adopts a systemic approach to "
            "maintaining circular resource flows. It focuses on recovering, retaining, or "
            "enhancing resource value while delivering services to communities and contributing "
            "to sustainable development (ISO 59004:2024).\n\n"
            "ASI's strategy is to drive practices at the Entity level, through certification "
            "against the Performance and Chain of Custody Standards, that enable or promote "
            "systems change under the principles of Systems Thinking, Value Creation, Value "
            "Sharing, Resource Stewardship, Resource Traceability, and Ecosystem Resilience.\n\n"
            "The Circularity Working Group serves as a sounding board to provide feedback and "
            "considerations into the development of draft revised criteria and guidance. Given "
            "the breadth of circularity-related topics, participants might be split into "
            "subgroups to tackle the up-, mid-, and downstream issues effectively."
        ),
        "focus_areas": [
            (
                "Strengthened criteria for Industrial Users",
                [
                    "Promoting resource efficiency (by delivering more service, with less impact, "
                    "while maximizing material recirculation)",
                    "Promoting eco-design and design for circularity, including design for reuse, "
                    "disassembly and recycling",
                    "Improving value retention (scrap sorting, uni-alloys, enhanced alloy quality)",
                    "Product and service-related footprints, including product design "
                    "requirements for circularity",
                ],
            ),
            "Outcome-based criteria for waste elimination and waste valorisation (by turning "
            "waste streams into secondary resources where feasible)",
            "Criteria focused on reducing pre-consumer scrap generation",
            "Extended Producer Responsibility (EPR): strengthen lifecycle accountability and "
            "recycling systems",
            "Circularity performance: tools to measure circularity performance and close "
            "circularity gaps",
            "Inclusivity in circular practices: support formalisation, due diligence and "
            "collaboration across circular value networks",
        ],
        "subgroups": [
            (1, "Circularity: upstream", "circularity-upstream"),
            (2, "Circularity: midstream", "circularity-midstream"),
            (3, "Circularity: downstream", "circularity-downstream"),
        ],
    },
    {
        "number": 2,
        "name": "Climate Change",
        "slug": "climate-change",
        "theme": "Climate Change",
        "standards": [PS, CLAIMS],
        "summary": (
            "Taking stock of the latest climate science and realistic emissions reduction "
            "actions for a 1.5°C-aligned pathway for the aluminium sector."
        ),
        "scope": (
            "ASI has committed to a 1.5°C-aligned pathway for the aluminium sector. Through "
            "implementation of its Standards and use of the ASI Method to articulate Entity level "
            "pathways, ASI aims to mobilise aluminium sector climate action in line with this "
            "scenario.\n\n"
            "With the aluminium industry having depleted its 1.5°C sectoral emissions budget by a "
            "third between publication of version 3 of the Performance Standard and the proposed "
            "release of version 4, the Climate Change Working Group will take stock of both the "
            "latest climate science and realistic emissions reduction actions, with a focus on "
            "those that ASI can meaningfully influence.\n\n"
            "More broadly, the group could convene discussions on Just Transition, Adaptation, and "
            "Financing decarbonisation."
        ),
        "focus_areas": [
            "Changes to global economy wide emissions reduction slopes (e.g. IEA Net Zero "
            "Emissions Scenario updates), impacts on the sectoral slopes and Entity level "
            "Pathways articulation",
            "Refinements to the ASI Method Sectoral Decarbonisation Approach",
            "Feasibility of 1.5°C pathways via mitigation and/or compensation approaches",
            "Target setting and abatement commitments",
            "Commitments to compensate for unmitigated emission (removals & avoided emissions)",
            "Scope 3 Guidance",
            "Monitoring, reporting & verification of emissions, including public disclosure(s) "
            "and supply chain transparency",
            "Alignment and harmonization with other Standards developments/revisions (e.g. SBTi "
            "Net Zero Standard revision; ISO Net Zero Guidelines; GHG Protocol Corporate "
            "Standards & Guidance and Land Sector & Removals Guidance)",
            "Alignment with regulatory requirements, including border adjustment mechanisms",
            "Intersection with product level accounting & verification (carbon footprinting) and "
            "recycled content methods (within and external to ASI)",
        ],
    },
    {
        "number": 3,
        "name": "Nature",
        "slug": "nature",
        "theme": "Nature",
        "standards": [PS],
        "summary": (
            "Reviewing criteria and guidance on biodiversity and related nature areas, to reverse "
            "nature loss and accelerate progress towards a nature positive 2030 target."
        ),
        "scope": (
            "Current trends in biodiversity and nature loss must be reversed to enable species "
            "and ecosystems recovery, such that they are able to support human and planetary "
            "wellbeing. Global initiatives, including the Global Biodiversity Framework and "
            "ICMM's Nature Position Statement, are setting nature related targets and "
            "commitments.\n\n"
            "Through its standards and certification programme, ASI works with Entities across "
            "the aluminium value chain to reverse trends in biodiversity and nature loss, and to "
            "accelerate progress towards a nature positive 2030 target. The Working Group serves "
            "as a sounding board on the review of existing criteria and guidance on biodiversity "
            "and related nature areas."
        ),
        "focus_areas": [
            "Assessing nature-related dependencies, impacts, risks and opportunities across "
            "biodiversity/ ecosystem services, soil, water, land use, pollution, and related "
            "topics",
            "Managing material impacts on biodiversity/ ecosystem services, soil, water, land use, "
            "pollution and related topics, including incorporating leading practices",
            "Alignment with key nature-related approaches, frameworks and metrics (including "
            "potential outcome-based indicators)",
            "Understanding and application of the biodiversity mitigation hierarchy",
            "Biodiversity risk assessments / environmental impact assessments / cumulative impact "
            "assessments",
            "Intersections with community impacts/ ecosystem services, including Indigenous "
            "Peoples and other land-connected people / social impact assessments",
            "Nature-related impacts of mine closure and rehabilitation",
        ],
    },
    {
        "number": 4,
        "name": "Community Rights and Participation",
        "slug": "community-rights-and-participation",
        "theme": "Human Rights",
        "standards": [PS],
        "summary": (
            "Criteria and guidance on impacts of the aluminium value chain on local communities "
            "and affected populations, including Indigenous Peoples and other land-connected "
            "communities."
        ),
        "scope": (
            "In line with the UN Guiding Principles, the ASI Performance Standard aims to protect "
            "fundamental human rights within the scope of the Entity's own operations as well as "
            "the rights of affected stakeholders such as Indigenous People and other land "
            "connected communities, and in the value chain through the Entity's due diligence "
            "commitments.\n\n"
            "The Working Group covers criteria and guidance related to impacts of the aluminium "
            "value chain on local communities and affected populations, and to upholding "
            "Indigenous Peoples' and land-connected communities' rights and protections. "
            "Although significant focus will be on primary production (mining, refining, "
            "smelting), the scope also considers impacts from mid and downstream Entities.\n\n"
            "Participants are not expected to have expertise in all areas, but should have "
            "experience related to at least a subset of these topic areas."
        ),
        "focus_areas": [
            "Grievance mechanisms",
            "Rights of Indigenous Peoples and other land-connected communities",
            "Free, Prior, and Informed Consent",
            "Other social and environmental impacts on communities, including livelihoods and "
            "ecosystem services",
            "Impacts of mine closure and rehabilitation",
            "Areas of influence and associated facilities",
        ],
    },
    {
        "number": 5,
        "name": "Labour Rights/ Health and Safety",
        "slug": "labour-rights-health-and-safety",
        "theme": "Human Rights",
        "standards": [PS],
        "summary": (
            "Revised criteria and guidance on core labour rights, based on the ILO Fundamental "
            "Principles and Rights at Work, and on occupational health and safety."
        ),
        "scope": (
            "The ASI Performance Standard approach to labour rights is based on the ILO "
            "Fundamental Principles and Rights at Work: freedom of association and the effective "
            "recognition of the right to collective bargaining; the elimination of all forms of "
            "forced or compulsory labour; the effective abolition of child labour; the "
            "elimination of discrimination in respect of employment and occupation; and a safe "
            "and healthy working environment.\n\n"
            "The Working Group reviews revised criteria and guidance related to these core labour "
            "rights and serves as a sounding board to the ASI team and Standards Committee as the "
            "revision draft develops. Participants are not expected to have expertise in all "
            "areas, but should have experience related to at least a subset of these topic areas."
        ),
        "focus_areas": [
            "Freedom of association and the effective recognition of the right to collective "
            "bargaining",
            "The elimination of all forms of forced or compulsory labour",
            "The effective abolition of child labour",
            "The elimination of discrimination in respect of employment and occupation",
            "A safe and healthy working environment",
            "Diversity and inclusion (including gender)",
            "Risk-based approaches to labour rights and impacts",
            "Management of own workers vs contractors and supply chain",
            "Health and Safety Management Systems (including alignment with ISO 45001)",
            "Aluminium-specific health and safety risks, including consideration of psychosocial "
            "risks and long-term illness",
            "Expectations on working hours, including overtime hours",
        ],
    },
    {
        "number": 6,
        "name": "Chain of Custody and Claims",
        "slug": "chain-of-custody-and-claims",
        "theme": "Chain of Custody and Claims",
        "standards": [COC, CLAIMS],
        "summary": (
            "How the mass balance Chain of Custody model might evolve, and new types of claims "
            "such as Product Carbon Footprinting claims."
        ),
        "scope": (
            "As companies respond to increasing requirements around due diligence and supply "
            "chain transparency, standard systems can play a key role to help facilitate "
            "compliance. ASI's current Chain of Custody (CoC) Standard and related Claims Guide "
            "are a major focus of the revision.\n\n"
            "The current mass balance CoC model has largely achieved its initial objectives to "
            "encourage upstream certification, but demand for certified material has remained "
            "low, and it does not deliver on some common downstream priorities such as greater "
            "supply chain transparency/ mapping, low carbon/ product carbon footprint claims "
            "and/or recycled content claims. ASI will explore how the CoC model might evolve, and "
            "options to develop new types of claims, possibly as an approved labelling scheme.\n\n"
            "The Working Group covers both CoC related requirements and the associated claims "
            "that such CoC models can support."
        ),
        "focus_areas": [
            "Objectives and future role of mass balance CoC/ other CoC models",
            "Product related claims (carbon footprinting, recycled content, etc)",
            "Chain of custody/ accounting systems and other objective evidence required to "
            "substantiate such claims",
            "Supply chain mapping/ transparency expectations/ support for due diligence",
        ],
    },
]

# (from, to, what the two groups share), from the "explicit linkages" of each annex section.
ASI_LINKAGES = [
    ("circularity", "nature", "Regeneration and mine closure/rehabilitation."),
    (
        "circularity",
        "climate-change",
        "Recycling practices and the incorporation of recycled content.",
    ),
    (
        "circularity",
        "community-rights-and-participation",
        "The social aspects of the circular economy, including the role of waste pickers.",
    ),
    (
        "circularity",
        "chain-of-custody-and-claims",
        "Digital product passports and circularity claims.",
    ),
    *[
        (
            "climate-change",
            target,
            "Adaptation, just transition, land use change emissions and nature-based "
            "compensation measures.",
        )
        for target in (
            "circularity",
            "nature",
            "community-rights-and-participation",
            "labour-rights-health-and-safety",
            "chain-of-custody-and-claims",
        )
    ],
    *[
        (
            "nature",
            target,
            "Explicit linkage with all other Working Groups (and with the work of the Indigenous "
            "Peoples Advisory Forum).",
        )
        for target in (
            "circularity",
            "climate-change",
            "community-rights-and-participation",
            "labour-rights-health-and-safety",
            "chain-of-custody-and-claims",
        )
    ],
    (
        "community-rights-and-participation",
        "labour-rights-health-and-safety",
        "Cross-cutting content: Human Rights Due Diligence and Labour Rights.",
    ),
    (
        "community-rights-and-participation",
        "nature",
        "Cross-cutting content: Nature, including ecosystem services.",
    ),
    (
        "labour-rights-health-and-safety",
        "community-rights-and-participation",
        "Cross-cutting content: Human Rights Due Diligence and grievance mechanisms.",
    ),
    (
        "chain-of-custody-and-claims",
        "climate-change",
        "Decarbonisation related claims, including product carbon footprinting.",
    ),
]


def asi_phase_1(today: datetime.date) -> dict[str, object]:
    """Phase 1 as the Terms of Reference plan it (nine months, 6-8 meetings), placed around the
    day the demo is loaded: the Terms date it April-December 2025, but a demo loaded on any day
    should have meetings held and meetings to come. It started seven months ago (on the 1st) and
    ends at the end of the month after next."""
    starts_on = _add_months(today.replace(day=1), -7)
    ends_on = _add_months(today.replace(day=1), 3) - datetime.timedelta(days=1)
    return {
        "number": 1,
        "name": "Phase 1",
        "starts_on": starts_on,
        "ends_on": ends_on,
        "meetings_min": 6,
        "meetings_max": 8,
    }


def _add_months(first_of_month: datetime.date, months: int) -> datetime.date:
    index = first_of_month.year * 12 + first_of_month.month - 1 + months
    return datetime.date(index // 12, index % 12 + 1, 1)


DEMO = {
    "name": "Demo Standards Body",
    "short_name": "Demo",
    "slug": "demo",
    "time_zone": "Europe/Berlin",
    "website": "",
    "privacy_policy_url": "",
    "contact_email": "secretariat@demo.example",
}

DEMO_STANDARDS = [("Water Stewardship Standard", "V1", "The first edition of the standard.")]

DEMO_OBJECTIVES = [
    ("Make the criteria measurable", "Every requirement can be verified by an auditor."),
    ("Reduce the burden on small sites", "Proportionate requirements for small operations."),
]

DEMO_GROUPS: list[dict] = [
    {
        "number": 1,
        "name": "Water Stewardship",
        "slug": "water-stewardship",
        "theme": "Water",
        "standards": [("Water Stewardship Standard", "V1")],
        "summary": "Catchment-level water stewardship criteria for sites of every size.",
        "scope": "Criteria on water balance, water quality and shared catchment governance.",
        "focus_areas": [
            "Site water balance and metering",
            "Water quality of discharges",
            "Catchment context and shared water challenges",
        ],
    },
    {
        "number": 2,
        "name": "Traceability",
        "slug": "traceability",
        "theme": "Supply chains",
        "standards": [("Water Stewardship Standard", "V1")],
        "summary": "How certified material is followed through the supply chain.",
        "scope": "Chain of custody models, records and the claims they support.",
        "focus_areas": ["Chain of custody models", "Record keeping", "On-product claims"],
    },
]

DEMO_LINKAGES = [("traceability", "water-stewardship", "Claims about water performance.")]

DEMO_PHASE_1 = {
    "number": 1,
    "name": "Phase 1",
    "starts_on": datetime.date(2026, 3, 1),
    "ends_on": datetime.date(2026, 12, 15),
    "meetings_min": 4,
    "meetings_max": 6,
}
