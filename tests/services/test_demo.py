"""Demo data: deterministic, worldwide, and teaching that price is not quality."""

from directory import demo
from directory.extensions import db
from directory.models import Clinic, Photo, ResultCase, Review, User

CONTINENT = {
    "GB": "Europe",
    "IE": "Europe",
    "FR": "Europe",
    "DE": "Europe",
    "ES": "Europe",
    "IT": "Europe",
    "NL": "Europe",
    "SE": "Europe",
    "PL": "Europe",
    "TR": "Europe",
    "US": "North America",
    "CA": "North America",
    "MX": "North America",
    "BR": "South America",
    "AR": "South America",
    "AU": "Oceania",
    "NZ": "Oceania",
    "JP": "Asia",
    "KR": "Asia",
    "SG": "Asia",
    "TH": "Asia",
    "IN": "Asia",
    "AE": "Asia",
    "PH": "Asia",
    "ZA": "Africa",
    "NG": "Africa",
    "KE": "Africa",
    "EG": "Africa",
}


def snapshot():
    clinics = db.session.execute(db.select(Clinic).order_by(Clinic.slug)).scalars()
    return [(c.slug, c.city, c.price_min, c.quality_score, c.review_count) for c in clinics], [
        (r.overall, r.text, r.status)
        for r in db.session.execute(db.select(Review).order_by(Review.id)).scalars()
    ]


def test_seed_is_deterministic_for_a_seed(app_factory, tmp_path):
    results = []
    for i in range(2):
        app = app_factory(INSTANCE_PATH=str(tmp_path / f"i{i}"))
        with app.app_context():
            db.session.query(Review).delete()
            db.session.query(Clinic).delete()
            db.session.query(User).delete()
            demo.seed(40, 11, with_images=False, log=lambda *_: None)
            db.session.commit()
            results.append(snapshot())
    assert results[0] == results[1]


def test_seed_spans_30_cities_on_5_continents_with_every_role(runner, app):
    result = runner.invoke(args=["seed-demo", "--no-images"])
    assert result.exit_code == 0, result.output
    assert "moderator@example.com" in result.output and "TOTP secret" in result.output
    with app.app_context():
        clinics = list(db.session.execute(db.select(Clinic)).scalars())
        assert len(clinics) == 150
        assert len({c.city for c in clinics}) >= 30
        assert len({CONTINENT[c.country] for c in clinics}) >= 5
        roles = set(db.session.execute(db.select(User.role)).scalars())
        assert roles == {"consumer", "clinic_owner", "moderator", "admin"}
        statuses = set(db.session.execute(db.select(Review.status)).scalars())
        assert {"published", "pending"} <= statuses
    again = runner.invoke(args=["seed-demo", "--if-empty"])
    assert again.exit_code == 0 and "not seeded" in again.output
    assert runner.invoke(args=["seed-demo"]).exit_code != 0


def test_teaching_cases_show_quality_not_price_decides(runner, app):
    assert runner.invoke(args=["seed-demo", "--no-images", "--clinics", "30"]).exit_code == 0
    with app.app_context():
        by_name = {c.name: c for c in db.session.execute(db.select(Clinic)).scalars()}
        cheap, pricey = by_name["Budget Ink SMP"], by_name["Atelier Follicle"]
        single, rescue = by_name["Fresh Start Scalp Studio"], by_name["Rescue Point SMP"]
        assert cheap.price_max < pricey.price_min
        assert pricey.quality_score > cheap.quality_score
        assert single.review_count == 1
        assert single.quality_score < pricey.quality_score
        assert cheap.correction_count >= 1 and rescue.correction_count >= 1
        assert pricey.owner.email == "owner@example.com"


def test_result_cases_get_real_published_images(runner, app):
    assert runner.invoke(args=["seed-demo", "--clinics", "6"]).exit_code == 0
    with app.app_context():
        cases = list(db.session.execute(db.select(ResultCase)).scalars())
        assert cases and all(c.status == "published" for c in cases)
        photo = db.session.get(Photo, cases[0].after_photo_id)
        assert photo.status == "published" and len(photo.phash) == 16
    resp = app.test_client().get(f"/media/{photo.id}/thumb.jpg")
    assert resp.status_code == 200 and resp.mimetype == "image/jpeg"
    assert resp.data[:3] == b"\xff\xd8\xff"
    resp.close()
