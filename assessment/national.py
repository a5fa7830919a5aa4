"""Synthetic national-scale data for benchmarks and load tests (`manage.py generate_national`).

At scale 1: 89 regions, 2,400 municipalities, 40,000 schools, a coordinator per region, an organizer per
municipality, 200 experts, an operator and a ministry user; one campaign on the 2020 methodology whose
results are published, every submission finalized (answers with evidence links, analyses, pre-scores,
expert scores, final scores, the status history, an expert assignment each) and its Results computed;
120,000 survey invitations and about 90,000 anonymous responses with their answers.

Deterministic: every phase draws from its own random.Random seeded with the seed (and, for the campaign,
its slug), and tokens and UUIDs come from those generators too, so the same seed, slug, scale and day give
the same rows. The territory and the people are generated once and reused by later runs (a second campaign
on the same territory); the campaign is refused if its slug exists, unless it is replaced.

Bulk writes only: bulk_create for the territory and the people, and for the large tables COPY on PostgreSQL
(executemany elsewhere) through `Writer`, with primary keys reserved in advance where later rows point to
them (answers → links, pre-score → expert score → final score)."""

import base64
import io
import json
import operator
import random
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as clock
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from assessment import review
from assessment.models import (
    Answer,
    Appeal,
    Attachment,
    Campaign,
    CampaignStage,
    Criterion,
    DeadlineExtension,
    EvidenceLink,
    LinkCheck,
    MechanismAnalysis,
    Participation,
    Result,
    ReviewAssignment,
    Score,
    Stage,
    StatusChange,
    Submission,
)
from municipalities.models import Appointment, Municipality, Region, Role, School

FIXTURES = Path(settings.BASE_DIR) / "fixtures"
PREFIX = "nat"  # municipality codes nat-43-007, usernames nat-organizer-43-007: what this module made
PASSWORD = "demo12345"  # the demo's password, for every generated account
DEFAULT_SEED = 2026
FULL = {"municipalities": 2400, "schools": 40000, "experts": 200}
# Share of invitations answered per role (about 75 % over all three), before each municipality's engagement.
RESPONSE_RATES = {"director": 0.86, "deputy": 0.76, "teacher": 0.63}


class GenerationError(Exception):
    """A refusal with a one-line message for the person running the command."""


# --- names ---------------------------------------------------------------------------------------------------

REGIONS = [
    "Республика Адыгея", "Республика Башкортостан", "Республика Бурятия", "Республика Алтай",
    "Республика Дагестан", "Республика Ингушетия", "Кабардино-Балкарская Республика", "Республика Калмыкия",
    "Карачаево-Черкесская Республика", "Республика Карелия", "Республика Коми", "Республика Марий Эл",
    "Республика Мордовия", "Республика Саха (Якутия)", "Республика Северная Осетия — Алания",
    "Республика Татарстан", "Республика Тыва", "Удмуртская Республика", "Республика Хакасия",
    "Чеченская Республика", "Чувашская Республика", "Алтайский край", "Краснодарский край",
    "Красноярский край", "Приморский край", "Ставропольский край", "Хабаровский край", "Амурская область",
    "Архангельская область", "Астраханская область", "Белгородская область", "Брянская область",
    "Владимирская область", "Волгоградская область", "Вологодская область", "Воронежская область",
    "Ивановская область", "Иркутская область", "Калининградская область", "Калужская область",
    "Камчатский край", "Кемеровская область — Кузбасс", "Кировская область", "Костромская область",
    "Курганская область", "Курская область", "Ленинградская область", "Липецкая область",
    "Магаданская область", "Московская область", "Мурманская область", "Нижегородская область",
    "Новгородская область", "Новосибирская область", "Омская область", "Оренбургская область",
    "Орловская область", "Пензенская область", "Пермский край", "Псковская область", "Ростовская область",
    "Рязанская область", "Самарская область", "Саратовская область", "Сахалинская область",
    "Свердловская область", "Смоленская область", "Тамбовская область", "Тверская область", "Томская область",
    "Тульская область", "Тюменская область", "Ульяновская область", "Челябинская область",
    "Забайкальский край", "Ярославская область", "Москва", "Санкт-Петербург", "Еврейская автономная область",
    "Донецкая Народная Республика", "Луганская Народная Республика", "Республика Крым",
    "Ненецкий автономный округ", "Запорожская область", "Херсонская область",
    "Ханты-Мансийский автономный округ — Югра", "Чукотский автономный округ", "Севастополь",
    "Ямало-Ненецкий автономный округ",
]  # fmt: skip
# Few municipalities of their own: the federal cities and the smallest okrugs.
SMALL_REGIONS = {"77": 0.2, "78": 0.2, "88": 0.1, "83": 0.3, "87": 0.3, "79": 0.4, "49": 0.5}

CITIES = [
    "Сосновск", "Берёзовск", "Каменск", "Заречинск", "Светлогорск", "Краснозаводск", "Лесогорск", "Озёрск",
    "Ключевск", "Северск", "Никольск", "Троицк", "Покровск", "Славянск", "Железногорск", "Зеленогорск",
    "Тихорецк", "Белогорск", "Новоуральск", "Красноармейск", "Благовещенск", "Приозёрск", "Солнечногорск",
    "Горнозаводск", "Высокогорск", "Черноречинск", "Среднеуральск", "Светлоярск", "Междуреченск",
    "Синегорск", "Дивногорск", "Краснокамск", "Верхнеозёрск", "Пригорск", "Медногорск", "Снежинск",
    "Заозёрск", "Лучегорск", "Ясногорск", "Кедровск",
]  # fmt: skip
DISTRICT_STEMS = [
    "Берёзовский", "Сосновский", "Каменский", "Ключевской", "Озёрский", "Заречный", "Лесной", "Покровский",
    "Никольский", "Троицкий", "Успенский", "Знаменский", "Михайловский", "Александровский", "Петровский",
    "Ивановский", "Богородский", "Воскресенский", "Рождественский", "Ильинский", "Красногорский",
    "Белореченский", "Светлоярский", "Кедровский", "Еловский", "Липовский", "Рябиновский", "Черёмуховский",
    "Полевской", "Луговской", "Степной", "Горный", "Речной", "Бобровский", "Лебяжский", "Журавлёвский",
    "Соколовский", "Орловский", "Медведский", "Волчанский", "Тополинский", "Ольховский", "Дубровский",
    "Боровской", "Мшинский", "Карьерный", "Песчанский", "Глинский", "Родниковский", "Студёновский",
]  # fmt: skip
PREFIXES = ["", "Ново", "Старо", "Верхне", "Нижне", "Усть-", "Больше", "Мало", "Красно", "Средне"]
VILLAGES = [
    "с. Берёзовка", "с. Никольское", "д. Ключи", "пос. Лесной", "с. Покровское", "с. Знаменка", "д. Сосновка",
    "пос. Заречный", "с. Ильинское", "с. Михайловка", "д. Горки", "с. Троицкое", "пос. Светлый",
    "с. Успенское", "д. Озерки", "с. Богородское", "пос. Речной", "с. Александровка", "д. Липовка",
    "с. Воскресенское", "пос. Степной", "с. Петровка", "д. Дубровка", "с. Рождествено", "пос. Кедровый",
]  # fmt: skip
MALE = ["Александр", "Сергей", "Андрей", "Алексей", "Дмитрий", "Михаил", "Владимир", "Николай", "Евгений",
        "Игорь", "Олег", "Павел", "Виктор", "Юрий", "Роман", "Константин", "Артём", "Максим", "Денис", "Илья"]  # fmt: skip
