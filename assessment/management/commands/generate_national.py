from datetime import date

from django.core.management.base import BaseCommand, CommandError

from assessment.national import DEFAULT_SEED, GenerationError, generate, totals


class Command(BaseCommand):
    help = (
        "Fill the database with synthetic national-scale data: 89 regions, 2,400 municipalities, 40,000 schools, "
        "their people, and a campaign with every submission finalized, results published and 120,000 survey "
        "invitations (about 90,000 answered). Deterministic for a seed. The territory and the people are made "
        "once and reused by later runs; an existing campaign slug is refused unless --replace."
    )

    def add_arguments(self, parser):
        parser.add_argument("--slug", default="national", help="campaign code (default: national)")
        parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"random seed (default: {DEFAULT_SEED})")
        parser.add_argument(
            "--scale",
            type=float,
            default=1.0,
            help="share of the national size: municipalities, schools, experts, invitations (regions stay 89)",
        )
        parser.add_argument(
            "--replace",
            action="store_true",
            help="delete the campaign of that slug first (only a generated one; the territory stays)",
        )
        parser.add_argument(
            "--today",
            type=date.fromisoformat,
            default=None,
            help="the day the stage dates are planned around (YYYY-MM-DD; default: today)",
        )

    def handle(self, *args, **options):
        try:
            generator = generate(
                slug=options["slug"],
                seed=options["seed"],
                scale=options["scale"],
                today=options["today"],
                replace=options["replace"],
                out=self.stdout.write if options["verbosity"] else None,
            )
        except GenerationError as error:
            raise CommandError(str(error)) from error
        if not options["verbosity"]:
            return
        self.stdout.write("Строк в таблицах:")
        for label, n in totals(generator.campaign):
            self.stdout.write(f"  {label}: {n:,}".replace(",", " "))
        self.stdout.write(
            self.style.SUCCESS(
                f"Кампания «{generator.campaign.slug}» создана за {generator.total_seconds:.0f} с "
                f"(seed {options['seed']}, масштаб {options['scale']:g})."
            )
        )
