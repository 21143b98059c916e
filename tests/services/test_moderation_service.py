"""Moderators' decisions through services.moderation and reports."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from directory import quality
from directory.extensions import db
from directory.models import (
    Appeal,
    AuditRowImmutable,
    Clinic,
    ModerationDecision,
    Practitioner,
    Review,
    User,
)
from directory.services import (
    Invalid,
    InvalidState,
    NotAllowed,
    NotFound,
    accounts,
    moderation,
    pagedata,
    reports,
    scores,
    signals,
)
from directory.services import reviews as svc
from tests.factories import ClinicFactory, ReviewFactory, UserFactory, image_bytes
from tests.reviews_helpers import GOOD_TEXT, make_world, months_ago
from tests.web._mail import messages


@pytest.fixture
def world(app):
    return make_world(app)


def u(i):
    return db.session.get(User, i)


def submit(world, author_id=None, **over):
    base = dict(
        treatment_type="full_scalp",
        sessions=3,
        last_session_month=months_ago(8),
        overall=5,
        text=GOOD_TEXT,
        ratings={"realism": 5},
        practitioner_id=world.practitioner_id,
    )
    base.update(over)
    clinic = db.session.get(Clinic, world.clinic_id)
    photos = base.pop("photos", None)
    r = svc.submit(
        clinic,
        by=u(author_id or world.author_id),
        data=svc.ReviewInput(**base),
        photos=photos,
        consent=bool(photos),
        origin="o1",
    )
    db.session.commit()
    return r


def decisions():
    return (
        db.session.execute(select(ModerationDecision).order_by(ModerationDecision.id))
        .scalars()
        .all()
    )


def test_publish_makes_review_and_consented_photos_public_and_scores_at_once(app, world):
    with app.app_context():
        r = submit(world, photos=[image_bytes(seed=1)])
        moderation.decide(
            r,
            "publish",
            by=u(world.moderator_id),
            reason_code="meets_guidelines",
            statement="First-hand, on topic.",
        )
        db.session.commit()
        clinic = db.session.get(Clinic, world.clinic_id)
        assert r.status == "published" and r.published_at is not None
        assert [p.status for p in r.photos] == ["published"]
        expected = quality.explain([scores.facts_for(r)], datetime.now(UTC)).score
        assert clinic.quality_score == pytest.approx(expected, abs=1e-3)
        assert clinic.review_count == 1
        assert db.session.get(Practitioner, world.practitioner_id).review_count == 1
        d = decisions()[-1]
        assert (d.action, d.previous_status, d.new_status, d.subject_user_id, d.clinic_id) == (
            "publish",
            "pending",
            "published",
            world.author_id,
            world.clinic_id,
        )
        assert d.moderator_id == world.moderator_id and d.item_submitted_at is not None
        msg = messages(app)[-1]
        assert msg["To"] == "author@mail.test"
        body = msg.get_content()
        assert "Meets our guidelines" in body and "First-hand, on topic." in body


def test_reject_tells_author_how_to_appeal_and_keeps_score(app, world):
    with app.app_context():
        r = submit(world, photos=[image_bytes(seed=2)])
        moderation.decide(
            r,
            "reject",
            by=u(world.moderator_id),
            reason_code="off_topic",
            statement="Not about SMP work at all.",
        )
        db.session.commit()
        assert r.status == "rejected" and r.photos[0].status == "rejected"
        assert db.session.get(Clinic, world.clinic_id).quality_score is None
        body = messages(app)[-1].get_content()
        assert "appeal" in body and "not an automated system" in body
        # The reason in plain words, never the internal code.
        assert "Not about this clinic's SMP work" in body and "off_topic" not in body


def test_verify_needs_proof_and_raises_weight(app, world):
    with app.app_context():
        r = submit(world)
        mod = u(world.moderator_id)
        with pytest.raises(Invalid, match="proof"):
            moderation.decide(
                r,
                "verify",
                by=mod,
                reason_code="verified_proof",
                statement="Invoice checked by me.",
            )
        moderation.decide(
            r, "publish", by=mod, reason_code="meets_guidelines", statement="First-hand, on topic."
        )
        before = db.session.get(Clinic, world.clinic_id).effective_weight
        moderation.decide(
            r,
            "verify",
            by=mod,
            reason_code="verified_proof",
            statement="Proof matches the clinic.",
            proof="Invoice 2025-114",
        )
        db.session.commit()
        clinic = db.session.get(Clinic, world.clinic_id)
        assert r.verified_at is not None and r.verification_note == "Invoice 2025-114"
        assert clinic.verified_count == 1 and clinic.effective_weight > before
        assert "Invoice 2025-114" in decisions()[-1].statement
        with pytest.raises(InvalidState):
            moderation.decide(
                r,
                "verify",
                by=mod,
                reason_code="verified_proof",
                statement="Proof matches the clinic.",
                proof="again",
            )


def test_remove_published_review_recomputes(app, world):
    with app.app_context():
        r = submit(world)
        mod = u(world.moderator_id)
        moderation.decide(
            r, "publish", by=mod, reason_code="meets_guidelines", statement="First-hand, on topic."
        )
        moderation.decide(
            r, "remove", by=mod, reason_code="spam", statement="Advertising for another studio."
        )
        db.session.commit()
        assert db.session.get(Clinic, world.clinic_id).quality_score is None


@pytest.mark.parametrize(
    "status,action",
    [
        ("published", "publish"),
        ("published", "reject"),
        ("pending", "remove"),
        ("rejected", "publish"),
    ],
)
def test_decisions_from_the_wrong_state_are_refused(app, world, status, action):
    with app.app_context():
        r = submit(world)
        r.status = status
        db.session.commit()
        with pytest.raises(InvalidState):
            moderation.decide(
                r,
                action,
                by=u(world.moderator_id),
                reason_code="meets_guidelines",
                statement="Looks fine to me.",
            )


@pytest.mark.parametrize(
    "reason,statement", [("nonsense", "A long enough statement."), ("spam", "short")]
)
def test_bad_reason_or_statement_refused(app, world, reason, statement):
    with app.app_context():
        r = submit(world)
        with pytest.raises(Invalid):
            moderation.decide(
                r, "reject", by=u(world.moderator_id), reason_code=reason, statement=statement
            )
        db.session.rollback()
        assert db.session.get(Review, r.id).status == "pending" and decisions() == []


def test_moderator_cannot_decide_own_review_or_own_clinic(app, world):
    with app.app_context():
        mod = u(world.moderator_id)
        # A moderator's own testimonial of another clinic.
        other_clinic = ClinicFactory()
        own = ReviewFactory(author=mod, clinic=other_clinic, status="pending")
        with pytest.raises(NotAllowed, match="own item"):
            moderation.decide(
                own,
                "publish",
                by=mod,
                reason_code="meets_guidelines",
                statement="Looks fine to me.",
            )
        owned = ClinicFactory(owner=mod)
        r = ReviewFactory(clinic=owned, status="pending")
        with pytest.raises(NotAllowed, match="clinic you own"):
            moderation.decide(
                r, "publish", by=mod, reason_code="meets_guidelines", statement="Looks fine to me."
            )
        consumer = u(world.other_id)
        with pytest.raises(NotAllowed):
            moderation.decide(
                r,
                "publish",
                by=consumer,
                reason_code="meets_guidelines",
                statement="Looks fine to me.",
            )
        db.session.rollback()
        assert decisions() == []


def test_audit_rows_cannot_be_changed(app, world):
    with app.app_context():
        r = submit(world)
        moderation.decide(
            r,
            "publish",
            by=u(world.moderator_id),
            reason_code="meets_guidelines",
            statement="First-hand, on topic.",
        )
        db.session.commit()
        d = decisions()[0]
        d.statement = "rewritten"
        with pytest.raises(AuditRowImmutable):
            db.session.commit()


def test_followup_publish_changes_healing_in_score(app, world):
    with app.app_context():
        mod = u(world.moderator_id)
        r = submit(world, overall=4, ratings={"realism": 4})
        moderation.decide(
            r, "publish", by=mod, reason_code="meets_guidelines", statement="First-hand, on topic."
        )
        db.session.commit()
        before = db.session.get(Clinic, world.clinic_id).quality_score
        fu = svc.add_followup(
            r,
            by=u(world.author_id),
            text="Two years on it has faded badly.",
            healing=1,
            needed_correction=True,
        )
        db.session.commit()
        assert db.session.get(Clinic, world.clinic_id).quality_score == before
        moderation.decide(
            fu, "publish", by=mod, reason_code="meets_guidelines", statement="An honest update."
        )
        db.session.commit()
        clinic = db.session.get(Clinic, world.clinic_id)
        assert clinic.quality_score < before and clinic.correction_count == 1
        d = decisions()[-1]
        assert d.item_type == "followup" and d.subject_user_id == world.author_id
        with pytest.raises(InvalidState):
            moderation.decide(
                fu, "reject", by=mod, reason_code="spam", statement="Not a real update."
            )
        moderation.decide(fu, "remove", by=mod, reason_code="spam", statement="Not a real update.")
        db.session.commit()
        assert db.session.get(Clinic, world.clinic_id).quality_score == pytest.approx(before)


def test_photo_queue_decisions(app, world):
    with app.app_context():
        mod = u(world.moderator_id)
        r = submit(world, photos=[image_bytes(seed=5)])
        photo = r.photos[0]
        with pytest.raises(InvalidState, match="testimonial first"):
            moderation.decide(
                photo, "publish", by=mod, reason_code="meets_guidelines", statement="A fine photo."
            )
        moderation.decide(
            r, "publish", by=mod, reason_code="meets_guidelines", statement="First-hand, on topic."
        )
        db.session.commit()
        weight_with = db.session.get(Clinic, world.clinic_id).effective_weight
        moderation.decide(
            photo,
            "reject",
            by=mod,
            reason_code="stolen_photo",
            statement="A stock image from a catalogue.",
        )
        db.session.commit()
        assert photo.status == "removed"
        assert db.session.get(Clinic, world.clinic_id).effective_weight < weight_with
        with pytest.raises(NotAllowed):
            moderation.decide(
                photo,
                "publish",
                by=u(world.author_id),
                reason_code="meets_guidelines",
                statement="A fine photo.",
            )


def test_similar_photo_signal(app, world):
    with app.app_context():
        img = image_bytes(seed=9, size=(200, 160))
        first = submit(world, photos=[img])
        second = submit(world, author_id=world.other_id, photos=[img])
        sigs = {s.key: s for s in signals.for_queue([second])[second.id]}
        assert sigs["photo_match"].flag and "matches" in sigs["photo_match"].detail
        assert moderation.photo_matches(second.photos[0])[0].id == first.photos[0].id


def test_signals_shared_origin_with_owner_and_other_reviewers(app, world):
    with app.app_context():
        u(world.owner_id).signup_origin = "o1"
        submit(world)
        second = submit(world, author_id=world.other_id)
        sigs = {s.key: s for s in signals.for_queue([second])[second.id]}
        assert sigs["shared_origin"].flag
        assert "1 other reviewer" in sigs["shared_origin"].detail
        assert "owner" in sigs["shared_origin"].detail
        assert sigs["near_duplicate"].flag


# --- reports -----------------------------------------------------------------------------


def published(world):
    r = submit(world)
    moderation.decide(
        r,
        "publish",
        by=u(world.moderator_id),
        reason_code="meets_guidelines",
        statement="First-hand, on topic.",
    )
    db.session.commit()
    return r


def test_report_keeps_item_visible_unless_hiding_reason(app, world):
    with app.app_context():
        r = published(world)
        reporter = u(world.other_id)
        reports.file("review", r.id, by=reporter, reason="fake", text="Never went there.")
        db.session.commit()
        assert r.is_public and db.session.get(Clinic, world.clinic_id).review_count == 1
        with pytest.raises(InvalidState):
            reports.file("review", r.id, by=reporter, reason="fake")
        db.session.rollback()
        reports.file("review", r.id, by=UserFactory(), reason="personal_data")
        db.session.commit()
        assert r.hidden_pending_report and not r.is_public
        # Hidden while examined, but still counted: no report changes a score by itself.
        assert db.session.get(Clinic, world.clinic_id).quality_score is not None


def test_report_refusals(app, world):
    with app.app_context():
        pending = submit(world)
        with pytest.raises(NotFound):
            reports.file("review", pending.id, by=u(world.other_id), reason="fake")
        with pytest.raises(NotFound):
            reports.file("review", 9999, by=u(world.other_id), reason="fake")
        with pytest.raises(NotFound):
            reports.file("clinic", 1, by=u(world.other_id), reason="fake")
        r = ReviewFactory(clinic=db.session.get(Clinic, world.clinic_id))
        with pytest.raises(Invalid):
            reports.file("review", r.id, by=u(world.other_id), reason="boring")
        with pytest.raises(NotAllowed):
            reports.file("review", r.id, by=r.author, reason="fake")


def test_uphold_removes_and_tells_author_dismiss_restores_visibility(app, world):
    with app.app_context():
        r = published(world)
        rep = reports.file("review", r.id, by=u(world.other_id), reason="illegal")
        db.session.commit()
        assert not r.is_public
        moderation.decide(
            rep,
            "keep",
            by=u(world.moderator_id),
            reason_code="meets_guidelines",
            statement="Nothing illegal here.",
        )
        db.session.commit()
        assert r.is_public and rep.status == "dismissed"
        assert db.session.get(Clinic, world.clinic_id).review_count == 1
        rep2 = reports.file("review", r.id, by=UserFactory(), reason="fake")
        db.session.commit()
        moderation.decide(
            rep2,
            "remove",
            by=u(world.moderator_id),
            reason_code="not_first_hand",
            statement="The author admits it.",
        )
        db.session.commit()
        assert r.status == "removed" and rep2.status == "upheld"
        assert db.session.get(Clinic, world.clinic_id).quality_score is None
        to_author = [m for m in messages(app) if m["To"] == "author@mail.test"][-1].get_content()
        assert "Not a first-hand experience" in to_author and "not_first_hand" not in to_author
        with pytest.raises(InvalidState):
            moderation.decide(
                rep2,
                "remove",
                by=u(world.moderator_id),
                reason_code="spam",
                statement="Decided again here.",
            )


def test_moderator_cannot_decide_own_report(app, world):
    with app.app_context():
        r = published(world)
        rep = reports.file("review", r.id, by=u(world.moderator2_id), reason="fake")
        db.session.commit()
        with pytest.raises(NotAllowed):
            moderation.decide(
                rep,
                "remove",
                by=u(world.moderator2_id),
                reason_code="spam",
                statement="I reported this myself.",
            )


def test_reports_by_a_clinic_owner_are_counted_per_clinic(app, world):
    with app.app_context():
        rival_owner = UserFactory(role="clinic_owner")
        rival = ClinicFactory(owner=rival_owner)
        r = published(world)
        rep = reports.file("review", r.id, by=rival_owner, reason="fake")
        db.session.commit()
        assert rep.by_clinic_id == rival.id
        assert pagedata.public_clinic(rival.slug).report_counts == (1, 0)
        moderation.decide(
            rep,
            "remove",
            by=u(world.moderator_id),
            reason_code="not_first_hand",
            statement="Confirmed fake review.",
        )
        db.session.commit()
        assert pagedata.public_clinic(rival.slug).report_counts == (1, 1)
        own = db.session.get(Clinic, world.clinic_id)
        assert pagedata.public_clinic(own.slug).report_counts == (0, 0)


# --- appeals -----------------------------------------------------------------------------


def rejected(world):
    r = submit(world)
    moderation.decide(
        r,
        "reject",
        by=u(world.moderator_id),
        reason_code="not_first_hand",
        statement="Reads like an advert.",
    )
    db.session.commit()
    return r


def test_appeal_once_by_author_decided_by_another_moderator_restores(app, world):
    with app.app_context():
        r = rejected(world)
        with pytest.raises(NotAllowed):
            moderation.file_appeal("review", r.id, by=u(world.other_id), text="I was there, truly.")
        with pytest.raises(Invalid):
            moderation.file_appeal("review", r.id, by=u(world.author_id), text="no")
        appeal = moderation.file_appeal(
            "review", r.id, by=u(world.author_id), text="I was treated there; here is my booking."
        )
        db.session.commit()
        with pytest.raises(InvalidState, match="once"):
            moderation.file_appeal(
                "review", r.id, by=u(world.author_id), text="A second try at the appeal."
            )
        db.session.rollback()
        with pytest.raises(NotAllowed, match="different moderator"):
            moderation.decide(
                appeal,
                "uphold",
                by=u(world.moderator_id),
                reason_code="meets_guidelines",
                statement="I was wrong then.",
            )
        moderation.decide(
            appeal,
            "uphold",
            by=u(world.moderator2_id),
            reason_code="meets_guidelines",
            statement="Booking confirms it.",
        )
        db.session.commit()
        assert r.status == "published" and appeal.status == "upheld"
        assert db.session.get(Clinic, world.clinic_id).review_count == 1
        d = decisions()[-1]
        assert d.action == "appeal_upheld" and d.moderator_id == world.moderator2_id
        assert "upheld" in messages(app)[-1]["Subject"]
        f = moderation.figures()
        assert f.appeals == 1 and f.reversals == 1 and f.by_outcome == {"reject": 1}
        assert f.median_hours is not None


def test_appeal_refused_for_published_or_pending_items(app, world):
    with app.app_context():
        r = submit(world)
        with pytest.raises(InvalidState):
            moderation.file_appeal(
                "review", r.id, by=u(world.author_id), text="Please publish it faster."
            )
        with pytest.raises(NotFound):
            moderation.file_appeal("report", 1, by=u(world.author_id), text="x" * 30)


def test_denied_appeal_keeps_item_rejected(app, world):
    with app.app_context():
        r = rejected(world)
        appeal = moderation.file_appeal(
            "review", r.id, by=u(world.author_id), text="I was treated there; here is my booking."
        )
        moderation.decide(
            appeal,
            "deny",
            by=u(world.moderator2_id),
            reason_code="insufficient_evidence",
            statement="The booking is for another clinic.",
        )
        db.session.commit()
        assert r.status == "rejected" and appeal.status == "denied"
        assert db.session.execute(select(Appeal)).scalar_one().decided_by_id == world.moderator2_id


def test_queue_sizes_count_each_queue(app, world):
    with app.app_context():
        submit(world)
        ClinicFactory(status="pending", created_at=datetime.now(UTC) - timedelta(days=2))
        sizes = moderation.queue_sizes()
        assert sizes["reviews"][0] == 1 and sizes["new_clinics"][0] == 1
        assert sizes["claims"][0] == 0 and sizes["results"][0] == 0
        assert sizes["new_clinics"][1] < datetime.now(UTC) - timedelta(days=1)


def test_photo_and_result_case_reports_remove_the_item(app, world):
    from directory.models import Photo, ResultCase
    from tests.factories import ResultCaseFactory

    with app.app_context():
        r = submit(world, photos=[image_bytes(seed=21)])
        moderation.decide(
            r,
            "publish",
            by=u(world.moderator_id),
            reason_code="meets_guidelines",
            statement="First-hand, on topic.",
        )
        db.session.commit()
        photo = r.photos[0]
        weight = db.session.get(Clinic, world.clinic_id).effective_weight
        rep = reports.file("photo", photo.id, by=u(world.other_id), reason="stolen_photo")
        db.session.commit()
        assert db.session.get(Photo, photo.id).status == "published"  # visible while examined
        moderation.decide(
            rep,
            "remove",
            by=u(world.moderator_id),
            reason_code="stolen_photo",
            statement="Found on a stock site.",
        )
        db.session.commit()
        assert db.session.get(Photo, photo.id).status == "removed"
        assert db.session.get(Clinic, world.clinic_id).effective_weight < weight

        case = ResultCaseFactory(
            clinic=db.session.get(Clinic, world.clinic_id), submitted_by_id=world.owner_id
        )
        rep = reports.file("result_case", case.id, by=u(world.other_id), reason="fake")
        db.session.commit()
        moderation.decide(
            rep,
            "remove",
            by=u(world.moderator_id),
            reason_code="stolen_photo",
            statement="Same photos as another.",
        )
        db.session.commit()
        assert db.session.get(ResultCase, case.id).status == "removed"
        assert decisions()[-1].subject_user_id == world.owner_id
        with pytest.raises(NotFound):
            reports.file("result_case", case.id, by=UserFactory(), reason="fake")


def test_the_account_page_lists_the_authors_decisions_only(app, world):
    with app.app_context():
        r = rejected(world)
        mine = accounts.overview(u(world.author_id)).decisions
        assert [(d.item_id, d.action) for d in mine] == [(r.id, "reject")]
        assert accounts.overview(u(world.other_id)).decisions == []


def test_same_text_rated_1_and_5_gets_the_same_signals(app, world):
    """docs/security.md §34 through the service: the signals beside a damning and a glowing
    testimonial with the same text, author profile and origin are identical."""
    with app.app_context():
        clinic_b = ClinicFactory()
        short = "Not much to say, really." * 4
        low = svc.submit(
            db.session.get(Clinic, world.clinic_id),
            by=u(world.author_id),
            data=svc.ReviewInput(
                treatment_type="hairline",
                sessions=2,
                last_session_month=months_ago(7),
                overall=1,
                text=short,
                ratings={k: 1 for k in ("realism", "care")},
            ),
            origin="n",
        )
        high = svc.submit(
            clinic_b,
            by=u(world.author_id),
            data=svc.ReviewInput(
                treatment_type="hairline",
                sessions=2,
                last_session_month=months_ago(7),
                overall=5,
                text=short,
                ratings={k: 5 for k in ("realism", "care")},
            ),
            origin="n",
        )
        db.session.commit()
        a = [(s.key, s.flag) for s in signals.for_queue([low])[low.id]]
        b = [(s.key, s.flag) for s in signals.for_queue([high])[high.id]]
        assert a == b
        assert ("uniform_extreme", True) in a and ("near_duplicate", True) in a
