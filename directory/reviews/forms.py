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
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from directory import vocab
from directory.formkit import IntegerField, choices, optional_line, optional_text, to_int

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


def written_text(label: str, missing: str, least: int, most: int) -> TextAreaField:
    """A required text of `least` to `most` characters."""
    length = Length(least, most, f"Between {least:,} and {most:,} characters.")
    return TextAreaField(label, validators=[DataRequired(missing), length])


def photo_consent() -> BooleanField:
    return BooleanField(
        "The person shown in these photos (you, or someone who agreed) "
        "consents to their publication"
    )


def _case_choice(label: str, options: dict, **kwargs) -> SelectField:
    """One fact of the author's case, which they may keep to themselves."""
    return SelectField(
        f"{label} (optional)",
        choices=choices([("", "Prefer not to say"), *options.items()]),
        validators=[Optional()],
        **kwargs,
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
    title = optional_line("Title (optional)", 140)
    text = written_text("Your testimonial", "Write your testimonial.", 80, 5000)
    photos = MultipleFileField("Photos of your result (up to 6: JPEG, PNG, WebP or HEIC)")
    consent = photo_consent()

    # The author's case (optional): lets visitors with a similar case find this testimonial.
    stage = _case_choice("Your hair-loss stage", vocab.STAGES)
    skin_type = _case_choice("Your skin type", vocab.SKIN_TYPES, coerce=_int_or_none)
    hair_colour = _case_choice("Your natural hair colour", vocab.HAIR_COLOURS)
    goal = _case_choice("Your goal", vocab.GOALS)
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
    consent = photo_consent()
    healing = rating_field("healing", False)
    needed_correction = BooleanField("The result has since needed correction or laser removal")
    text = written_text("How has the result aged?", "Write your follow-up.", 20, 5000)


class ReportForm(FlaskForm):
    reason = SelectField(
        "Reason", choices=choices(vocab.REPORT_REASONS.items()), validators=[DataRequired()]
    )
    text = optional_text("What is wrong (optional)", 2000)


class AppealForm(FlaskForm):
    text = written_text("Why the decision should change", "Explain your appeal.", 20, 3000)


class DeleteForm(FlaskForm):
    pass