FEMALE = ["Елена", "Ольга", "Наталья", "Татьяна", "Ирина", "Светлана", "Марина", "Анна", "Екатерина",
          "Юлия", "Людмила", "Галина", "Надежда", "Оксана", "Мария", "Вера", "Лариса", "Алла", "Инна", "Жанна"]  # fmt: skip
PATRONYMICS = [
    ("Александрович", "Александровна"), ("Сергеевич", "Сергеевна"), ("Викторович", "Викторовна"),
    ("Николаевич", "Николаевна"), ("Владимирович", "Владимировна"), ("Иванович", "Ивановна"),
    ("Петрович", "Петровна"), ("Михайлович", "Михайловна"), ("Юрьевич", "Юрьевна"),
    ("Анатольевич", "Анатольевна"), ("Геннадьевич", "Геннадьевна"), ("Васильевич", "Васильевна"),
    ("Андреевич", "Андреевна"), ("Олегович", "Олеговна"), ("Борисович", "Борисовна"),
]  # fmt: skip
SURNAMES = [
    "Иванов", "Смирнов", "Кузнецов", "Попов", "Васильев", "Петров", "Соколов", "Михайлов", "Новиков",
    "Фёдоров", "Морозов", "Волков", "Алексеев", "Лебедев", "Семёнов", "Егоров", "Павлов", "Козлов",
    "Степанов", "Николаев", "Орлов", "Андреев", "Макаров", "Никитин", "Захаров", "Зайцев", "Соловьёв",
    "Борисов", "Яковлев", "Григорьев", "Романов", "Воробьёв", "Сергеев", "Кузьмин", "Фролов", "Александров",
    "Дмитриев", "Королёв", "Гусев", "Киселёв", "Ильин", "Максимов", "Поляков", "Сорокин", "Виноградов",
    "Ковалёв", "Белов", "Медведев", "Антонов", "Тарасов", "Жуков", "Баранов", "Филиппов", "Комаров",
    "Давыдов", "Беляев", "Герасимов", "Богданов", "Осипов", "Сидоров", "Матвеев", "Титов", "Марков",
    "Миронов", "Крылов", "Куликов", "Карпов", "Власов", "Мельников", "Денисов", "Гаврилов", "Тихонов",
    "Казаков", "Афанасьев", "Данилов", "Савельев", "Тимофеев", "Фомин", "Чернов", "Абрамов", "Мартынов",
    "Ефимов", "Федотов", "Щербаков", "Назаров", "Калинин", "Исаев", "Чернышёв", "Быков", "Маслов",
    "Родионов", "Коновалов", "Лазарев", "Воронин", "Климов", "Филатов", "Пономарёв", "Голубев", "Кудрявцев",
    "Прохоров", "Наумов", "Потапов", "Журавлёв", "Овчинников", "Трофимов", "Леонов", "Соболев", "Ермаков",
    "Колесников", "Гончаров", "Емельянов", "Никифоров", "Грачёв", "Котов", "Гришин", "Ефремов", "Архипов",
    "Громов", "Кириллов", "Малышев", "Панов", "Моисеев", "Румянцев", "Акимов", "Кондратьев", "Бирюков",
    "Горбунов", "Анисимов", "Еремин", "Тихомиров", "Галкин", "Лукьянов", "Михеев", "Скворцов", "Юдин",
    "Белоусов", "Нестеров", "Симонов", "Прокофьев", "Харитонов", "Князев", "Цветков", "Левин", "Митрофанов",
    "Воронцов", "Рябов", "Полянский", "Покровский", "Вознесенский", "Успенский", "Троицкий",
]  # fmt: skip

ORGS = [("МБОУ", "Муниципальное бюджетное общеобразовательное учреждение", 6),
        ("МАОУ", "Муниципальное автономное общеобразовательное учреждение", 2),
        ("МКОУ", "Муниципальное казённое общеобразовательное учреждение", 2)]  # fmt: skip
URBAN_TYPES = [("СОШ", "Средняя общеобразовательная школа", 70), ("гимназия", "Гимназия", 8),
               ("лицей", "Лицей", 7), ("ООШ", "Основная общеобразовательная школа", 5),
               ("СОШ с УИОП", "Средняя общеобразовательная школа с углублённым изучением отдельных предметов", 10)]  # fmt: skip
RURAL_TYPES = [("СОШ", "Средняя общеобразовательная школа", 62), ("ООШ", "Основная общеобразовательная школа", 30),
               ("НОШ", "Начальная общеобразовательная школа", 8)]  # fmt: skip

DESCRIPTIONS = {
    1: "Цели по направлению «{m}» закреплены в приказе управления образования от 28.08.{y0} № {n} «Об "
    "утверждении муниципальной модели управления качеством образования»; цели согласованы с региональной "
    "программой и доведены до руководителей школ.",
    2: "Утверждён перечень из {k} показателей по направлению «{m}» с формулами расчёта, источниками данных и "
    "целевыми значениями на {y0}/{y} учебный год.",
    3: "Сбор данных по направлению «{m}» ведётся через региональную информационную систему и формы "
    "отчётности школ; порядок и сроки закреплены в положении о муниципальной системе оценки качества.",
    4: "Мониторинг показателей проводится дважды в год (январь, июнь); результаты за {y1}/{y0} и {y0}/{y} "
    "учебные годы опубликованы на сайте управления образования.",
    5: "Подготовлена аналитическая справка по результатам мониторинга («{m}») с динамикой по школам и "
    "причинами отклонений; справка рассмотрена на совещании руководителей.",
    6: "По итогам анализа школам направлены адресные рекомендации (письмо управления образования от "
    "15.09.{y0} № {n}-01) руководителям и методическим объединениям.",
    7: "Утверждён план мероприятий (дорожная карта) по направлению «{m}» на {y0}/{y} учебный год с "
    "ответственными и сроками.",
    8: "Приняты управленческие решения по итогам анализа: приказ от 30.09.{y0} № {n} о мерах по направлению "
    "«{m}», решение коллегии управления образования.",
    9: "Эффективность принятых мер оценена сравнением показателей до и после реализации плана; отчёт за "
    "{y0}/{y} учебный год размещён на сайте.",
}
NOTHING = "Документы по направлению «{m}» в МОУО не разработаны; работа ведётся в рамках общего плана."
CONCLUSIONS = [
    "Механизм «{m}» выстроен по полному управленческому циклу; показатели отслеживаются ежегодно.",
    "По механизму «{m}» есть цели и показатели, но анализ и меры связаны между собой слабо.",
    "Механизм «{m}» представлен отдельными элементами: мониторинг ведётся, решения по нему не принимаются.",
]
PROBLEMS = [
    "Не во всех школах результаты мониторинга используются для корректировки планов.",
    "Часть данных собирается вручную, сроки сбора нарушаются.",
    "Рекомендации школам носят общий характер и не адресованы конкретным организациям.",
]
MEASURES = [
    "Перевести сбор данных в региональную информационную систему.",
    "Провести семинар для заместителей директоров по использованию результатов анализа.",
    "Ежегодно публиковать отчёт об эффективности принятых мер.",
]
EXPERT_REASONS = [
    "Подтверждающий документ на сайте МОУО не найден; балл снижен.",
    "Документ не содержит целевых значений показателей; балл снижен.",
    "Представленный документ относится к прошлому учебному году.",
    "Ссылка ведёт на общий раздел сайта; подтверждение найдено, балл повышен.",
]
SUGGESTIONS = [
    "Нужны адресные рекомендации по итогам ВПР по каждой школе, а не общий отчёт по району.",
    "Проводить муниципальные семинары в начале учебного года, когда планируется работа.",
    "Публиковать на сайте управления образования результаты мониторинга и принятые решения.",
    "Больше методической помощи молодым педагогам, закрепить наставников.",
    "Снизить число отчётов, которые школы заполняют вручную.",
    "Организовать обмен опытом между школами с высокими и низкими результатами.",
    "Сообщать школам, какие меры приняты по итогам анализа, и через год оценивать их эффект.",
]


