"""Builds eval/datasets/mmrag-v1.jsonl, the bundled evaluation set (see README.md here).

Cases over the sample knowledge base (examples/kb) are written by hand below; image cases come
from easy-VQA's test split (MIT licence; 64x64 pictures of coloured shapes with questions whose
answers are visible in the picture), sampled with a fixed seed and copied into
corpus/easy-vqa/. Run with easy-vqa installed (pip install easy-vqa) to rebuild; the output is
committed, so evaluating needs nothing extra.
"""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

HERE = Path(__file__).parent
KB = "../../examples/kb"  # relative to this folder, where the JSONL lives
EVQA = "corpus/easy-vqa"

# (question, accepted answers, relevant sources): answers are in the KB's text
TEXT = [
    ("How many days after a trip do I have to submit an expense claim?", ["30 days"],
     ["travel-expense-policy.md"]),
    ("After how many days are expense claims no longer reimbursed?", ["90 days"],
     ["travel-expense-policy.md"]),
    ("Above what amount do I need to attach a receipt?", ["25 euros"],
     ["travel-expense-policy.md"]),
    ("What is the daily meal allowance on a full travel day?", ["45 euros"],
     ["travel-expense-policy.md"]),
    ("How much is the per diem on the day of departure?", ["25 euros"],
     ["travel-expense-policy.md"]),
    ("Which class can I book for a five-hour flight?", ["economy"],
     ["travel-expense-policy.md"]),
    ("Is premium economy allowed on a seven-hour flight?", ["premium economy"],
     ["travel-expense-policy.md"]),
    ("How much may a hotel room cost per night in most cities?", ["160 euros"],
     ["travel-expense-policy.md"]),
    ("What is the hotel limit per night in London?", ["220 euros"],
     ["travel-expense-policy.md"]),
    ("Who approves my expense claim?", ["your manager", "manager"],
     ["travel-expense-policy.md"]),
    ("When are approved expense claims paid out?", ["with the next monthly payroll"],
     ["travel-expense-policy.md"]),
    ("Are traffic and parking fines reimbursed?", ["not reimbursed"],
     ["travel-expense-policy.md"]),
    ("Does the company pay for minibar items?", ["not reimbursed"],
     ["travel-expense-policy.md"]),
    ("Should I take the train for a trip under four hours?", ["trains are preferred"],
     ["travel-expense-policy.md"]),
    ("Where do I book flights and hotels?", ["travel portal"], ["travel-expense-policy.md"]),
    ("How long must passwords be?", ["14 characters"], ["it-security-guidelines.html"]),
    ("Where should I create and store my passwords?", ["password manager"],
     ["it-security-guidelines.html"]),
    ("Which services require multi-factor authentication?",
     ["email, the VPN and every cloud application"], ["it-security-guidelines.html"]),
    ("After how many minutes without use does a company laptop lock?", ["five minutes"],
     ["it-security-guidelines.html"]),
    ("How quickly must a lost laptop be reported?", ["within one hour"],
     ["it-security-guidelines.html"]),
    ("Where can I install software from?", ["software center"],
     ["it-security-guidelines.html"]),
    ("Where do I forward suspicious emails?", ["security@northwind.example"],
     ["it-security-guidelines.html"]),
    ("May I work on public Wi-Fi networks?", ["only with the VPN"],
     ["it-security-guidelines.html"]),
    ("What should I do with an email that asks for gift cards?", ["do not click its links"],
     ["it-security-guidelines.html"]),
    ("When must I connect through the company VPN?", ["outside the office"],
     ["it-security-guidelines.html"]),
    ("Where do I go on my first day?", ["reception of Building B"], ["onboarding-faq.txt"]),
    ("What time should new employees arrive on their first day?", ["9:00"],
     ["onboarding-faq.txt"]),
    ("When do new employees get their laptop?", ["welcome session"], ["onboarding-faq.txt"]),
    ("When is salary paid?", ["25th of every month"], ["onboarding-faq.txt"]),
    ("What happens when payday falls on a weekend?", ["last working day before it"],
     ["onboarding-faq.txt"]),
    ("How many vacation days do full-time employees have?", ["28 vacation days"],
     ["onboarding-faq.txt"]),
    ("How long does the onboarding buddy stay with a new employee?", ["three months"],
     ["onboarding-faq.txt"]),
    ("Where do I find the name of my onboarding buddy?", ["welcome email"],
     ["onboarding-faq.txt"]),
    ("Are vacation days prorated in the first year?", ["prorated"], ["onboarding-faq.txt"]),
    ("What should I do with the temporary password from the welcome email?",
     ["change it immediately"], ["onboarding-faq.txt"]),
    ("What are the campus opening hours?", ["7:00 to 20:00"], ["office-guide.md"]),
    ("When does the cafeteria serve lunch?", ["11:30 to 14:00"], ["office-guide.md"]),
    ("Do employees pay for coffee and tea?", ["free"], ["office-guide.md"]),
    ("Where is the cafeteria?", ["ground floor of Building A"], ["office-guide.md"]),
    ("Which meeting rooms have video conferencing?", ["third floor"], ["office-guide.md"]),
    ("Where do employees park their cars?", ["lot D"], ["office-guide.md"]),
    ("Who may park in lot C?", ["visitors and car-sharing"], ["office-guide.md"]),
    ("Where can I charge my electric bike?", ["bike shelter next to lot C"],
     ["office-guide.md"]),
    ("What is the name of the campus cat?", ["Chelsea"], ["office-guide.md"]),
    ("May I feed the office cat?", ["do not feed her"], ["office-guide.md"]),
    ("How do I get access to the campus after hours?", ["your manager can request"],
     ["office-guide.md"]),
    ("Who was the guest speaker of the 2026 outreach program?", ["former NASA astronaut"],
     ["outreach-program.md"]),
    ("How many students heard the astronaut's talk?", ["300 students"],
     ["outreach-program.md"]),
    ("Which rocket launch was streamed at the launch-viewing evening?", ["Falcon 9"],
     ["outreach-program.md"]),
    ("How many days of volunteering per year count as working time?", ["two days"],
     ["outreach-program.md"]),
]

