"""The adversarial suite: attacks a dishonest clinic, its rivals or a review ring would
try, played against the real services (accounts, testimonials, photos, reports,
moderation, scores). For each attack:

- flagged: the signals a moderator sees on the attack's items (each attack must
  raise at least one signal that names it);
- rank change before moderation: every clinic's rank after the attack, with the
  daily recompute run, compared with before (must be 0 for every clinic);
- rank change if all published: a careless moderator publishes every pending
  testimonial and upholds every report; the target clinic's move (+ = up).

Run `pytest tests/adversarial -q -rA` (or with -s) to see the table at the end.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from directory.extensions import db
from directory.models import Clinic, Review
from directory.services import NotAllowed, scores
from tests.adversarial import world as W


@dataclass
class Attack:
    target: int  # the clinic whose rank the attack tries to move
    reviews: list[int]
    reports: list[int]
    names: set[str]  # signals that name this attack; at least one must be raised
    note: str = ""


def mid(w):
    return w.ranking()[len(w.clinic_ids) // 2 + 2]  # a clinic below the middle


def top(w):
    return w.ranking()[0]


def ring_of_3(w):
    target = mid(w)
    ids = []
    for i in range(3):
        where = w.origin()
        u = w.register(f"happy.client.{'xyz'[i]}q@mail.example", where)
        ids.append(
            w.review(target, u, where, overall=5, text=W.GENUINE[i] + " Best studio in town.").id
        )
    return Attack(target, ids, [], {"burst", "account_age"})


def ring_of_10_one_device(w):
    target = mid(w)
    ids = []
    for i in range(10):
        where = w.origin(address=f"100.64.{i}.9", device="the-attackers-phone")
        u = w.register(f"client.{chr(97 + i)}{chr(107 + i)}v@mail{i}.example", where)
        ids.append(w.review(target, u, where, overall=5, text=W.GENUINE[i % 6] + " Superb.").id)
    return Attack(target, ids, [], {"shared_origin", "linked_accounts", "burst"})


def insider_free_mail(w):
    target = mid(w)
    idx = w.clinic_ids.index(target)
    where = w.origin(address=f"203.0.{113 - idx}.77")  # the clinic's office network
    u = w.register("sam.receptionist.qz@freemail.example", where)
    rid = w.review(target, u, where, overall=5, text=W.PRAISE).id
    return Attack(target, [rid], [], {"shared_origin"}, "one testimonial")


def copy_paste_with_edits(w):
    target = mid(w)
    source = (
        db.session.execute(db.select(Review).where(Review.clinic_id == top(w)).order_by(Review.id))
        .scalars()
        .first()
    )
    words = source.text.split()
    ids = []
    for k in range(3):
        edited = " ".join(("really" if (i + k) % 6 == 0 else w_) for i, w_ in enumerate(words))
        sentences = edited.split(". ")
        where = w.origin()
        u = w.register(f"copy.writer.{'abc'[k]}p@mail.example", where)
        text = ". ".join(reversed(sentences)) + " Five stars."
        ids.append(w.review(target, u, where, overall=5, text=text).id)
    return Attack(target, ids, [], {"near_duplicate"})


def stolen_photo_mirrored_cropped(w):
    target = mid(w)
    _, im = W.published_photo_of(w, top(w))
    where = w.origin()
    u = w.register("photo.thief.mx@mail.example", where, days_old=40)
    rid = w.review(
        target, u, where, overall=5, text=W.GENUINE[4], photos=[W.mirrored_and_cropped(im)]
    ).id
    return Attack(target, [rid], [], {"photo_match"}, "mirrored and cropped 6 %")


def stolen_photo_edited(w):
    target = mid(w)
    _, im = W.published_photo_of(w, top(w), seed=5)
    edited = im.point(lambda v: min(255, int(v * 1.12))).resize((240, 240))
    where = w.origin()
    u = w.register("photo.editor.mx@mail.example", where, days_old=40)
    rid = w.review(
        target, u, where, overall=5, text=W.GENUINE[1], photos=[W.jpeg(edited, quality=70)]
    ).id
    return Attack(target, [rid], [], {"photo_match"}, "brighter, smaller, re-encoded")


def report_flood(w):
    target = top(w)
    victims = (
        db.session.execute(
            db.select(Review.id).where(Review.clinic_id == target, Review.status == "published")
        )
        .scalars()
        .all()
    )
    refused = 0
    for i in range(4):
        where = w.origin()
        u = w.register(f"unconfirmed.{chr(97 + i)}r@mail.example", where, verified=False)
        try:
            w.report(u, victims[0], where)
        except NotAllowed:
            refused += 1
    assert refused == 4  # unconfirmed accounts cannot report
    ids = []
    for i, victim in enumerate(victims[:12]):
        where = w.origin(address=f"100.65.7.{i + 2}")  # one network, several addresses
        u = w.register(f"reporter.{chr(97 + i)}{chr(100 + i)}s@mail.example", where)
        ids.append(w.report(u, victim, where).id)  # each hides a testimonial at once
    return Attack(
        target,
        [],
        ids,
        {"reporter_new_account", "reporter_many_reports_on_clinic", "reporter_linked_accounts"},
        f"{len(ids)} reports hiding every testimonial; 4 unconfirmed refused",
    )


def review_bombing(w):
    target = top(w)
    ids = []
    for i in range(8):
        where = w.origin()
        u = w.register(f"angry.{chr(97 + i)}{chr(110 + i)}b@mail.example", where)
        ids.append(w.review(target, u, where, overall=1, text=W.BOMB + f" ({i})").id)
    return Attack(target, ids, [], {"burst", "near_duplicate", "uniform_extreme"})


def praise_one_run_down_rivals(w):
    target = mid(w)
    rivals = [c for c in w.ranking()[:3] if c != target]
    ids = []
    for i in range(4):
        where = w.origin(address=f"100.66.{i}.5", device="one-persons-laptop")
        u = w.register(f"local.guide.{chr(97 + i)}g@mail{i}.example", where, days_old=60)
        ids.append(w.review(target, u, where, overall=5, text=W.GENUINE[i] + " Great.").id)
        ids.append(w.review(rivals[i % 2], u, where, overall=1, text=W.BOMB + f" Rival {i}.").id)
    return Attack(target, ids, [], {"rivals", "linked_accounts", "shared_origin"})


def single_review_unrated_clinic(w):
    clinic = db.session.execute(db.select(Clinic).where(Clinic.slug == "studio-new")).scalar_one()
    where = w.origin()
    u = w.register("first.fan.nf@mail.example", where)
    rid = w.review(
        clinic.id,
        u,
        where,
        overall=5,
        text=W.GENUINE[2],
        photos=[W.jpeg(W.demo_images.after(W.random.Random(99), 2, "black", 5, 12))],
    ).id
    return Attack(clinic.id, [rid], [], {"account_age"}, "one 5-star with an original photo")


def owner_sockpuppet(w):
    target = mid(w)
    idx = w.clinic_ids.index(target)
    where = w.origin(address="100.67.1.1", device=f"owner-device-{idx}")  # the owner's laptop
    u = w.register("not.the.owner.op@mail.example", where, days_old=90)
    rid = w.review(target, u, where, overall=5, text=W.PRAISE + " Honest.").id
    return Attack(target, [rid], [], {"shared_origin"}, "owner's own device")


def email_pattern_ring(w):
    target = mid(w)
    ids = []
    for i in range(5):
        where = w.origin()
        u = w.register(f"john.smith{i + 1}@freemail.example", where)
        ids.append(w.review(target, u, where, overall=5, text=W.GENUINE[i] + " Lovely.").id)
    return Attack(target, ids, [], {"linked_accounts", "burst"})


ATTACKS = {
    "ring of 3 new accounts": ring_of_3,
    "ring of 10 on one device": ring_of_10_one_device,
    "insider, free mail, office network": insider_free_mail,
    "copy-paste with 1 word in 6 edited": copy_paste_with_edits,
    "stolen photo, mirrored + cropped": stolen_photo_mirrored_cropped,
    "stolen photo, edited": stolen_photo_edited,
    "report flood on the top clinic": report_flood,
    "review bombing of the top clinic": review_bombing,
    "one person praises one, runs down rivals": praise_one_run_down_rivals,
    "single 5-star for an unrated clinic": single_review_unrated_clinic,
    "owner's sock puppet": owner_sockpuppet,
    "e-mail pattern ring (john.smith1..5)": email_pattern_ring,
}


@pytest.mark.parametrize("name", list(ATTACKS))
def test_attack(app, name, record_property):
    w = W.build(app)
    with app.app_context():
        before = w.ranking()
        attack = ATTACKS[name](w)
        db.session.commit()
        scores.recompute_all()  # the daily job: still nothing may move
        db.session.commit()
        after = w.ranking()
        flags = w.review_flags(attack.reviews) | w.report_flags(attack.reports)
        rank_before = before.index(attack.target) + 1 if attack.target in before else None
        w.publish_all(attack.reviews, attack.reports)
        scores.recompute_all()
        db.session.commit()
        rank_published = w.rank(attack.target)
        score = db.session.get(Clinic, attack.target).quality_score
        median = scores.established_median()
    moved = sum(1 for a, b in zip(before, after, strict=False) if a != b)
    named = sorted(flags & attack.names)
    record_property(
        "attack_row",
        {
            "attack": name,
            "flagged": ", ".join(named) or "NOT FLAGGED",
            "before_moderation": 0 if after == before else f"{moved} clinics moved",
            "if_published": (rank_before - rank_published) if rank_before else "n/a",
            "note": attack.note,
        },
    )
    assert after == before, "an unmoderated action changed the ranking"
    assert named, f"no signal names the attack; raised: {sorted(flags)}"
    if name == "single 5-star for an unrated clinic":
        assert score <= median  # provisional: never above the established median
    elif attack.reviews and name not in (
        "report flood on the top clinic",
        "review bombing of the top clinic",
    ):
        # Damage bounded: no boosting attack lifts its target by more than 3 places.
        assert rank_before - rank_published <= 3