def genitive(adjective):
    """Berёzovsky → Berёzovskogo: the generated adjectives all end in -ий, -ый or -ой."""
    return adjective[:-2] + "ого"


def person(rng):
    """(first name with patronymic, surname) of a man or a woman."""
    surname = rng.choice(SURNAMES)
    male, female = rng.choice(PATRONYMICS)
    if rng.random() < 0.72:  # most of the people in education authorities are women
        surname = surname[:-2] + "ая" if surname.endswith("ий") else surname + "а"
        return f"{rng.choice(FEMALE)} {female}", surname
    return f"{rng.choice(MALE)} {male}", surname


def apportion(total, weights, minimum=0):
    """`total` split in proportion to `weights` (largest remainders), each part at least `minimum`."""
    n = len(weights)
    if n == 0:
        return []
    base = [minimum] * n
    rest = total - minimum * n
    if rest <= 0:
        return base
    scale = sum(weights)
    exact = [w * rest / scale for w in weights]
    parts = [int(x) for x in exact]
    order = sorted(range(n), key=lambda i: (parts[i] - exact[i], i))
    for i in order[: rest - sum(parts)]:
        parts[i] += 1
    return [b + p for b, p in zip(base, parts, strict=True)]


def weighted(rng, options):
    """One (short, full) of (short, full, weight) options."""
    pick = rng.random() * sum(o[2] for o in options)
    for short, full, w in options:
        pick -= w
        if pick < 0:
            return short, full
    return options[-1][:2]


def token(rng):
    """What secrets.token_urlsafe(32) gives (43 characters), from the seeded generator."""
    return base64.urlsafe_b64encode(rng.randbytes(32)).rstrip(b"=").decode()


def random_uuid(rng):
    return uuid.UUID(int=rng.getrandbits(128), version=4)


# --- bulk writes ---------------------------------------------------------------------------------------------

NULL = "\\N"
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_TEXT = {"CharField", "TextField", "SlugField", "URLField", "EmailField"}
_ESCAPED = {}  # the short strings repeat (choices, roles, states): each escaped once


def _copy_text(value):
    escaped = _ESCAPED.get(value)
    if escaped is None:
        escaped = value.translate(_COPY_ESCAPES)
        if len(value) <= 64:
            _ESCAPED[value] = escaped
    return escaped


class Writer:
    """Rows into a table in bulk: COPY on PostgreSQL, executemany elsewhere. Rows are tuples of Python values
    in the order of `columns`; a column left out gets its field's default, the same for every row (so a field
    another change adds to a model keeps this working). Counts the rows written per model."""

    chunk = 50_000

    def __init__(self):
        self.pg = connection.vendor == "postgresql"
        self.counts = {}

    def reserve_ids(self, model, n):
        """`n` consecutive primary keys nobody else will use, for rows that later rows point to. The table is
        locked against other writers until the commit, so none of them takes a number in between."""
        table, pk = model._meta.db_table, model._meta.pk.column
        qn = connection.ops.quote_name
        with connection.cursor() as cursor:
            if self.pg:
                cursor.execute(f"LOCK TABLE {qn(table)} IN EXCLUSIVE MODE")
                cursor.execute(
                    "SELECT setval(s::regclass, nextval(s::regclass) + %s - 1) FROM pg_get_serial_sequence(%s, %s) AS s",
                    [n, table, pk],
                )
                last = cursor.fetchone()[0]
                return range(last - n + 1, last + 1)
            cursor.execute(f"SELECT MAX({qn(pk)}) FROM {qn(table)}")
            start = (cursor.fetchone()[0] or 0) + 1
            return range(start, start + n)

    def _defaults(self, model, columns):
        extra, values = [], []
        now = timezone.now()
        for f in model._meta.concrete_fields:
            if f.column in columns:
                continue
            if f.primary_key:
                if f.get_internal_type() in ("AutoField", "BigAutoField", "SmallAutoField"):
                    continue
                raise ValueError(f"{model.__name__}: the primary key {f.column} must be given")
            if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                value = now
            elif f.has_default() or (not f.null and f.empty_strings_allowed):
                value = f.get_default()  # the field's default, or "" for a text field without one
            elif f.null:
                value = None
            else:
                raise ValueError(f"{model.__name__}.{f.name} has no default: give it")
            extra.append(f)
            values.append(value)
        return extra, values

    def _copy_converter(self, f):
        """The function that writes a value of this field in COPY's text format. Hot: millions of calls."""
        kind = f.get_internal_type()
        if kind == "BooleanField":
            convert = {True: "t", False: "f"}.__getitem__
        elif kind == "JSONField":
            convert = lambda v: json.dumps(v, ensure_ascii=False).translate(_COPY_ESCAPES)  # noqa: E731
        elif kind in ("DateTimeField", "DateField"):
            convert = lambda v: v.isoformat()  # noqa: E731
        elif kind in _TEXT:
            convert = _copy_text
        else:  # numbers, keys, UUIDs
            convert = str
        if not f.null:
            return convert
        return lambda v: NULL if v is None else convert(v)

    def _db_converter(self, f):
        target = f.target_field if f.is_relation else f
        if target.get_internal_type() in ("DateTimeField", "DateField", "UUIDField", "JSONField", "DecimalField"):
            return lambda v: None if v is None else f.get_db_prep_save(v, connection)
        return None

    def insert(self, model, columns, rows):
        by_column = {f.column: f for f in model._meta.concrete_fields}
        fields = [by_column[c] for c in columns]
        extra, extra_values = self._defaults(model, set(columns))
        names = ", ".join(connection.ops.quote_name(f.column) for f in fields + extra)
        table = connection.ops.quote_name(model._meta.db_table)
        n = 0
        if self.pg:
            converters = [self._copy_converter(f) for f in fields]
            tail = "".join("\t" + self._copy_converter(f)(v) for f, v in zip(extra, extra_values, strict=True))
            sql = f"COPY {table} ({names}) FROM STDIN"
            buffer, pending = io.StringIO(), 0
            for row in rows:
                if len(row) != len(converters):
                    raise ValueError(f"{model.__name__}: a row of {len(row)} values for {len(converters)} columns")
                buffer.write("\t".join(map(operator.call, converters, row)) + tail + "\n")
                pending += 1
                if pending == self.chunk:
                    n += self._copy(sql, buffer, pending)
                    buffer, pending = io.StringIO(), 0
            n += self._copy(sql, buffer, pending)
        else:
            converters = [self._db_converter(f) for f in fields]
            tail = tuple((self._db_converter(f) or (lambda v: v))(v) for f, v in zip(extra, extra_values, strict=True))
            places = ", ".join(["%s"] * (len(fields) + len(extra)))
            sql = f"INSERT INTO {table} ({names}) VALUES ({places})"
            batch = []
            with connection.cursor() as cursor:
                for row in rows:
                    batch.append(tuple(v if c is None else c(v) for c, v in zip(converters, row, strict=True)) + tail)
                    if len(batch) == self.chunk:
                        cursor.executemany(sql, batch)
                        n, batch = n + len(batch), []
                if batch:
                    cursor.executemany(sql, batch)
                    n += len(batch)
        self.count(model, n)
        return n

    @contextmanager
    def bulk_load(self, *models):
        """Populate these tables the way PostgreSQL advises ("Populating a Database"): their foreign keys and
        plain indexes dropped before the COPY and made again after it. A deferred foreign key is otherwise
        checked row by row at commit (some ten million checks at full scale, half the run) and every index
        grows row by row; afterwards each key is checked by one join and each index built by one sort. The
        tables stay locked until the commit, and it needs their owner: without it (and on other databases)
        the rows go in the ordinary way."""
        dropped = []
        if self.pg:
            with connection.cursor() as cursor:
                # A table with checks still pending in this transaction cannot be altered: run them now.
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
                for model in models:
                    dropped += self._drop_keys_and_indexes(cursor, model._meta.db_table)
        yield
        if self.pg:
            with connection.cursor() as cursor:
                for _drop, create in dropped:
                    cursor.execute(create)
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")

    def _drop_keys_and_indexes(self, cursor, table):
        qn = connection.ops.quote_name
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = %s::regclass AND contype = 'f' ORDER BY conname",
            [table],
        )
        statements = [
            (
                f"ALTER TABLE {qn(table)} DROP CONSTRAINT {qn(name)}",
                f"ALTER TABLE {qn(table)} ADD CONSTRAINT {qn(name)} {definition}",
            )
            for name, definition in cursor.fetchall()
        ]
        cursor.execute(
            "SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "WHERE i.indrelid = %s::regclass AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid) "
            "ORDER BY c.relname",
            [table],
        )
        statements += [(f"DROP INDEX {qn(name)}", definition) for name, definition in cursor.fetchall()]
        try:
            with transaction.atomic():
                for drop, _create in statements:
                    cursor.execute(drop)
        except DatabaseError:
            return []
        return statements

    def _copy(self, sql, buffer, pending):
        if pending:
            buffer.seek(0)
            with connection.cursor() as cursor:
                cursor.cursor.copy_expert(sql, buffer)
        return pending

    def count(self, model, n):
        self.counts[model] = self.counts.get(model, 0) + n