# answers that are only in the text inside an image (needs OCR or a vision model)
IMAGE_TEXT = [
    ("What is the guest Wi-Fi password?", ["BlueHarbor2026"], ["images/guest-wifi-sign.png"]),
    ("What is the name of the guest Wi-Fi network?", ["NorthwindGuest"],
     ["images/guest-wifi-sign.png"]),
    ("How long is guest Wi-Fi access valid?", ["24 hours"], ["images/guest-wifi-sign.png"]),
    ("What does VPN error 809 mean?",
     ["the network connection between your computer and the VPN server could not be "
      "established"], ["images/vpn-error-809.png"]),
    ("What is the extension of the IT helpdesk?", ["4357"], ["images/vpn-error-809.png"]),
    ("Where is the evacuation assembly point?", ["parking lot C"],
     ["images/fire-evacuation-slide.png"]),
    ("When are the fire drills?", ["first Tuesday of March and September"],
     ["images/fire-evacuation-slide.png"]),
    ("What do floor wardens wear?", ["orange vests"], ["images/fire-evacuation-slide.png"]),
    ("May I use the lifts during a fire evacuation?", ["do not use the lifts"],
     ["images/fire-evacuation-slide.png"]),
    ("What was Northwind Labs' revenue in Q3 2026?", ["4.2"], ["images/q3-revenue-chart.png"]),
    ("What is the revenue forecast for Q4 2026?", ["4.8"], ["images/q3-revenue-chart.png"]),
    ("What was the revenue in the first quarter of 2026?", ["3.1"],
     ["images/q3-revenue-chart.png"]),
]

# the picture itself is the answer: text-to-image retrieval
PHOTO = [
    ("Show me a photo of the office cat", ["images/office-cat-chelsea.jpg"]),
    ("Is there a picture of a rocket launch?", ["images/rocket-launch.jpg"]),
    ("a portrait of an astronaut", ["images/astronaut.jpg"]),
    ("a picture of a cup of coffee", ["images/espresso.jpg"]),
    ("the quarterly revenue bar chart", ["images/q3-revenue-chart.png"]),
    ("a screenshot of an error message", ["images/vpn-error-809.png"]),
]

# a picture and a question that needs both it and the text
MIXED = [
    ("images/vpn-error-809.png", "Who do I contact about this error?", ["4357", "helpdesk"],
     ["images/vpn-error-809.png"]),
    ("images/vpn-error-809.png", "I get this when I connect from a hotel. Is public Wi-Fi "
     "allowed?", ["only with the VPN"], ["images/vpn-error-809.png",
                                         "it-security-guidelines.html"]),
    ("images/guest-wifi-sign.png", "Can visitors use this network?", ["visitors"],
     ["images/guest-wifi-sign.png"]),
    ("images/espresso.jpg", "Where can I get one of these and what does it cost?",
     ["free"], ["images/espresso.jpg", "office-guide.md"]),
    ("images/espresso.jpg", "Is the bar that serves this open all day?", ["open all day"],
     ["images/espresso.jpg", "office-guide.md"]),
    ("images/office-cat-chelsea.jpg", "What is this cat's name?", ["Chelsea"],
     ["images/office-cat-chelsea.jpg", "office-guide.md"]),
    ("images/office-cat-chelsea.jpg", "Where is she usually found?", ["reception of Building B"],
     ["images/office-cat-chelsea.jpg", "office-guide.md"]),
    ("images/rocket-launch.jpg", "At which company event was this launch shown?",
     ["launch-viewing evening"], ["images/rocket-launch.jpg", "outreach-program.md"]),
    ("images/astronaut.jpg", "Why was this portrait on the invitation?",
     ["guest speaker", "astronaut"], ["images/astronaut.jpg", "outreach-program.md"]),
    ("images/astronaut.jpg", "How many students came to her talk?", ["300"],
     ["images/astronaut.jpg", "outreach-program.md"]),
    ("images/fire-evacuation-slide.png", "Where do I go when this happens?", ["parking lot C"],
     ["images/fire-evacuation-slide.png"]),
    ("images/q3-revenue-chart.png", "What was the figure for Q2?", ["3.6"],
     ["images/q3-revenue-chart.png"]),
    ("images/q3-revenue-chart.png", "Which quarter is only a forecast?", ["Q4"],
     ["images/q3-revenue-chart.png"]),
    ("images/guest-wifi-sign.png", "Do I need the VPN on this network?", ["VPN"],
     ["images/guest-wifi-sign.png", "it-security-guidelines.html"]),
]

