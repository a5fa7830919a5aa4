"""Clients generated from the published schema with each generator's default options (issue 17), as a script
writer would: openapi-python-client makes a package that pip installs and that reads the ranking and the cards
from the live server; datamodel-code-generator makes pydantic models that accept the same answers — among them a
card with no score yet (every `explanation` null, no total, level or rank), which failed 174 times before.

Both generators are in requirements-dev.txt; a test whose generator is not installed is skipped and says so. Each
runs in a child process (the generator, pip, the client), so nothing generated is imported into the test run."""

import json
import re
import shutil
import subprocess
import sys
import tomllib
from datetime import timedelta
from pathlib import Path

import pytest
import requests
from django.core.servers.basehttp import WSGIRequestHandler
from django.utils import timezone
from packaging.utils import canonicalize_name

from municipalities.api_auth import api_token_create

BIN = Path(sys.executable).parent
OPEN = "open-2027"  # a campaign in data collection: no score anywhere


def generator(name):
    return shutil.which(name, path=str(BIN)) or shutil.which(name)


def needs(name):
    return pytest.mark.skipif(
        generator(name) is None, reason=f"{name} is not installed (pip install -r requirements-dev.txt)"
    )


def run(*args, cwd, **kwargs):
    """A child process with the virtualenv's tools first on PATH (openapi-python-client runs ruff)."""
    env = {"PATH": f"{BIN}:/usr/bin:/bin", "HOME": str(cwd), **kwargs.pop("env", {})}
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=120, **kwargs)
    assert done.returncode == 0, f"{' '.join(map(str, args))}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture
def server(live_server, monkeypatch):
    monkeypatch.setattr(WSGIRequestHandler, "disable_nagle_algorithm", True)  # see test_api_contract.server
    return live_server.url


@pytest.fixture
def token(world, finalized, methodology):
    """The operator's token, with the finalized campaign (published results) and an open one without a score."""
    from assessment.models import Campaign, Stage
    from assessment.services import campaign_save

    today = timezone.localdate()
    collection = list(Stage).index(Stage.DATA_COLLECTION)
    campaign_save(
        campaign=Campaign(slug=OPEN, title="Сбор 2027", year=2027, methodology=methodology),
        stages={
            stage: (today + timedelta(days=30 * (i - collection)), today + timedelta(days=30 * (i - collection) + 20))
            for i, stage in enumerate(Stage)
        },
        municipalities=[world.municipality, world.sibling, world.other_municipality],
        by=world.users["operator"],
    )
    return api_token_create(user=world.users["operator"], name="generated client")[1]


def download_as_curl_does(url, folder):
    """`curl -OJ URL`: the file named by the answer's Content-Disposition (curl reads only a plain filename)."""
    response = requests.get(url, timeout=10)
    response.raise_for_status()
    name = re.fullmatch(r'(?:inline|attachment); filename="([^"/\\]+)"', response.headers["Content-Disposition"])
    assert name, response.headers["Content-Disposition"]
    path = folder / name.group(1)
    path.write_bytes(response.content)
    return path


READ_WITH_THE_CLIENT = """
import json, sys
from muko_api_client import AuthenticatedClient
from muko_api_client.api.campaigns import campaign_municipality, campaign_ranking
from muko_api_client.models import Ranking

client = AuthenticatedClient(base_url=sys.argv[1], token=sys.argv[2], raise_on_unexpected_status=True)
ranking = campaign_ranking.sync(client=client, slug="test-2026")
assert isinstance(ranking, Ranking), ranking
final = campaign_municipality.sync(client=client, slug="test-2026", code="kirov")
empty = campaign_municipality.sync(client=client, slug=sys.argv[3], code="kirov")
print(json.dumps({
    "ranking": [[row.municipality.code, row.total, row.rank] for row in ranking.results],
    "final": [final.total, str(final.level.value), sum(c.explanation is not None for c in final.criteria)],
    "empty": [empty.total, empty.level, empty.rank, sum(c.explanation is None for c in empty.criteria)],
}))
"""


@needs("openapi-python-client")
@pytest.mark.django_db(transaction=True)
def test_openapi_python_client_with_default_options_installs_and_reads_the_ranking(server, token, tmp_path):
    run(generator("openapi-python-client"), "generate", "--url", f"{server}/api/v1/schema/", cwd=tmp_path)
    project = tmp_path / "muko-api-client"
    name = tomllib.loads((project / "pyproject.toml").read_text())["tool"]["poetry"]["name"]
    assert canonicalize_name(name, validate=True) == "muko-api-client"  # a name pip accepts

    run(sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", "--no-index",
        "--target", tmp_path / "site", project, cwd=tmp_path)  # fmt: skip
    read = json.loads(
        run(sys.executable, "-c", READ_WITH_THE_CLIENT, server, token, OPEN, cwd=tmp_path, env={"PYTHONPATH": "site"})
    )

    assert read["ranking"] == [["kirov", 281, 1], ["kumeny", 136, 2], ["elista", 136, 2]]
    assert read["final"] == [281, "partially_formed", 81]
    assert read["empty"] == [None, None, None, 81]


VALIDATE_WITH_THE_MODELS = """
import json, sys
import requests
from models import MunicipalityCard, Ranking

base, token, open_campaign = sys.argv[1:]
session = requests.Session()
session.headers["Authorization"] = f"Bearer {token}"

def get(path):
    response = session.get(f"{base}/api/v1/campaigns/{path}", timeout=10)
    response.raise_for_status()
    return response.json()

ranking = Ranking.model_validate(get("test-2026/ranking/"))
final = MunicipalityCard.model_validate(get("test-2026/municipalities/kirov/"))
empty = MunicipalityCard.model_validate(get(f"{open_campaign}/municipalities/kirov/"))
print(json.dumps({
    "ranking": [[row.municipality.code, row.total, row.rank] for row in ranking.results],
    "final": [final.total, final.level.value, sum(c.explanation is not None for c in final.criteria)],
    "empty": [empty.total, empty.level, empty.rank, sum(c.explanation is None for c in empty.criteria)],
}))
"""


@needs("datamodel-codegen")
@pytest.mark.django_db(transaction=True)
def test_datamodel_codegen_with_default_options_accepts_every_answer(server, token, tmp_path):
    schema = download_as_curl_does(f"{server}/api/v1/schema/", tmp_path)
    assert schema.name == "muko-api.yaml"

    run(generator("datamodel-codegen"), "--input", schema.name, "--output", "models.py", cwd=tmp_path)
    read = json.loads(
        run(sys.executable, "-c", VALIDATE_WITH_THE_MODELS, server, token, OPEN, cwd=tmp_path, env={"PYTHONPATH": "."})
    )

    assert read["ranking"] == [["kirov", 281, 1], ["kumeny", 136, 2], ["elista", 136, 2]]
    assert read["final"] == [281, "partially_formed", 81]
    assert read["empty"] == [None, None, None, 81]