LINK_OK = ("ok", 200, "application/pdf")
ANSWER_COLUMNS = ["id", "submission_id", "criterion_id", "description", "is_complete", "updated_at", "updated_by_id",
                  "version"]  # fmt: skip
LINK_COLUMNS = ["answer_id", "url", "position", "state", "checked_at", "http_status", "content_type", "created_at"]
ANALYSIS_COLUMNS = ["submission_id", "mechanism_id", "conclusions", "problems", "measures", "updated_at",
                    "updated_by_id", "version"]  # fmt: skip
SCORE_COLUMNS = ["id", "submission_id", "criterion_id", "round", "points", "comment", "by_id", "at", "is_current",
                 "previous_id"]  # fmt: skip
ASSIGNMENT_COLUMNS = ["submission_id", "expert_id", "assigned_by_id", "assigned_at", "due_on", "completed_at",
                      "is_active"]  # fmt: skip
CHANGE_COLUMNS = ["submission_id", "old", "new", "by_id", "at", "reason", "snapshot", "criteria"]
RESPONSE_COLUMNS = ["id", "campaign_id", "questionnaire_id", "municipality_id", "role"]
RESPONSE_ANSWER_COLUMNS = ["response_id", "question_id", "value", "number", "text"]
INVITATION_COLUMNS = ["campaign_id", "school_id", "role", "token", "created_at", "opened", "completed",
                      "emailed_at", "reminded_at"]  # fmt: skip


# --- the plan ------------------------------------------------------------------------------------------------


@dataclass
class Plan:
    slug: str = "national"
    seed: int = DEFAULT_SEED
    scale: float = 1.0
    today: date = None
    replace: bool = False

    def __post_init__(self):
        if not 0 < self.scale <= 2:
            raise GenerationError("Масштаб должен быть больше 0 и не больше 2.")
        self.today = self.today or timezone.localdate()

    def size(self, what):
        return max(1, round(FULL[what] * self.scale))

    @property
    def experts(self):
        return max(2, round(FULL["experts"] * self.scale))

    def rng(self, *parts):
        """A generator of its own for each phase: one phase's draws never shift another's."""
        return random.Random(":".join(str(p) for p in (self.seed, *parts)))

    @property
    def year(self):
        return self.today.year

    def stages(self):
        """Every stage over, the results published 50 days ago and for a year more."""
        t = self.today
        plan = {
            Stage.RESOURCES: (150, 137),
            Stage.CONSULTATION: (145, 125),
            Stage.DATA_COLLECTION: (140, 110),
            Stage.SURVEYS: (135, 100),
            Stage.PRESCORING: (109, 95),
            Stage.EXPERT_REVIEW: (94, 70),
            Stage.APPEALS: (69, 55),
            Stage.RESULTS: (50, -315),
        }
        return {stage: (t - timedelta(days=a), t - timedelta(days=b)) for stage, (a, b) in plan.items()}


def moment(day, hour, minute=0):
    return timezone.make_aware(datetime.combine(day, clock(hour, minute)))


@dataclass
class Territory:
    regions: list  # Region, by code
    municipalities: list  # Municipality of this module, by code
    schools: list  # (pk, municipality_id, has e-mail), by municipality code then creation
    coordinators: dict = field(default_factory=dict)  # region id → user id
    organizers: dict = field(default_factory=dict)  # municipality id → user id
    experts: list = field(default_factory=list)  # (user id, home region id or None)
    operator: int = None
    ministry: int = None


# --- the generator -------------------------------------------------------------------------------------------


