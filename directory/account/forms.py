from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, RadioField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length

from directory.formkit import NewPassword, SingleLine


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class PasswordForm(FlaskForm):
    current = PasswordField("Current password", validators=[DataRequired(), Length(max=1024)])
    password = PasswordField(
        "New password (at least 12 characters)", validators=[DataRequired(), NewPassword()]
    )


class EmailForm(FlaskForm):
    email = EmailField(
        "New e-mail address",
        filters=[_strip],
        validators=[
            SingleLine(),
            DataRequired(),
            Length(max=254),
            Email(check_deliverability=False),
        ],
    )
    password = PasswordField("Your password", validators=[DataRequired(), Length(max=1024)])


class DeleteForm(FlaskForm):
    reviews = RadioField(
        "Your published testimonials",
        choices=[
            SelectChoice("remove", "Remove them"),
            SelectChoice(
                "anonymise", "Keep them, shown as by “a former member” (photos are removed)"
            ),
        ],
        validators=[DataRequired()],
    )
    password = PasswordField(
        "Your password, to confirm", validators=[DataRequired(), Length(max=1024)]
    )
