"""The home page, put together at the top of the house: each app returns its part (steps and context) and
this orders them, so that no app below needs to know of the others."""

from assessment.dashboard import assessment_home
from municipalities.home import territory_home
from reports.dashboard import results_steps
from surveys.dashboard import survey_dashboard
from surveys.models import Respondent


def dashboard_for(access, today):
    assessment = assessment_home(access, today)
    survey_steps, survey_cards = survey_dashboard(access, assessment.campaigns, today)
    steps = [
        *assessment.first,
        *assessment.campaign_steps,
        *survey_steps,
        *results_steps(access, assessment.campaigns),
        *assessment.role_steps,
        *assessment.last,
    ]
    return {
        **territory_home(access),
        "campaigns": assessment.campaigns,
        "today": today,
        "survey_cards": survey_cards,
        "respondent_roles": Respondent.choices,
        "steps": steps,
    }