class Generator:
    def __init__(self, plan, out=None):
        self.plan = plan
        self.out = out or (lambda line: None)
        self.writer = Writer()
        self.timings = []

    @contextmanager
    def phase(self, label):
        started = time.perf_counter()
        yield
        seconds = time.perf_counter() - started
        self.timings.append((label, seconds))
        self.out(f"{label}: {seconds:.1f} с")

    def run(self):
        started = time.perf_counter()
        with transaction.atomic():
            existing = Campaign.objects.filter(slug=self.plan.slug).first()
            if existing and not self.plan.replace:
                raise GenerationError(
                    f"Кампания «{self.plan.slug}» уже есть: укажите другой --slug или --replace, чтобы заменить её."
                )
            if existing:
                with self.phase("удаление прежней кампании"):
                    campaign_delete(existing)
            with self.phase("методика и анкеты"):
                self.methodology = methodology_load()
            with self.phase("территория"):
                territory = self.territory()
            with self.phase("люди"):
                self.people(territory)
            with self.phase("кампания и формы"):
                campaign = self.campaign(territory)
                points = self.final_points(territory)
                self.answers(campaign, territory, points)
            with self.phase("баллы, экспертизы, история"):
                self.scores(campaign, territory, points)
            with self.phase("результаты"):
                self.analyze(Score, Submission)
                review.results_compute(campaign=campaign)
                self.writer.count(Result, Result.objects.filter(campaign=campaign).count())
            with self.phase("анкетирование"):
                self.surveys(campaign, territory, points)
            commit_started = time.perf_counter()
        self.timings.append(("фиксация транзакции", time.perf_counter() - commit_started))
        self.out(f"фиксация транзакции: {self.timings[-1][1]:.1f} с")
        with self.phase("статистика таблиц"):
            self.analyze(*self.writer.counts)
        self.total_seconds = time.perf_counter() - started
        self.campaign = campaign
        return self

    def analyze(self, *models):
        """Fresh planner statistics after the bulk writes (PostgreSQL)."""
        if not self.writer.pg:
            return
        tables = ", ".join(connection.ops.quote_name(m._meta.db_table) for m in models)
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {tables}")

    # --- territory and people ---

    def territory(self):
        plan = self.plan
        wanted = plan.size("municipalities")
        have = Municipality.objects.filter(code__startswith=f"{PREFIX}-").count()
        if have and have != wanted:
            raise GenerationError(
                f"Синтетическая территория уже создана в другом масштабе (муниципалитетов: {have}, а нужно "
                f"{wanted}): запустите с тем же --scale."
            )
        if not have:
            self.territory_create(wanted)
        return self.territory_load()

    def territory_create(self, wanted):
        rng = self.plan.rng("territory")
        existing = {r.code: r for r in Region.objects.all()}
        new_regions = [
            Region(code=f"{i:02d}", name=name, quality_center="Региональный центр оценки качества образования")
            for i, name in enumerate(REGIONS, start=1)
            if f"{i:02d}" not in existing
        ]
        Region.objects.bulk_create(new_regions)
        self.writer.count(Region, len(new_regions))
        regions = sorted(Region.objects.filter(code__in=[f"{i:02d}" for i in range(1, 90)]), key=lambda r: r.code)
        weights = [rng.lognormvariate(0, 0.55) * SMALL_REGIONS.get(r.code, 1) for r in regions]
        if wanted >= len(regions):
            sizes = apportion(wanted, weights, minimum=1)
        else:  # fewer municipalities than regions: one each in `wanted` regions, the larger ones likelier
            keys = sorted(range(len(regions)), key=lambda i: -(rng.random() ** (1 / weights[i])))
            chosen = set(keys[:wanted])
            sizes = [1 if i in chosen else 0 for i in range(len(regions))]
        municipalities = []
        for region, size in zip(regions, sizes, strict=True):
            municipalities += self.region_municipalities(rng, region, size)
        Municipality.objects.bulk_create(municipalities, batch_size=1000)
        self.writer.count(Municipality, len(municipalities))
        municipalities = list(Municipality.objects.filter(code__startswith=f"{PREFIX}-").order_by("code"))
        school_weights = [
            rng.lognormvariate(0, 0.5) * (5 if m.kind == Municipality.Kind.CITY_DISTRICT else 1) for m in municipalities
        ]
        total = self.plan.size("schools")
        counts = apportion(total, school_weights, minimum=1 if total >= len(municipalities) else 0)
        schools = []
        for m, n in zip(municipalities, counts, strict=True):
            schools += self.municipality_schools(rng, m, n)
        School.objects.bulk_create(schools, batch_size=5000)
        self.writer.count(School, len(schools))

    def region_municipalities(self, rng, region, size):
        if not size:
            return []
        cities = rng.sample(CITIES, min(len(CITIES), max(1, round(size * rng.uniform(0.08, 0.2)))))
        stems = rng.sample(
            [p + (s if p.endswith("-") or not p else s.lower()) for p in PREFIXES for s in DISTRICT_STEMS], size
        )
        okrug_share = rng.choice([0, 0, 0.1, 0.3, 0.6, 1.0])
        result = []
        for i in range(size):
            code = f"{PREFIX}-{region.code}-{i + 1:03d}"
            if i < len(cities):
                kind = Municipality.Kind.CITY_DISTRICT
                name = f"город {cities[i]}"
                authority = f"Управление образования администрации города {cities[i]}а"
            elif rng.random() < okrug_share:
                kind = Municipality.Kind.MUNICIPAL_OKRUG
                name = f"{stems[i]} муниципальный округ"
                authority = f"Управление образования администрации {genitive(stems[i])} муниципального округа"
            else:
                kind = Municipality.Kind.MUNICIPAL_DISTRICT
                name = f"{stems[i]} район"
                authority = f"Отдел образования администрации {genitive(stems[i])} района"
            result.append(
                Municipality(
                    region=region,
                    code=code,
                    name=name,
                    kind=kind,
                    authority_name=authority,
                    website=f"https://{code}.obr.example",
                    email=f"uo@{code}.obr.example",
                    phone=f"+7 ({rng.randint(300, 899)}) {rng.randint(200, 999)}-{rng.randint(10, 99)}-"
                    f"{rng.randint(10, 99)}",
                )
            )
        return result

    def municipality_schools(self, rng, municipality, n):
        urban = municipality.kind == Municipality.Kind.CITY_DISTRICT
        city = municipality.name.removeprefix("город ") if urban else ""
        result = []
        for number in range(1, n + 1):
            org, org_full = weighted(rng, ORGS)
            kind, kind_full = weighted(rng, URBAN_TYPES if urban else RURAL_TYPES)
            place = f"г. {city}" if urban else rng.choice(VILLAGES)
            result.append(
                School(
                    municipality=municipality,
                    name=f"{org_full} «{kind_full} № {number}» {place}",
                    short_name=f"{org} {kind} № {number}" + ("" if urban else f" {place}"),
                    email=f"school{number}@{municipality.code}.obr.example" if rng.random() < 0.7 else "",
                )
            )
        return result

    def territory_load(self):
        codes = [f"{i:02d}" for i in range(1, 90)]
        municipalities = list(Municipality.objects.filter(code__startswith=f"{PREFIX}-").order_by("code"))
        order = {m.pk: i for i, m in enumerate(municipalities)}
        schools = sorted(
            School.objects.filter(municipality__in=municipalities, is_active=True).values_list(
                "pk", "municipality_id", "email"
            ),
            key=lambda s: (order[s[1]], s[0]),
        )
        return Territory(
            regions=list(Region.objects.filter(code__in=codes).order_by("code")),
            municipalities=municipalities,
            schools=[(pk, mid, bool(email)) for pk, mid, email in schools],
        )

    def people(self, territory):
        User = get_user_model()
        if not User.objects.filter(username=f"{PREFIX}-operator").exists():
            self.people_create(territory)
        users = dict(User.objects.filter(username__startswith=f"{PREFIX}-").values_list("username", "pk"))
        territory.operator = users[f"{PREFIX}-operator"]
        territory.ministry = users[f"{PREFIX}-ministry"]
        territory.coordinators = {r.pk: users[f"{PREFIX}-coordinator-{r.code}"] for r in territory.regions}
        territory.organizers = {
            m.pk: users[f"{PREFIX}-organizer-{m.code.removeprefix(PREFIX + '-')}"] for m in territory.municipalities
        }
        experts = (
            Appointment.objects.filter(role=Role.EXPERT, user__username__startswith=f"{PREFIX}-expert-")
            .order_by("user__username")
            .values_list("user_id", "region_id")
        )
        territory.experts = list(experts)

    def people_create(self, territory):
        rng = self.plan.rng("people")
        User = get_user_model()
        password = make_password(PASSWORD)  # hashing is slow: once for every account
        users, appointments = [], []

        def add(username, role, email, region=None, municipality=None, position="", **flags):
            first, last = person(rng)
            users.append(
                User(username=username, first_name=first, last_name=last, email=email, password=password, **flags)
            )
            appointments.append((username, role, region, municipality, position))

        add(f"{PREFIX}-operator", Role.OPERATOR, "operator@muko.example", position="Оператор платформы", is_staff=True)
        add(f"{PREFIX}-ministry", Role.MINISTRY, "ministry@muko.example", position="Консультант департамента")
        for r in territory.regions:
            add(
                f"{PREFIX}-coordinator-{r.code}",
                Role.COORDINATOR,
                f"coordinator-{r.code}@muko.example",
                region=r.pk,
                position="Региональный координатор",
            )
        for m in territory.municipalities:
            short = m.code.removeprefix(PREFIX + "-")
            add(
                f"{PREFIX}-organizer-{short}",
                Role.ORGANIZER,
                f"organizer@{m.code}.obr.example",
                region=m.region_id,
                municipality=m.pk,
                position="Главный специалист управления образования",
            )
        homes = [r.pk for r in territory.regions]
        for i in range(1, self.plan.experts + 1):
            # The first two come from different regions, so every submission has an expert from elsewhere.
            home = homes[i - 1] if i <= 2 else (None if rng.random() < 0.1 else rng.choice(homes))
            add(
                f"{PREFIX}-expert-{i:03d}", Role.EXPERT, f"expert-{i:03d}@muko.example", region=home, position="Эксперт"
            )
        User.objects.bulk_create(users, batch_size=2000)
        ids = dict(User.objects.filter(username__startswith=f"{PREFIX}-").values_list("username", "pk"))
        Appointment.objects.bulk_create(
            (
                Appointment(
                    user_id=ids[u], role=role, region_id=region, municipality_id=municipality, position=position
                )
                for u, role, region, municipality, position in appointments
            ),
            batch_size=2000,
        )
        self.writer.count(User, len(users))
        self.writer.count(Appointment, len(appointments))

    # --- the campaign ---

    def campaign(self, territory):
        plan = self.plan
        self.stage_dates = plan.stages()
        campaign = Campaign.objects.create(
            slug=plan.slug,
            title=f"Оценка муниципальных механизмов управления качеством образования, {plan.year} "
            "(синтетические данные)",
            year=plan.year,
            methodology=self.methodology,
            created_by_id=territory.operator,
        )
        CampaignStage.objects.bulk_create(
            CampaignStage(campaign=campaign, stage=stage, starts_on=start, ends_on=end)
            for stage, (start, end) in self.stage_dates.items()
        )
        Participation.objects.bulk_create(
            (Participation(campaign=campaign, municipality=m) for m in territory.municipalities), batch_size=2000
        )
        rng = plan.rng(plan.slug, "submissions")
        collection_end = self.stage_dates[Stage.DATA_COLLECTION][1]
        finalized = moment(self.stage_dates[Stage.EXPERT_REVIEW][1], 18)
        submissions = []
        for m in territory.municipalities:
            day = collection_end - timedelta(days=rng.randint(0, 12))
            submissions.append(
                Submission(
                    campaign=campaign,
                    municipality=m,
                    status=Submission.Status.FINALIZED,
                    submitted_at=moment(day, rng.randint(9, 17), rng.randint(0, 59)),
                    last_activity_at=finalized,
                )
            )
        Submission.objects.bulk_create(submissions, batch_size=2000)
        self.submissions = {
            mid: (pk, submitted_at)
            for pk, mid, submitted_at in campaign.submissions.values_list("pk", "municipality_id", "submitted_at")
        }
        self.criteria = list(
            Criterion.objects.filter(mechanism__methodology=self.methodology)
            .order_by("mechanism__order", "component__order")
            .values_list("pk", "code", "max_points", "component__order", "mechanism_id", "mechanism__short_title")
        )
        self.writer.count(Campaign, 1)
        self.writer.count(CampaignStage, len(self.stage_dates))
        self.writer.count(Participation, len(territory.municipalities))
        self.writer.count(Submission, len(submissions))
        return campaign

    def final_points(self, territory):
        """{municipality id: [points per criterion]}: each region has its level, each municipality strays from
        it, cities do a little better; the totals spread from nearly nothing to well over half the maximum."""
        rng = self.plan.rng(self.plan.slug, "points")
        region_level = {r.pk: rng.uniform(0.12, 0.55) for r in territory.regions}
        points = {}
        for m in territory.municipalities:
            strength = region_level[m.region_id] + rng.gauss(0, 0.13)
            strength += 0.08 if m.kind == Municipality.Kind.CITY_DISTRICT else 0
            strength = min(0.95, max(0.0, strength))
            row = []
            for _pk, _code, maximum, component, *_ in self.criteria:
                # The later steps of the cycle (analysis, measures, their effect) are the weaker ones.
                p = min(1.0, max(0.0, strength + rng.gauss(0, 0.2) - 0.03 * (component - 4)))
                row.append(min(maximum, int(p * maximum + rng.random())))
            points[m.pk] = row
        return points

    def answers(self, campaign, territory, points):
        """An answer per criterion: a short description and one or two links on the authority's website; where
        nothing is in place, mostly a line saying so and no link. An analysis per mechanism."""
        rng = self.plan.rng(self.plan.slug, "answers")
        y = self.plan.year
        years = {"y": y, "y0": y - 1, "y1": y - 2}
        answers, links, analyses = [], [], []
        ids = iter(self.writer.reserve_ids(Answer, len(territory.municipalities) * len(self.criteria)))
        checked = moment(self.stage_dates[Stage.PRESCORING][0], 3)
        mechanisms = list(dict.fromkeys((c[4], c[5]) for c in self.criteria))
        for m in territory.municipalities:
            submission_id, submitted_at = self.submissions[m.pk]
            organizer = territory.organizers[m.pk]
            website = m.website.rstrip("/")
            for (criterion_id, code, _max, component, _mech, short), given in zip(
                self.criteria, points[m.pk], strict=True
            ):
                answer_id = next(ids)
                nothing = given == 0 and rng.random() < 0.6
                if nothing:
                    text = NOTHING.format(m=short)
                else:
                    text = DESCRIPTIONS[component].format(
                        m=short, n=rng.randint(100, 900), k=rng.randint(5, 14), **years
                    )
                answers.append((answer_id, submission_id, criterion_id, text, True, submitted_at, organizer, 1))
                if nothing:
                    continue
                urls = [f"{website}/documents/muko-{y}/{code}.pdf"]
                if rng.random() < 0.35:
                    urls.append(f"{website}/monitoring/{y}/{code.rsplit('.', 1)[0]}/")
                for position, url in enumerate(urls):
                    state, status, kind = ("dead", 404, "text/html") if rng.random() < 0.04 else LINK_OK
                    links.append((answer_id, url, position, state, checked, status, kind, checked))
            for mechanism_id, short in mechanisms:
                conclusions, problems, measures = (rng.choice(CONCLUSIONS), rng.choice(PROBLEMS), rng.choice(MEASURES))
                analyses.append(
                    (submission_id, mechanism_id, conclusions.format(m=short), problems, measures, submitted_at)
                    + (organizer, 1)
                )
        w = self.writer
        with w.bulk_load(Answer, EvidenceLink, MechanismAnalysis):
            w.insert(Answer, ANSWER_COLUMNS, answers)
            w.insert(EvidenceLink, LINK_COLUMNS, links)
            w.insert(MechanismAnalysis, ANALYSIS_COLUMNS, analyses)

    def scores(self, campaign, territory, points):
        """Pre-score by the region's coordinator (now and then a point off), the assigned expert's score (the
        final points, with a reason where they differ from the pre-score), the final score by the operator;
        each row linked to the one it follows, as the review does. One expert per submission from another
        region, the least loaded first; the four moves of the status history."""
        rng = self.plan.rng(self.plan.slug, "scores")
        stages = self.stage_dates
        n = len(territory.municipalities) * len(self.criteria)
        ids = iter(self.writer.reserve_ids(Score, 3 * n))
        prescores, experts, finals, assignments, changes = [], [], [], [], []
        load = {expert: (0, rng.random()) for expert, _home in territory.experts}
        operator = territory.operator
        review_start, review_end = stages[Stage.EXPERT_REVIEW]
        for m in territory.municipalities:
            submission_id, submitted_at = self.submissions[m.pk]
            coordinator = territory.coordinators[m.region_id]
            eligible = [e for e, home in territory.experts if home != m.region_id]
            expert = min(eligible, key=load.__getitem__)
            load[expert] = (load[expert][0] + 1, load[expert][1])
            prescored = moment(stages[Stage.PRESCORING][0] + timedelta(days=rng.randint(0, 12)), rng.randint(9, 17))
            in_review = moment(review_start, 9)
            reviewed = moment(review_start + timedelta(days=rng.randint(1, 20)), rng.randint(9, 19))
            finalized = moment(review_end, 18)
            for (criterion_id, _code, maximum, *_), final in zip(self.criteria, points[m.pk], strict=True):
                pre, chance = final, rng.random()
                if chance < 0.09:  # the coordinators are a little generous
                    pre = min(maximum, final + rng.randint(1, 2))
                elif chance < 0.12:
                    pre = max(0, final - 1)
                comment = rng.choice(EXPERT_REASONS) if pre != final else ""
                pre_id, expert_id, final_id = next(ids), next(ids), next(ids)
                key = (submission_id, criterion_id)
                prescores.append((pre_id, *key, "prescore", pre, "", coordinator, prescored, True, None))
                experts.append((expert_id, *key, "expert", final, comment, expert, reviewed, True, pre_id))
                finals.append((final_id, *key, "final", final, comment, operator, finalized, True, expert_id))
            assignments.append((submission_id, expert, operator, in_review, review_end, reviewed, True))
            organizer = territory.organizers[m.pk]
            for old, new, by, at in (
                ("draft", "submitted", organizer, submitted_at),
                ("submitted", "prescored", coordinator, prescored),
                ("prescored", "in_review", operator, in_review),
                ("in_review", "finalized", operator, finalized),
            ):
                changes.append((submission_id, old, new, by, at, "", None, []))
        w = self.writer
        with w.bulk_load(Score, ReviewAssignment, StatusChange):
            for rows in (prescores, experts, finals):
                w.insert(Score, SCORE_COLUMNS, rows)
            w.insert(ReviewAssignment, ASSIGNMENT_COLUMNS, assignments)
            w.insert(StatusChange, CHANGE_COLUMNS, changes)

    # --- surveys ---

    def surveys(self, campaign, territory, points):
        """An invitation per school and role; most answered, the better municipalities' schools more positively.
        A Response carries the municipality and the role only, as response_submit stores it; the rows are
        written in a shuffled order (never the schools' order), and every group of at least PUBLICATION_STEP
        responses is published as one step, as after a survey that has closed."""
        from surveys.models import PUBLICATION_STEP, Invitation, Response, ResponseAnswer

        rng = self.plan.rng(self.plan.slug, "surveys")
        questions = survey_questions(self.methodology)
        start, end = self.stage_dates[Stage.SURVEYS]
        days = (end - start).days
        created = moment(start, 8)
        max_total = sum(c[2] for c in self.criteria)
        engagement = {m.pk: rng.uniform(0.85, 1.15) for m in territory.municipalities}
        positive = {m.pk: 0.3 + 0.6 * sum(points[m.pk]) / max_total for m in territory.municipalities}
        invitations, answered, size = [], [], 0
        w = self.writer

        def flush():
            rng.shuffle(answered)
            w.insert(Response, RESPONSE_COLUMNS, [response for response, _rows in answered])
            w.insert(ResponseAnswer, RESPONSE_ANSWER_COLUMNS, [row for _response, rows in answered for row in rows])
            answered.clear()

        with w.bulk_load(Response, ResponseAnswer, Invitation):
            for school_id, municipality_id, has_email in territory.schools:
                for role, rate in RESPONSE_RATES.items():
                    emailed = created + timedelta(days=1) if has_email else None
                    opened = completed = False
                    reminded = None
                    if rng.random() < min(0.98, rate * engagement[municipality_id]):
                        opened = completed = True
                        response_id = str(random_uuid(rng))
                        qs = questions[role]
                        rows = list(answer_rows(rng, response_id, qs, positive[municipality_id]))
                        answered.append(
                            ((response_id, campaign.pk, qs[0].questionnaire_id, municipality_id, role), rows)
                        )
                        size += len(rows)
                    else:
                        opened = rng.random() < 0.15
                        if has_email and rng.random() < 0.6:
                            reminded = created + timedelta(days=min(days, 21), hours=2)
                    invitations.append(
                        (campaign.pk, school_id, role, token(rng), created, opened, completed, emailed, reminded)
                    )
                if size >= 200_000:
                    flush()
                    size = 0
            flush()
            w.insert(Invitation, INVITATION_COLUMNS, invitations)
        table = Response._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET release = 1 WHERE campaign_id = %s AND (SELECT COUNT(*) FROM {table} g "
                f"WHERE g.campaign_id = {table}.campaign_id AND g.municipality_id = {table}.municipality_id "
                f"AND g.role = {table}.role) >= %s",
                [campaign.pk, PUBLICATION_STEP],
            )