# the true text of the rendered images (examples/make_images.py), for OCR error rates
OCR = [
    ("images/guest-wifi-sign.png", "Guest Wi-Fi\nNetwork: NorthwindGuest\n"
     "Password: BlueHarbor2026\nValid for visitors, 24 hours"),
    ("images/vpn-error-809.png", "VPN connection failed\nError 809: The network connection "
     "between your\ncomputer and the VPN server could not be established.\nCheck that you "
     "are connected to the internet, then\ncontact the IT helpdesk at extension 4357.\nOK"),
    ("images/fire-evacuation-slide.png", "Fire safety: evacuation\n\u2022 Leave by the "
     "nearest marked exit; do not use the lifts.\n\u2022 Assembly point: parking lot C, "
     "next to the bike shelter.\n\u2022 Floor wardens wear orange vests and count their "
     "teams.\n\u2022 Fire drill: first Tuesday of March and September."),
    ("images/q3-revenue-chart.png", "Northwind Labs quarterly revenue 2026 (EUR million)\n"
     "4.8\n4.2\n3.6\n3.1\nQ1 Q2 Q3 Q4 forecast"),
]

UNANSWERABLE = [
    "Who won the 1998 football world cup?", "What is the capital of Australia?",
    "What is the parental leave policy?", "How much does the company pay towards gym "
    "memberships?", "What is the CEO's name?", "How many employees does Northwind Labs have?",
    "What is the company's share price?", "When is the Christmas party?",
    "What is the dress code?", "What is the mileage rate for using a private car?",
    "How do I request a second monitor?", "How does the company pension plan work?",
    "Which programming languages do our engineers use?", "How tall is Mount Everest?",
    "What is a good recipe for pancakes?", "Who painted the Mona Lisa?",
    "At what temperature does water boil at sea level?", "When was Northwind Labs founded?",
    "How many weeks of maternity leave are there?", "What is the sick leave policy?",
    "Is there a company car policy?", "How many meeting rooms are on the campus?",
    "What is the employee Wi-Fi password?", "Can I bring my dog to the office?",
    "What is the budget for team offsites?",
]


def main(n_vqa: int = 50, seed: int = 7) -> None:
    cases: list[dict] = []

    def add(prefix: str, **case: object) -> None:
        cases.append({"id": f"{prefix}-{sum(c['id'].startswith(prefix) for c in cases) + 1:03d}",
                      **case})

    for q, answers, rel in TEXT:
        add("text", question=q, answers=answers, relevant=rel, modality="text", corpus=KB)
    for q, answers, rel in IMAGE_TEXT:
        add("imgtext", question=q, answers=answers, relevant=rel, modality="image", corpus=KB)
    for q, rel in PHOTO:
        add("photo", question=q, relevant=rel, modality="image", corpus=KB)
    for image, q, answers, rel in MIXED:
        add("mixed", question=q, image=f"{KB}/{image}", answers=answers, relevant=rel,
            modality="mixed", corpus=KB)
    for image, truth in OCR:
        add("ocr", question="What does the text in this picture say?", image=f"{KB}/{image}",
            relevant=[image], modality="image", corpus=KB, ocr_text=truth)
    for q in UNANSWERABLE:
        add("none", question=q, answers=[], relevant=[], modality="text", corpus=KB,
            unanswerable=True)

    import easy_vqa

    root = Path(easy_vqa.__file__).parent / "data" / "test"
    questions = json.loads((root / "questions.json").read_text())
    by_image: dict[int, list] = {}
    for q, a, image_id in questions:
        if a not in ("yes", "no"):  # the answer names a shape or colour seen in the picture
            by_image.setdefault(image_id, []).append((q, a))
    rng = random.Random(seed)
    out = HERE / EVQA
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    for image_id in sorted(rng.sample(sorted(by_image), n_vqa)):
        q, a = rng.choice(by_image[image_id])
        name = f"evqa-{image_id}.png"
        shutil.copy(root / "images" / f"{image_id}.png", out / name)
        add("vqa", question=q, image=f"{EVQA}/{name}", answers=[a], relevant=[name],
            modality="image", corpus=EVQA)

    with open(HERE / "mmrag-v1.jsonl", "w") as f:
        for case in cases:
            f.write(json.dumps(case) + "\n")
    counts: dict[str, int] = {}
    for c in cases:
        key = "unanswerable" if c.get("unanswerable") else str(c["modality"])
        counts[key] = counts.get(key, 0) + 1
    print(f"wrote {len(cases)} cases: {counts}")


if __name__ == "__main__":
    main()
