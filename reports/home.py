"""The home page, put together at the top of the house: each app returns its part (steps and context) and
this orders them, so that no app below needs to know of the others.

The page leads with each role's main job (the `lead_*` context): the ministry's latest published results, the
operator's campaigns under way with what blocks them, the coordinator's regions (who has not sent the form, what
waits for pre-scoring), the organizer's forms with their deadline, the expert's queue with the due dates. The steps
follow: everything else to do."""

from assessment.dashboard import assessment_home
from municipalities.home import territory_home
from reports.dashboard import results_home
from surveys.dashboard import survey_dashboard
from surveys.models import Respondent


def dashboard_for(access, today):
    assessment = assessment_home(access, today)
    survey_steps, survey_cards = survey_dashboard(access, assessment.campaigns, today)
    results_steps, results_lead = results_home(access, assessment.campaigns)
    steps = [
        *assessment.first,
        *assessment.campaign_steps,
        *survey_steps,
        *results_steps,
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
        "lead_results": results_lead,
        "lead_operations": assessment.operations,
        "lead_regions": assessment.regions,
        "lead_forms": assessment.forms,
        "lead_queue": assessment.queue,
    }