@dataclass
class SurveyQuestion:
    pk: int
    questionnaire_id: int
    code: str
    kind: str
    required: bool
    parent: str  # the code of the question it depends on, or ""
    parent_values: frozenset
    values: list  # the allowed values, in order
    good: list
    bad: list
    exclusive: list
    low: int = 0
    high: int = 0


def survey_questions(methodology):
    """The questions of each role, in order, reduced to what answering them needs."""
    from surveys import answers as A
    from surveys.models import Question

    result = {}
    qs = Question.objects.filter(questionnaire__methodology=methodology).select_related("questionnaire", "depends_on")
    for q in qs.order_by("questionnaire__role", "order"):
        values = A.allowed_values(q)
        positive = q.positive_values
        if q.kind == A.MULTIPLE:
            good = [c["value"] for c in q.choices if c.get("positive") and not c.get("exclusive")]
            bad = [c["value"] for c in q.choices if not c.get("positive") and not c.get("exclusive")]
        else:
            good = [v for v in values if v in positive] or values
            bad = [v for v in values if v not in positive] or values
        low = q.min_value or 0
        high = min(q.max_value if q.max_value is not None else 50, low + 40)
        result.setdefault(q.questionnaire.role, []).append(
            SurveyQuestion(
                pk=q.pk,
                questionnaire_id=q.questionnaire_id,
                code=q.code,
                kind=q.kind,
                required=q.required,
                parent=q.depends_on.code if q.depends_on_id else "",
                parent_values=frozenset(q.depends_values),
                values=values,
                good=good,
                bad=bad,
                exclusive=[c["value"] for c in q.choices if c.get("exclusive")],
                low=low,
                high=high,
            )
        )
    missing = {"director", "deputy", "teacher"} - set(result)
    if missing:
        raise GenerationError(f"Нет анкет для ролей: {', '.join(sorted(missing))}.")
    return result


