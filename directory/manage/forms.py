"""Forms of the clinic owners' pages. Services re-check everything; these give
the user field-level messages."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    widgets,
)
from wtforms.validators import DataRequired, Email, InputRequired, Length, NumberRange, Optional

from directory import vocab
from directory.formkit import IntegerField, SingleLine, optional_line, optional_text, to_int
from directory.services import search as search_service


def options(pairs) -> list[SelectChoice]:
    """Choice lists in the form wtforms 3.3+ expects (tuples are deprecated)."""
    items = pairs.items() if isinstance(pairs, dict) else pairs
    return [SelectChoice(value, label) for value, label in items]


class MultiCheckboxField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


def country_choices() -> list[tuple[str, str]]:
    return search_service.country_choices()


def _optional_email(label: str, **kwargs) -> StringField:
    validators = [SingleLine(), Optional(), Email("Enter a valid e-mail address."), Length(max=254)]
    return StringField(label, validators=validators, **kwargs)


class ClaimForm(FlaskForm):
    role_at_clinic = StringField(
        "Your role at the clinic",
        validators=[
            SingleLine(),
            DataRequired("Say what your role at the clinic is."),
            Length(max=120),
        ],
        description="For example owner, manager or lead practitioner.",
    )
    business_email = _optional_email(
        "Business e-mail",
        description="An address at the clinic's own website domain is the quickest proof.",
    )
    phone = optional_line(
        "Clinic phone number",
        40,
        description="A moderator may call the number listed for the clinic.",
    )
    evidence_links = optional_text(
        "Links",
        2000,
        description="Pages that show you at the clinic, one per line (https://...).",
    )
    evidence = optional_text("Anything else we should know", 5000)


class ProfileForm(FlaskForm):
    name = StringField(
        "Clinic name",
        validators=[SingleLine(), DataRequired("Give the clinic's name."), Length(max=160)],
    )
    description = optional_text(
        "Description",
        5000,
        description="What you do and how you work. Plain text.",
    )
    email = _optional_email("Contact e-mail")
    phone = optional_line("Phone", 40)
    website = optional_line(
        "Website",
        300,
        description="The full address, starting with https:// or http://.",
    )
    address = optional_line("Street address", 300)
    postal_code = optional_line("Postal code", 20)
    city = StringField(
        "City", validators=[SingleLine(), DataRequired("Give the city."), Length(max=120)]
    )
    region = optional_line("Region or state", 120)
    country = SelectField("Country", validators=[DataRequired("Choose the country.")])
    manual_coordinates = BooleanField(
        "Set the map position by hand", description="Otherwise it is taken from the city."
    )
    latitude = optional_line(
        "Latitude",
        20,
        description="Decimal degrees, for example 51.5074.",
    )
    longitude = optional_line(
        "Longitude",
        20,
        description="Decimal degrees, for example -0.1278.",
    )
    services = MultiCheckboxField("Services offered", choices=options(vocab.SERVICES))
    price_min = IntegerField(
        "Lowest price of a full course", validators=[Optional(), NumberRange(0, 10_000_000)]
    )
    price_max = IntegerField(
        "Highest price of a full course", validators=[Optional(), NumberRange(0, 10_000_000)]
    )
    currency = SelectField("Currency", choices=options((c, c) for c in vocab.CURRENCIES))
    languages = optional_line(
        "Languages spoken",
        800,
        description="Separated by commas, for example English, Spanish.",
    )
    year_founded = IntegerField("Year founded", validators=[Optional(), NumberRange(1950, 2100)])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.country.choices = options([("", "Choose…"), *country_choices()])

    def profile_data(self) -> dict:
        return {
            "name": self.name.data,
            "description": self.description.data,
            "email": self.email.data,
            "phone": self.phone.data,
            "website": self.website.data,
            "address": self.address.data,
            "postal_code": self.postal_code.data,
            "city": self.city.data,
            "region": self.region.data,
            "country": self.country.data,
            "latitude": self.latitude.data,
            "longitude": self.longitude.data,
            "services": self.services.data or [],
            "price_min": self.price_min.data,
            "price_max": self.price_max.data,
            "currency": self.currency.data,
            "languages": self.languages.data or "",
            "year_founded": self.year_founded.data,
        }


class NewClinicForm(ProfileForm):
    works_there = BooleanField(
        "I work at this clinic and may manage its listing",
        validators=[DataRequired("Confirm that you work at the clinic.")],
    )


class PractitionerForm(FlaskForm):
    name = StringField(
        "Name",
        validators=[SingleLine(), DataRequired("Give the practitioner's name."), Length(max=120)],
    )
    years_practice = IntegerField(
        "Years of SMP practice", validators=[Optional(), NumberRange(0, 70)]
    )
    training = optional_text(
        "Training",
        2000,
        description="Courses, academies, certificates.",
    )


class ResultForm(FlaskForm):
    before = FileField("Before photo", validators=[FileRequired("Add the before photo.")])
    after = FileField("After photo", validators=[FileRequired("Add the after photo.")])
    healed = FileField("Healed photo (optional, 12 months or more after the last session)")
    treatment_type = SelectField("Treatment", choices=options(vocab.SERVICES))
    sessions = IntegerField(
        "Sessions", validators=[InputRequired("Give the number of sessions."), NumberRange(1, 20)]
    )
    months_since_last_session = IntegerField(
        "Months since the last session (when the after photo was taken)",
        validators=[InputRequired("Give the months since the last session."), NumberRange(0, 240)],
    )
    stage = SelectField(
        "Hair-loss stage",
        choices=options(vocab.STAGES),
        description="Norwood for men, Ludwig for women.",
    )
    skin_type = SelectField("Skin type", coerce=to_int, choices=options(vocab.SKIN_TYPES))
    hair_colour = SelectField("Hair colour", choices=options(vocab.HAIR_COLOURS))
    goal = SelectField("Goal", choices=options(vocab.GOALS))
    practitioner_id = SelectField(
        "Practitioner", coerce=to_int, choices=options([(0, "Not named")])
    )
    title = optional_line("Title (optional)", 160)
    notes = optional_text("Notes", 2000)
    consent = BooleanField(
        "The person shown agreed in writing to these photos being published",
        validators=[DataRequired("Confirm the person's consent.")],
    )

    # What the results service takes as they are (with the photos and practitioner).
    CASE_FIELDS = (
        "treatment_type",
        "sessions",
        "months_since_last_session",
        "stage",
        "skin_type",
        "hair_colour",
        "goal",
        "title",
        "notes",
        "consent",
    )

    def case_data(self) -> dict:
        return {name: getattr(self, name).data for name in self.CASE_FIELDS} | {
            "practitioner_id": self.practitioner_id.data or None
        }


class ReplyForm(FlaskForm):
    text = TextAreaField(
        "Your public reply", validators=[DataRequired("Write a reply."), Length(max=3000)]
    )


class ConfirmForm(FlaskForm):
    """A button-only form: just the CSRF token."""


class ClaimCodeForm(FlaskForm):
    code = optional_line("The six-digit code we e-mailed to the business address", 20)
