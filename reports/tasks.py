"""Background work of the reports, run by the task worker (`manage.py db_worker`)."""

from django_tasks import task

from reports.models import ReportJob
from reports.services import report_run


@task()
def render_report_task(job_id):
    job = ReportJob.objects.filter(pk=job_id).first()
    if job is not None:
        report_run(job)
