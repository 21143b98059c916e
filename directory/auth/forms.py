"""Forms of the auth blueprint. Passwords are validated by the accounts service
(length and the common-password list), so the rule lives in one place."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, StringField
from wtforms.validators import DataRequired, Length

from directory.formkit import SingleLine, email_field, password_field


class RegisterForm(FlaskForm):
    email = email_field("E-mail address", new=True)
    display_name = StringField(
        "Display name (shown with your testimonials)",
        validators=[SingleLine(), DataRequired(), Length(min=2, max=80)],
    )
    password = password_field("Password (at least 12 characters)", new=True)


class LoginForm(FlaskForm):
    email = email_field("E-mail address")
    password = password_field("Password")
    remember = BooleanField("Keep me logged in on this device (30 days)")
    next = HiddenField()


class ForgotForm(FlaskForm):
    email = email_field("E-mail address")


class ResetForm(FlaskForm):
    password = password_field("New password (at least 12 characters)", new=True)


class TotpForm(FlaskForm):
    code = StringField(
        "6-digit code from your authenticator app",
        validators=[SingleLine(), DataRequired(), Length(min=6, max=10)],
    )
    next = HiddenField()


class ResendForm(FlaskForm):
    pass