def answer_rows(rng, response_id, questions, p_positive):
    """The ResponseAnswer rows of one valid answer set (what surveys.answers accepts), as answer_rows in
    surveys/services.py lays them out: one row per chosen option, the number in `value` and `number`."""
    given = {}
    rows = []
    for q in questions:
        if q.parent:
            answer = given.get(q.parent)
            if answer is None or not (set(answer) if isinstance(answer, list) else {answer}) & q.parent_values:
                continue
        if not q.required and rng.random() > (0.25 if q.kind == "text" else 0.7):
            continue
        good = rng.random() < p_positive
        if q.kind == "text":
            text = rng.choice(SUGGESTIONS)
            given[q.code] = text
            rows.append((response_id, q.pk, "", None, text))
        elif q.kind == "number":
            number = rng.randint(q.low, q.high)
            given[q.code] = number
            rows.append((response_id, q.pk, str(number), number, ""))
        elif q.kind == "multiple":
            if good and q.good:
                chosen = set(rng.sample(q.good, rng.randint(1, len(q.good))))
            elif q.exclusive and rng.random() < 0.5:
                chosen = {q.exclusive[0]}
            else:
                chosen = {rng.choice(q.bad or q.good)}
            values = [v for v in q.values if v in chosen]
            given[q.code] = values
            rows.extend((response_id, q.pk, v, None, "") for v in values)
        else:
            value = rng.choice(q.good if good else q.bad)
            given[q.code] = value
            rows.append((response_id, q.pk, value, None, ""))
    return rows


