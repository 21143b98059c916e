"""Forms of the testimonial pages. The services validate again; these give the
user field-level messages."""

from __future__ import annotations

from datetime import UTC, datetime

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    MultipleFileField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from directory import vocab
from directory.formkit import IntegerField, SingleLine, choices, to_int

MONTHS = choices((str(i), datetime(2000, i, 1).strftime("%B")) for i in range(1, 13))
RATING_CHOICES = choices((i, str(i)) for i in range(1, 6))


def _int_or_none(value):
    return to_int(value)


def rating_field(key: str, required: bool) -> RadioField:
    return RadioField(
        vocab.RUBRIC[key],
        choices=RATING_CHOICES,
        coerce=_int_or_none,
        validators=[InputRequired("Rate the overall result.")] if required else [Optional()],
    )


def year_choices() -> list[tuple[str, str]]:
    this_year = datetime.now(UTC).year
    return choices((str(y), str(y)) for y in range(this_year, this_year - 26, -1))


class ReviewForm(FlaskForm):
    treatment_type = SelectField(
        "Treatment",
        choices=choices(vocab.SERVICES.items()),
        validators=[DataRequired("Choose the treatment you had.")],
    )
    sessions = IntegerField(
        "Number of sessions",
        validators=[
            InputRequired("Give the number of sessions."),
            NumberRange(1, 30, "Between 1 and 30 sessions."),
        ],
    )
    last_month = SelectField("Month", choices=MONTHS, validators=[DataRequired()])
    last_year = SelectField("Year", validators=[DataRequired()])
    practitioner_id = SelectField(
        "Practitioner (optional)", coerce=_int_or_none, validators=[Optional()]
    )
    overall = rating_field("overall", True)
    realism = rating_field("realism", False)
    hairline = rating_field("hairline", False)
    pigment = rating_field("pigment", False)
    dots = rating_field("dots", False)
    healing = rating_field("healing", False)
    care = rating_field("care", False)
    needed_correction = BooleanField("The result needed correction or laser removal")
    price_paid = IntegerField(
        "Price paid (optional)",
        validators=[
            Optional(),
            NumberRange(0, 1_000_000, "A whole amount between 0 and 1,000,000."),
        ],
    )
    price_currency = SelectField("Currency", choices=choices((c, c) for c in vocab.CURRENCIES))
    title = StringField("Title (optional)", validators=[SingleLine(), Optional(), Length(max=140)])
    text = TextAreaField(
        "Your testimonial",
        validators=[
            DataRequired("Write your testimonial."),
            Length(80, 5000, "Between 80 and 5,000 characters."),
        ],
    )
    photos = MultipleFileField("Photos of your result (up to 6: JPEG, PNG, WebP or HEIC)")
    consent = BooleanField(
        "The person shown in these photos (you, or someone who agreed) "
        "consents to their publication"
    )

    # The author's case (optional): lets visitors with a similar case find this testimonial.
    stage = SelectField(
        "Your hair-loss stage (optional)",
        choices=choices([("", "Prefer not to say")] + list(vocab.STAGES.items())),
        validators=[Optional()],
    )
    skin_type = SelectField(
        "Your skin type (optional)",
        choices=choices([("", "Prefer not to say")] + list(vocab.SKIN_TYPES.items())),
        coerce=_int_or_none,
        validators=[Optional()],
    )
    hair_colour = SelectField(
        "Your natural hair colour (optional)",
        choices=choices([("", "Prefer not to say")] + list(vocab.HAIR_COLOURS.items())),
        validators=[Optional()],
    )
    goal = SelectField(
        "Your goal (optional)",
        choices=choices([("", "Prefer not to say")] + list(vocab.GOALS.items())),
        validators=[Optional()],
    )
    proof = FileField(
        "Proof you were treated there (optional: a PDF or photo of an invoice, a booking "
        "or an aftercare sheet)"
    )

    def __init__(self, *args, practitioners=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.last_year.choices = year_choices()
        self.practitioner_id.choices = choices(
            [("", "Not named")] + [(p.id, p.name) for p in practitioners]
        )

    def ratings(self) -> dict:
        return {k: getattr(self, k).data for k in vocab.DIMENSIONS}


class FollowUpForm(FlaskForm):
    photos = MultipleFileField("Photos now (optional, up to 4: JPEG, PNG, WebP or HEIC)")
    consent = BooleanField(
        "The person shown in these photos (you, or someone who agreed) "
        "consents to their publication"
    )
    healing = rating_field("healing", False)
    needed_correction = BooleanField("The result has since needed correction or laser removal")
    text = TextAreaField(
        "How has the result aged?",
        validators=[
            DataRequired("Write your follow-up."),
            Length(20, 5000, "Between 20 and 5,000 characters."),
        ],
    )


class ReportForm(FlaskForm):
    reason = SelectField(
        "Reason", choices=choices(vocab.REPORT_REASONS.items()), validators=[DataRequired()]
    )
    text = TextAreaField("What is wrong (optional)", validators=[Optional(), Length(max=2000)])


class AppealForm(FlaskForm):
    text = TextAreaField(
        "Why the decision should change",
        validators=[
            DataRequired("Explain your appeal."),
            Length(20, 3000, "Between 20 and 3,000 characters."),
        ],
    )


class DeleteForm(FlaskForm):
    pass
