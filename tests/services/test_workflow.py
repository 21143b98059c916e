"""The moderation workflow: every transition table, allowed and refused, written out
here a second time as the specification; and decide() end to end for each item type."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from directory.extensions import db
from directory.models import (
    Appeal,
    Clinic,
    ClinicClaim,
    FollowUp,
    ModerationDecision,
    Report,
    Review,
    User,
)
from directory.models.statuses import (
    AppealStatus,
    ClaimStatus,
    ClinicStatus,
    ItemStatus,
    ReportStatus,
)
from directory.services import Invalid, InvalidState, NotAllowed, moderation
from tests.factories import ClinicFactory, ResultCaseFactory, ReviewFactory, UserFactory
from tests.web._mail import messages as mails

P, U, J, R = "pending", "published", "rejected", "removed"
CONTENT = {
    (P, "publish"): U,
    (P, "reject"): J,
    (U, "remove"): R,
    (J, "restore"): U,
    (R, "restore"): U,
}
EXPECTED = {
    "review": CONTENT | {(P, "verify"): P, (U, "verify"): U},
    "followup": CONTENT,
    "photo": CONTENT | {(U, "reject"): R},
    "result_case": CONTENT,
    "claim": {
        ("pending", "approve"): "approved",
        ("pending", "reject"): "rejected",
        ("rejected", "restore"): "approved",
    },
    "clinic": {
        ("pending", "publish"): "listed",
        ("pending", "reject"): "rejected",
        ("listed", "suspend"): "suspended",
        ("claimed", "suspend"): "suspended",
        ("verified", "suspend"): "suspended",
        ("suspended", "reinstate"): moderation.PREVIOUS,
        ("rejected", "restore"): "listed",
        ("suspended", "restore"): moderation.PREVIOUS,
    },
    "report": {("open", "keep"): "dismissed", ("open", "remove"): "upheld"},
    "appeal": {("open", "deny"): "denied", ("open", "uphold"): "upheld"},
}
STATUSES = {
    "review": ItemStatus,
    "followup": ItemStatus,
    "photo": ItemStatus,
    "result_case": ItemStatus,
    "claim": ClaimStatus,
    "clinic": ClinicStatus,
    "report": ReportStatus,
    "appeal": AppealStatus,
}
ALL_CASES = [
    (kind, status.value, action)
    for kind, enum in STATUSES.items()
    for status in enum
    for action in moderation.WORKFLOWS[kind].reasons
]


@pytest.mark.parametrize(("kind", "status", "action"), ALL_CASES)
def test_every_transition_is_allowed_or_refused_as_specified(kind, status, action):
    wf = moderation.WORKFLOWS[kind]
    expected = EXPECTED[kind].get((status, action))
    if expected is None:
        with pytest.raises(InvalidState):
            wf.next_status(status, action)
    else:
        assert wf.next_status(status, action) == expected


def test_the_tables_hold_nothing_the_specification_does_not():
    for kind, wf in moderation.WORKFLOWS.items():
        assert dict(wf.transitions) == EXPECTED[kind], kind
        for (status, _), new in wf.transitions.items():
            assert status in STATUSES[kind]
            assert new == moderation.PREVIOUS or new in STATUSES[kind]


def test_an_unknown_action_is_invalid_not_a_state_error():
    with pytest.raises(Invalid):
        moderation.WORKFLOWS["review"].next_status("pending", "explode")


def test_forms_offer_only_what_the_status_allows():
    wf = moderation.WORKFLOWS["review"]
    assert [a for a, _ in wf.allowed("pending")] == ["publish", "verify", "reject"]
    # "Remove" is for published items only; nothing is offered once an item is refused.
    assert [a for a, _ in wf.allowed("published")] == ["verify", "remove"]
    assert wf.allowed("rejected") == []
    claim = moderation.WORKFLOWS["claim"]
    # Claims get claim reasons, never testimonial ones.
    assert "cannot_confirm_control" in claim.reasons["reject"]
    assert "not_first_hand" not in claim.reasons["reject"]


def test_every_reason_code_has_a_plain_label():
    for wf in moderation.WORKFLOWS.values():
        for codes in wf.reasons.values():
            for code in codes:
                label = moderation.REASON_CODES[code]
                assert "_" not in label and label[0].isupper()


# --- decide() end to end ---------------------------------------------------------------


@pytest.fixture
def people(app):
    with app.app_context():
        out = {
            "mod1": UserFactory(role="moderator", display_name="Mod One").id,
            "mod2": UserFactory(role="moderator", display_name="Mod Two").id,
            "author": UserFactory(email="author@mail.test").id,
            "owner": UserFactory(role="clinic_owner", email="owner@clinic.test").id,
        }
        db.session.commit()
        return out


def u(i):
    return db.session.get(User, i)


def reason(code="meets_guidelines"):
    return {"reason_code": code, "statement": "Checked against the guidelines."}


def test_reason_must_fit_the_type_and_action(app, people):
    with app.app_context():
        review = ReviewFactory(status="pending", author=u(people["author"]))
        with pytest.raises(Invalid, match="reason that fits"):
            moderation.decide(review, "reject", by=u(people["mod1"]), **reason())
        with pytest.raises(Invalid, match="reason that fits"):
            moderation.decide(
                review, "publish", by=u(people["mod1"]), **reason("cannot_confirm_control")
            )
        assert review.status == "pending"


def test_reinstating_gives_back_verified_status(app, people):
    with app.app_context():
        clinic = ClinicFactory(status="verified", owner=u(people["owner"]))
        moderation.decide(clinic, "suspend", by=u(people["mod1"]), **reason("fake_reviews"))
        assert clinic.status == "suspended" and clinic.status_reason
        moderation.decide(
            clinic, "reinstate", by=u(people["mod2"]), **reason("earlier_decision_wrong")
        )
        db.session.commit()
        assert clinic.status == "verified" and clinic.status_reason is None
        rows = db.session.execute(select(ModerationDecision)).scalars().all()
        assert [(d.action, d.new_status) for d in rows] == [
            ("suspend", "suspended"),
            ("reinstate", "verified"),
        ]


@pytest.mark.parametrize("kind", ["review", "followup", "result_case", "claim", "clinic"])
def test_refused_items_of_every_type_can_be_appealed_and_restored_by_another_moderator(
    app, people, kind
):
    with app.app_context():
        author = u(people["author"])
        if kind == "review":
            item = ReviewFactory(status="pending", author=author)
        elif kind == "followup":
            review = ReviewFactory(status="published", author=author)
            item = FollowUp(review_id=review.id, text="Still sharp a year on.", status="pending")
            db.session.add(item)
        elif kind == "result_case":
            item = ResultCaseFactory(status="pending", submitted_by_id=author.id)
        elif kind == "claim":
            clinic = ClinicFactory(status="listed", owner=None)
            item = ClinicClaim(
                clinic_id=clinic.id, user_id=author.id, role_at_clinic="Manager", status="pending"
            )
            db.session.add(item)
        else:
            item = ClinicFactory(status="pending", owner=None, submitted_by_id=author.id)
        db.session.flush()
        refusal = moderation.WORKFLOWS[kind].reasons["reject"][0]
        moderation.decide(item, "reject", by=u(people["mod1"]), **reason(refusal))
        db.session.commit()
        assert item.status == "rejected"
        body = mails(app)[-1].get_content()
        assert "appeal" in body and "/account" in body
        appeal = moderation.file_appeal(kind, item.id, by=author, text="Please look again, " * 3)
        db.session.commit()
        # The moderator who refused it may not decide the appeal.
        assert moderation.why_not(appeal, u(people["mod1"]))
        with pytest.raises(NotAllowed):
            moderation.decide(appeal, "uphold", by=u(people["mod1"]), **reason())
        moderation.decide(
            appeal, "uphold", by=u(people["mod2"]), **reason("earlier_decision_wrong")
        )
        db.session.commit()
        assert appeal.status == "upheld"
        assert item.status in ("published", "approved", "listed")
        if kind in ("claim", "clinic"):
            clinic = item.clinic if kind == "claim" else item
            assert clinic.owner_id == author.id and author.role == "clinic_owner"
        assert "was upheld" in mails(app)[-1]["Subject"]


def test_report_outcome_is_told_to_the_reporter_in_plain_words(app, people):
    with app.app_context():
        review = ReviewFactory(status="published", author=u(people["author"]))
        reporter = UserFactory(email="reporter@mail.test")
        report = Report(
            reporter_id=reporter.id,
            target_type="review",
            target_id=review.id,
            reason="fake",
            status="open",
        )
        db.session.add(report)
        db.session.flush()
        moderation.decide(report, "remove", by=u(people["mod1"]), **reason("not_first_hand"))
        db.session.commit()
        to_reporter = [m for m in mails(app) if m["To"] == "reporter@mail.test"]
        body = to_reporter[-1].get_content()
        assert "report was upheld" in body and "Not a first-hand experience" in body
        assert "not_first_hand" not in body
        to_author = [m for m in mails(app) if m["To"] == "author@mail.test"][-1].get_content()
        assert "was removed from the site" in to_author


def test_a_held_item_is_decided_only_by_its_holder(app, people):
    with app.app_context():
        review = ReviewFactory(status="pending", author=u(people["author"]))
        moderation.take(review, u(people["mod1"]))
        db.session.commit()
        with pytest.raises(InvalidState):
            moderation.take(review, u(people["mod2"]))
        with pytest.raises(NotAllowed, match="Mod One is working on this item"):
            moderation.decide(review, "publish", by=u(people["mod2"]), **reason())
        moderation.decide(review, "publish", by=u(people["mod1"]), **reason())
        db.session.commit()
        # Nobody can hold their own item, which would lock the others out.
        own = ReviewFactory(status="pending", author=u(people["mod2"]))
        with pytest.raises(NotAllowed):
            moderation.take(own, u(people["mod2"]))
        # Deciding releases the hold.
        assert moderation.holds("review", [review.id]) == {}


def test_a_rolled_back_decision_changes_nothing(app, people):
    with app.app_context():
        review = ReviewFactory(status="pending", author=u(people["author"]))
        db.session.commit()
        rid = review.id
        moderation.decide(review, "publish", by=u(people["mod1"]), **reason())
        db.session.rollback()
        assert db.session.get(Review, rid).status == "pending"
        assert db.session.execute(select(ModerationDecision)).first() is None
        assert db.session.execute(select(Appeal)).first() is None


def test_queue_pages_count_and_order(app, people):
    with app.app_context():
        clinic = ClinicFactory()
        for _ in range(30):
            ReviewFactory(status="pending", clinic=clinic, author=UserFactory())
        ReviewFactory(status="pending", author=u(people["author"]))
        db.session.commit()
        first = moderation.queue_page("reviews", page=1, per_page=25)
        second = moderation.queue_page("reviews", page=2, per_page=25)
        assert (first.total, first.pages, len(first.items), len(second.items)) == (31, 2, 25, 6)
        assert not {r.id for r in first.items} & {r.id for r in second.items}
        newest = moderation.queue_page("reviews", moderation.Filters(order="newest"))
        assert newest.items[0].author_id == people["author"]
        mine = moderation.queue_page("reviews", moderation.Filters(author_id=people["author"]))
        assert mine.total == 1
        theirs = moderation.queue_page("reviews", moderation.Filters(clinic_id=clinic.id))
        assert theirs.total == 30
        assert moderation.queue_sizes()["reviews"][0] == 31


def test_the_database_refuses_an_unknown_status(app, people):
    from sqlalchemy.exc import IntegrityError

    with app.app_context():
        clinic = db.session.get(Clinic, ClinicFactory().id)
        db.session.commit()
        clinic.status = "approved-ish"
        with pytest.raises(IntegrityError):
            db.session.commit()


@pytest.mark.xfail(
    reason="services.mail writes at once until mail is queued in the unit of work and "
    "delivered after the commit (helper ops); then this passes",
    strict=False,
)
def test_a_rolled_back_decision_sends_no_mail(app, people):
    with app.app_context():
        review = ReviewFactory(status="pending", author=u(people["author"]))
        db.session.commit()
        moderation.decide(review, "publish", by=u(people["mod1"]), **reason())
        db.session.rollback()
    assert [m for m in mails(app) if m["To"] == "author@mail.test"] == []


def test_a_committed_decision_sends_its_mail(app, people):
    with app.app_context():
        review = ReviewFactory(status="pending", author=u(people["author"]))
        db.session.commit()
        moderation.decide(review, "publish", by=u(people["mod1"]), **reason())
        db.session.commit()
    assert [m for m in mails(app) if m["To"] == "author@mail.test"]


def test_vocab_public_statuses_are_the_models_public_statuses():
    from directory import vocab
    from directory.models.statuses import PUBLIC_CLINIC

    assert set(vocab.PUBLIC_CLINIC_STATUSES) == {s.value for s in PUBLIC_CLINIC}
