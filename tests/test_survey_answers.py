"""The pure part of the survey: parsing, validation, dependencies, pages (no database)."""

from types import SimpleNamespace

import pytest
from django.utils import translation

from surveys import answers as A


def q(code, kind, pk=None, required=True, choices=None, depends_on=None, depends_values=(), **kw):
    return SimpleNamespace(
        pk=pk or int(code[1:]),
        code=code,
        kind=kind,
        required=required,
        choices=choices or [],
        min_value=kw.get("min_value"),
        max_value=kw.get("max_value"),
        max_length=kw.get("max_length", 2000),
        depends_on_id=depends_on,
        depends_values=list(depends_values),
        positive_answer="yes",
        mechanism_id=kw.get("mechanism_id"),
        mechanism=kw.get("mechanism"),
        order=kw.get("order", 1),
        questionnaire_id=1,
    )


CHOICES = [
    {"value": "a", "label": "Да, регулярно", "positive": True},
    {"value": "b", "label": "Иногда"},
    {"value": "none", "label": "Ничего из перечисленного", "exclusive": True},
]


@pytest.mark.parametrize(
    ("question", "raw", "value"),
    [
        (q("Q1", "single", choices=CHOICES), ["a"], "a"),
        (q("Q1", "multiple", choices=CHOICES), ["b", "a", "a"], ["a", "b"]),
        (q("Q1", "scale"), ["4"], "4"),
        (q("Q1", "yesno"), ["no"], "no"),
        (q("Q1", "number", min_value=0, max_value=100), [" 42 "], 42),
        (q("Q1", "text", max_length=10), ["коротко"], "коротко"),
        (q("Q1", "single", choices=CHOICES), [], None),
        (q("Q1", "single", choices=CHOICES), [""], None),
    ],
)
def test_a_valid_answer_is_parsed(question, raw, value):
    parsed, error = A.parse(question, raw)

    assert (parsed, error) == (value, None)


@pytest.mark.parametrize(
    ("question", "raw", "message"),
    [
        (q("Q1", "single", choices=CHOICES), ["zzz"], "Choose among the offered options."),
        (q("Q1", "single", choices=CHOICES), ["a", "b"], "Give one answer."),
        (q("Q1", "multiple", choices=CHOICES), ["a", "<script>"], "Choose only among the offered options."),
        (q("Q1", "multiple", choices=CHOICES), ["a", "none"], "cannot be combined"),
        (q("Q1", "scale"), ["6"], "Choose among the offered options."),
        (q("Q1", "yesno"), ["maybe"], "Choose among the offered options."),
        (q("Q1", "number", min_value=0, max_value=100), ["101"], "from 0 to 100"),
        (q("Q1", "number"), ["12,5"], "whole number"),
        (q("Q1", "number"), ["1e9999"], "whole number"),
        (q("Q1", "text", max_length=10), ["x" * 11], "too long"),
    ],
)
def test_an_invalid_answer_gets_a_message(question, raw, message):
    with translation.override("en"):
        parsed, error = A.parse(question, raw)

    assert parsed is None
    assert message in str(error)


def test_a_dependent_question_is_shown_only_for_the_answers_it_follows():
    parent = q("Q1", "yesno")
    child = q("Q2", "single", choices=CHOICES, depends_on=1, depends_values=["yes"])
    grandchild = q("Q3", "yesno", depends_on=2, depends_values=["a"])
    by_id = {1: parent, 2: child, 3: grandchild}

    assert A.is_shown(child, {"Q1": "yes"}, by_id)
    assert not A.is_shown(child, {"Q1": "no"}, by_id)
    assert not A.is_shown(child, {}, by_id)
    assert A.is_shown(grandchild, {"Q1": "yes", "Q2": "a"}, by_id)
    assert not A.is_shown(grandchild, {"Q1": "no", "Q2": "a"}, by_id)  # its parent is hidden


def test_missing_names_required_shown_questions_only_and_hidden_answers_are_dropped():
    parent = q("Q1", "yesno")
    child = q("Q2", "yesno", depends_on=1, depends_values=["yes"])
    optional = q("Q3", "text", required=False)
    questions = [parent, child, optional]

    assert [m.code for m in A.missing(questions, {})] == ["Q1"]
    assert [m.code for m in A.missing(questions, {"Q1": "yes"})] == ["Q2"]
    assert A.missing(questions, {"Q1": "no"}) == []
    assert A.visible_answers(questions, {"Q1": "no", "Q2": "yes"}) == {"Q1": "no"}
    assert A.progress(questions, {"Q1": "yes"}) == (1, 3)


def test_pages_follow_the_mechanisms_in_order():
    m11 = SimpleNamespace(code="1.1", title="Система оценки")
    m12 = SimpleNamespace(code="1.2", title="ШНОР")
    questions = [
        q("Q1", "yesno"),
        q("Q2", "yesno", mechanism_id=1, mechanism=m11),
        q("Q3", "yesno", mechanism_id=1, mechanism=m11),
        q("Q4", "yesno", mechanism_id=2, mechanism=m12),
    ]

    pages = A.pages(questions)

    assert [(p.number, [x.code for x in p.questions]) for p in pages] == [(1, ["Q1"]), (2, ["Q2", "Q3"]), (3, ["Q4"])]
    assert pages[1].title == "1.1. Система оценки"


def test_a_question_with_a_bad_definition_is_refused():
    bad = q("Q1", "single", choices=[{"value": "a", "label": "x"}, {"value": "a", "label": "y"}])

    assert A.question_errors(bad)