# --- methodology, deletion, totals ---------------------------------------------------------------------------


def methodology_load():
    """The 2020 methodology and its questionnaires, imported when missing (both imports are idempotent)."""
    from assessment.services import methodology_import_file
    from surveys.models import Questionnaire
    from surveys.services import questionnaires_import_file

    methodology, _ = methodology_import_file(path=FIXTURES / "methodology_2020.json")
    if not Questionnaire.objects.filter(methodology=methodology).exists():
        questionnaires_import_file(path=FIXTURES / "questionnaires_2020.json", methodology=methodology)
    return methodology


def campaign_delete(campaign):
    """Remove a generated campaign and everything under it (the territory and the people stay). The large
    tables go by one DELETE each; the rest by the ORM's cascade. Refused for a campaign with a municipality
    this module did not make: a real campaign is never deleted this way."""
    from surveys.models import Draft, Invitation, Response, ResponseAnswer

    foreign = campaign.participations.exclude(municipality__code__startswith=f"{PREFIX}-").count()
    if foreign:
        raise GenerationError(
            f"Кампания «{campaign.slug}» не синтетическая ({foreign} настоящих муниципалитетов): её не заменяю."
        )
    qn = connection.ops.quote_name

    def table(model):
        return qn(model._meta.db_table)

    submissions = f"SELECT id FROM {table(Submission)} WHERE campaign_id = %s"
    answers = f"SELECT id FROM {table(Answer)} WHERE submission_id IN ({submissions})"
    links = f"SELECT id FROM {table(EvidenceLink)} WHERE answer_id IN ({answers})"
    statements = [
        f"DELETE FROM {table(ResponseAnswer)} WHERE response_id IN "
        f"(SELECT id FROM {table(Response)} WHERE campaign_id = %s)",
        f"DELETE FROM {table(Response)} WHERE campaign_id = %s",
        f"DELETE FROM {table(Draft)} WHERE invitation_id IN (SELECT id FROM {table(Invitation)} WHERE campaign_id = %s)",
        f"DELETE FROM {table(Invitation)} WHERE campaign_id = %s",
        f"DELETE FROM {table(Result)} WHERE campaign_id = %s",
        f"DELETE FROM {table(LinkCheck)} WHERE link_id IN ({links})",
        f"DELETE FROM {table(EvidenceLink)} WHERE answer_id IN ({answers})",
        f"DELETE FROM {table(Attachment)} WHERE answer_id IN ({answers})",
        f"DELETE FROM {table(Answer)} WHERE submission_id IN ({submissions})",
        f"DELETE FROM {table(Appeal)} WHERE submission_id IN ({submissions})",
        f"DELETE FROM {table(Score)} WHERE submission_id IN ({submissions})",
    ]
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql, [campaign.pk])
    for model in (MechanismAnalysis, StatusChange, ReviewAssignment, DeadlineExtension):
        model.objects.filter(submission__campaign=campaign).delete()
    Submission.objects.filter(campaign=campaign).delete()
    campaign.delete()


def totals(campaign):
    """(label, rows) of what the national data holds, for the command's summary."""
    from surveys.models import Invitation, Response, ResponseAnswer

    generated = Municipality.objects.filter(code__startswith=f"{PREFIX}-")
    submissions = Submission.objects.filter(campaign=campaign)
    responses = Response.objects.filter(campaign=campaign)
    return [
        ("регионы", Region.objects.count()),
        ("муниципалитеты", generated.count()),
        ("школы", School.objects.filter(municipality__in=generated).count()),
        ("пользователи", get_user_model().objects.filter(username__startswith=f"{PREFIX}-").count()),
        ("назначения", Appointment.objects.filter(user__username__startswith=f"{PREFIX}-").count()),
        ("формы (submissions)", submissions.count()),
        ("ответы на критерии", Answer.objects.filter(submission__campaign=campaign).count()),
        ("ссылки-подтверждения", EvidenceLink.objects.filter(answer__submission__campaign=campaign).count()),
        ("анализ по механизмам", MechanismAnalysis.objects.filter(submission__campaign=campaign).count()),
        ("баллы", Score.objects.filter(submission__campaign=campaign).count()),
        ("назначения экспертов", ReviewAssignment.objects.filter(submission__campaign=campaign).count()),
        ("история статусов", StatusChange.objects.filter(submission__campaign=campaign).count()),
        ("результаты", Result.objects.filter(campaign=campaign).count()),
        ("приглашения в анкетирование", Invitation.objects.filter(campaign=campaign).count()),
        ("анкеты (responses)", responses.count()),
        ("ответы анкет", ResponseAnswer.objects.filter(response__campaign=campaign).count()),
    ]


def generate(*, slug="national", seed=DEFAULT_SEED, scale=1.0, today=None, replace=False, out=None):
    """Generate (see the module's docstring); returns the Generator with its campaign, timings and counts."""
    plan = Plan(slug=slug, seed=seed, scale=scale, today=today, replace=replace)
    return Generator(plan, out=out).run()
