"""Decision forms of the moderation queues (content side)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from directory import vocab
from directory.formkit import SingleLine, choices


class DecisionForm(FlaskForm):
    action = SelectField("Decision", validators=[DataRequired("Choose a decision.")])
    reason_code = SelectField(
        "Reason",
        choices=choices(vocab.REASON_CODES.items()),
        validators=[DataRequired("Choose a reason.")],
    )
    statement = TextAreaField(
        "Statement of reasons (sent to the author)",
        validators=[
            DataRequired("Write a statement of reasons."),
            Length(10, 4000, "Between 10 and 4,000 characters."),
        ],
    )
    proof = StringField(
        "Proof of treatment seen (for “verify”)",
        validators=[SingleLine(), Optional(), Length(max=1000)],
    )

    def __init__(self, *args, actions=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.action.choices = choices(actions)


REVIEW_ACTIONS = [
    ("publish", "Publish"),
    ("reject", "Reject"),
    ("verify", "Mark treatment verified"),
    ("remove", "Remove (published)"),
]
FOLLOWUP_ACTIONS = [("publish", "Publish"), ("reject", "Reject"), ("remove", "Remove (published)")]
PHOTO_ACTIONS = [("publish", "Publish"), ("reject", "Reject / remove")]
REPORT_ACTIONS = [
    ("keep", "Keep the item (dismiss the report)"),
    ("remove", "Remove the item (uphold the report)"),
]
APPEAL_ACTIONS = [("deny", "Deny the appeal"), ("uphold", "Uphold the appeal and restore the item")]
