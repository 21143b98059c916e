"""Forms of the auth blueprint. Passwords are validated by the accounts service
(length and the common-password list), so the rule lives in one place."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, Email, Length

from directory.formkit import NewPassword, SingleLine


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class RegisterForm(FlaskForm):
    email = EmailField(
        "E-mail address",
        filters=[_strip],
        validators=[
            SingleLine(),
            DataRequired(),
            Length(max=254),
            Email(check_deliverability=False),
        ],
    )
    display_name = StringField(
        "Display name (shown with your testimonials)",
        validators=[SingleLine(), DataRequired(), Length(min=2, max=80)],
    )
    password = PasswordField(
        "Password (at least 12 characters)", validators=[DataRequired(), NewPassword()]
    )


class LoginForm(FlaskForm):
    email = EmailField(
        "E-mail address",
        filters=[_strip],
        validators=[SingleLine(), DataRequired(), Length(max=254)],
    )
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1024)])
    remember = BooleanField("Keep me logged in on this device (30 days)")
    next = HiddenField()


class ForgotForm(FlaskForm):
    email = EmailField(
        "E-mail address",
        filters=[_strip],
        validators=[SingleLine(), DataRequired(), Length(max=254)],
    )


class ResetForm(FlaskForm):
    password = PasswordField(
        "New password (at least 12 characters)", validators=[DataRequired(), NewPassword()]
    )


class TotpForm(FlaskForm):
    code = StringField(
        "6-digit code from your authenticator app",
        validators=[SingleLine(), DataRequired(), Length(min=6, max=10)],
    )
    next = HiddenField()


class ResendForm(FlaskForm):
    pass
