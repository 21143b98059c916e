"""The decision form of the clinic queues (claims, new clinics, result cases)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectField, TextAreaField
from wtforms.validators import DataRequired, Length

from directory.services.audit import MIN_STATEMENT
from directory.vocab import REASON_CODES


class ClinicDecisionForm(FlaskForm):
    decision = SelectField("Decision", choices={"approve": "Approve / publish", "reject": "Reject"})
    reason_code = SelectField("Reason", choices=dict(REASON_CODES))
    statement = TextAreaField(
        "Statement of reasons (sent to the submitter)",
        validators=[
            DataRequired("Write a statement of reasons."),
            Length(
                min=MIN_STATEMENT,
                max=4000,
                message=f"Write at least {MIN_STATEMENT} characters of reasons.",
            ),
        ],
    )


class ClinicStatusForm(FlaskForm):
    reason_code = SelectField("Reason", choices=dict(REASON_CODES))
    statement = TextAreaField(
        "Statement of reasons (sent to the owner and shown on their dashboard)",
        validators=[
            DataRequired("Write a statement of reasons."),
            Length(
                min=MIN_STATEMENT,
                max=4000,
                message=f"Write at least {MIN_STATEMENT} characters of reasons.",
            ),
        ],
    )
