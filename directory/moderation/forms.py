"""The one decision form of every moderation queue. Its choices come from the
item's workflow (services.moderation.WORKFLOWS): only the actions its status
allows, only the reasons that fit them."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from directory.formkit import SingleLine
from directory.services import moderation
from directory.services.audit import MIN_STATEMENT


class DecisionForm(FlaskForm):
    action = SelectField("Decision", validators=[DataRequired("Choose a decision.")])
    reason_code = SelectField("Reason", validators=[DataRequired("Choose a reason.")])
    statement = TextAreaField(
        "Statement of reasons (sent to the person concerned)",
        validators=[
            DataRequired("Write a statement of reasons."),
            Length(
                MIN_STATEMENT,
                4000,
                f"Write at least {MIN_STATEMENT} characters of reasons (at most 4,000).",
            ),
        ],
    )
    proof = StringField(
        "Proof of treatment seen (for “Mark treatment verified”)",
        validators=[SingleLine(), Optional(), Length(max=1000)],
    )

    @classmethod
    def for_item(cls, item, *, posted: bool = False) -> DecisionForm:
        wf = moderation.workflow_of(item)
        if posted:
            # Any action and reason of the workflow is accepted here; whether it fits the
            # item's state now is the service's answer (409 for a stale form, with why).
            form = cls()
            form.action.choices = list(wf.actions.items())
            form.reason_code.choices = list(moderation.REASON_CODES.items())
        else:
            form = cls(formdata=None)
            form.action.choices = wf.allowed(item.status)
            form.reason_code.choices = moderation.form_reasons(item)
        form.show_proof = moderation.item_type_of(item) == "review"
        return form
