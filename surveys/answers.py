"""Answers to a questionnaire: parsing what a form sent, validation, which questions are shown, pages.

Pure functions over question objects already loaded (no queries), so they run the same for a page
save, an autosave, the final submit and the tests. An answer set is a dict code → value: a string for
single choice, yes/no and scale, a list of strings for multiple choice, an int for a number, a string
for free text. A question that is not answered is absent."""

from dataclasses import dataclass, field

from django.utils.translation import gettext as _

SINGLE, MULTIPLE, SCALE, YESNO, NUMBER, TEXT = "single", "multiple", "scale", "yesno", "number", "text"
KINDS = {SINGLE, MULTIPLE, SCALE, YESNO, NUMBER, TEXT}
SCALE_VALUES = ("1", "2", "3", "4", "5")
YESNO_VALUES = ("yes", "no")
NUMBER_LIMIT = 10**9
VALUE_MAX = 64  # the length of ResponseAnswer.value


def allowed_values(question):
    if question.kind in (SINGLE, MULTIPLE):
        return [c["value"] for c in question.choices]
    if question.kind == SCALE:
        return list(SCALE_VALUES)
    if question.kind == YESNO:
        return list(YESNO_VALUES)
    return []


def parse(question, raw):
    """One question's value from the strings a form sent (`raw`: a list, as QueryDict.getlist gives).
    Returns (value or None, error message or None)."""
    raw = [r.strip() if isinstance(r, str) else r for r in raw if r not in (None, "")]
    raw = [r for r in raw if r != ""]
    if not raw:
        return None, None
    if question.kind == MULTIPLE:
        allowed = allowed_values(question)
        if any(not isinstance(r, str) or r not in allowed for r in raw):
            return None, _("Choose only among the offered options.")
        chosen = [v for v in allowed if v in raw]  # the questionnaire's order, no duplicates
        exclusive = {c["value"] for c in question.choices if c.get("exclusive")}
        if len(chosen) > 1 and exclusive & set(chosen):
            label = next(c["label"] for c in question.choices if c["value"] in exclusive & set(chosen))
            return None, _("«%(label)s» cannot be combined with other options.") % {"label": label}
        return chosen, None
    if len(raw) > 1:
        return None, _("Give one answer.")
    value = raw[0]
    if question.kind in (SINGLE, SCALE, YESNO):
        if not isinstance(value, str) or value not in allowed_values(question):
            return None, _("Choose among the offered options.")
        return value, None
    if question.kind == NUMBER:
        try:
            number = int(str(value).replace(" ", "").replace("\u00a0", ""))
        except (TypeError, ValueError):
            return None, _("Enter a whole number.")
        low = question.min_value if question.min_value is not None else 0
        high = question.max_value if question.max_value is not None else NUMBER_LIMIT
        if not low <= number <= high:
            return None, _("Enter a number from %(min)s to %(max)s.") % {"min": low, "max": high}
        return number, None
    if question.kind == TEXT:
        text = str(value).replace("\x00", "")
        if len(text) > question.max_length:
            return None, _("The answer is too long: %(n)s characters, at most %(max)s.") % {
                "n": len(text),
                "max": question.max_length,
            }
        return text, None
    return None, _("Unknown kind of question.")


def parse_stored(question, value):
    """Re-validate a value from a draft (JSON): the same rules as a form."""
    raw = value if isinstance(value, list) else [value]
    return parse(question, [str(v) if isinstance(v, int) and not isinstance(v, bool) else v for v in raw])


def is_shown(question, answers, by_id):
    """A dependent question is shown when the earlier answer is among its values (and the earlier
    question is itself shown)."""
    seen = set()
    while question.depends_on_id:
        if question.pk in seen:  # a cycle is refused by question_errors; never loop on bad data
            return False
        seen.add(question.pk)
        parent = by_id.get(question.depends_on_id)
        if parent is None:
            return False
        given = answers.get(parent.code)
        given = set(given) if isinstance(given, list) else {given} if given is not None else set()
        if not given & set(question.depends_values):
            return False
        question = parent
    return True


@dataclass
class Page:
    number: int  # 1-based
    title: str
    mechanism: object
    questions: list = field(default_factory=list)


def pages(questions):
    """Questions split into pages: the opening questions, then one page per mechanism, in order."""
    result = []
    for q in questions:
        key = q.mechanism_id
        if not result or result[-1].mechanism_id != key:
            mechanism = q.mechanism if key else None
            title = f"{mechanism.code}. {mechanism.title}" if mechanism else _("About you and your school")
            page = Page(len(result) + 1, title, mechanism)
            page.mechanism_id = key
            result.append(page)
        result[-1].questions.append(q)
    return result


def clean_answers(questions, submitted, *, only=None):
    """Validate `submitted` (code → raw list) for the questions in `only` (default: all) against the
    whole answer set. Returns (values, errors): values for the questions in `only` (hidden ones dropped),
    errors code → message. Required answers are not checked here (see missing)."""
    values, errors = {}, {}
    for q in only if only is not None else questions:
        value, error = parse(q, submitted.get(q.code, []))
        if error:
            errors[q.code] = error
        elif value is not None:
            values[q.code] = value
    return values, errors


def visible_answers(questions, answers):
    """Drop answers to questions that are hidden by the answers they depend on."""
    by_id = {q.pk: q for q in questions}
    return {q.code: answers[q.code] for q in questions if q.code in answers and is_shown(q, answers, by_id)}


def missing(questions, answers):
    """Required questions that are shown and not answered, in order."""
    by_id = {q.pk: q for q in questions}
    return [q for q in questions if q.required and q.code not in answers and is_shown(q, answers, by_id)]


def progress(questions, answers):
    """(answered, total) over the questions shown now."""
    by_id = {q.pk: q for q in questions}
    shown = [q for q in questions if is_shown(q, answers, by_id)]
    return sum(1 for q in shown if q.code in answers), len(shown)


def question_errors(question):
    """What keeps a question from being asked: used by the fixture import and the admin."""
    errors = []
    if question.kind not in KINDS:
        errors.append(_("Unknown kind of question."))
    if question.kind in (SINGLE, MULTIPLE):
        values = [c.get("value") for c in question.choices]
        if len(values) < 2:
            errors.append(_("A choice question needs at least two options."))
        if any(not isinstance(v, str) or not v or len(v) > VALUE_MAX for v in values):
            errors.append(_("Every option needs a short value."))
        if len(set(values)) != len(values):
            errors.append(_("Option values must differ."))
        if any(not c.get("label") for c in question.choices):
            errors.append(_("Every option needs a label."))
    if question.kind == YESNO and question.positive_answer not in ("", "yes", "no"):
        errors.append(_("Choose which answer of the yes/no question is positive."))
    if (
        question.kind == NUMBER
        and None not in (question.min_value, question.max_value)
        and question.min_value > question.max_value
    ):
        errors.append(_("The minimum is greater than the maximum."))
    if question.depends_on_id:
        parent = question.depends_on
        if parent.questionnaire_id != question.questionnaire_id or parent.order >= question.order:
            errors.append(_("A question may depend only on an earlier question of the same questionnaire."))
        elif not question.depends_values or not set(question.depends_values) <= set(allowed_values(parent)):
            errors.append(_("The values it depends on must be answers of that question."))
    return errors
