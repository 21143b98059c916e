from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import RadioField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired

from directory.formkit import email_field, password_field


class PasswordForm(FlaskForm):
    current = password_field("Current password")
    password = password_field("New password (at least 12 characters)", new=True)


class EmailForm(FlaskForm):
    email = email_field("New e-mail address", new=True)
    password = password_field("Your password")


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
    password = password_field("Your password, to confirm")
