"""Builds eval/datasets/django-docs.jsonl and fetches its corpus, Django's own documentation
(see README.md here). The questions below were written by reading the pages and the
screenshots of Django 5.2.8's docs; the corpus is not committed: this script downloads the
source distribution from PyPI (``pip download --no-deps --no-binary :all: django==5.2.8``) and
copies its ``docs/`` pages (reStructuredText, ``.txt``) and screenshots (``_images/*.png``)
into corpus/django-docs/.

Every answer is checked against the text of the file it is said to be in (for a screenshot,
against the text typed in from looking at it), so a question cannot claim a fact the page
does not state. Run: ``python eval/datasets/build_django_docs.py [--sdist PATH]``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

HERE = Path(__file__).parent
VERSION = "5.2.8"
CORPUS = "corpus/django-docs"  # relative to this folder, where the JSONL lives
SKIP_DIRS = {"_theme", "_ext", "man"}

# (question, accepted answers, the page that states it); answers as the page writes them
TEXT = [
    ("What is the default value of SESSION_COOKIE_AGE?", ["1209600"], "ref/settings.txt"),
    ("How long does a session cookie last by default?", ["2 weeks"], "ref/settings.txt"),
    ("What is the default CSRF cookie age in seconds?", ["31449600"], "ref/settings.txt"),
    ("What is the default of DATA_UPLOAD_MAX_MEMORY_SIZE?", ["2621440"], "ref/settings.txt"),
    ("How many GET/POST parameters does DATA_UPLOAD_MAX_NUMBER_FIELDS allow by default?",
     ["1000"], "ref/settings.txt"),
    ("How long is a password reset link valid by default?", ["259200", "3 days"],
     "ref/settings.txt"),
    ("What is the default TIME_ZONE setting?", ["America/Chicago"], "ref/settings.txt"),
    ("What is the default LANGUAGE_CODE?", ["en-us"], "ref/settings.txt"),
    ("What is the default name of the session cookie?", ["sessionid"], "ref/settings.txt"),
    ("What is the default value of X_FRAME_OPTIONS?", ["DENY"], "ref/settings.txt"),
    ("What is the default EMAIL_PORT?", ["25"], "ref/settings.txt"),
    ("Where are users redirected after login when no next parameter is given?",
     ["/accounts/profile/"], "ref/settings.txt"),
    ("What is the default LOGIN_URL?", ["/accounts/login/"], "ref/settings.txt"),
    ("Which hosts are allowed when DEBUG is True and ALLOWED_HOSTS is empty?",
     ["'.localhost', '127.0.0.1', '[::1]'"], "ref/settings.txt"),
    ("What is the name of the language cookie by default?", ["django_language"],
     "ref/settings.txt"),
    ("What name does the test database get by default?", ["'test_' + DATABASE_NAME"],
     "ref/settings.txt"),
    ("What is the default cache timeout?", ["300 seconds", "5 minutes"], "topics/cache.txt"),
    ("How many entries does the local-memory cache hold before culling by default?",
     ["300"], "topics/cache.txt"),
    ("What is the default CULL_FREQUENCY of the cache?", ["3"], "topics/cache.txt"),
    ("Which backend is the default local-memory cache?",
     ["django.core.cache.backends.locmem.LocMemCache"], "topics/cache.txt"),
    ("Which password hashing algorithm does Django use by default?", ["PBKDF2"],
     "topics/auth/passwords.txt"),
    ("Which hash function does the default password hasher use?", ["SHA256"],
     "topics/auth/passwords.txt"),
    ("What is the default minimum length of the MinimumLengthValidator?", ["8"],
     "topics/auth/passwords.txt"),
    ("How many characters may a username have at most?", ["150 characters"],
     "ref/contrib/auth.txt"),
    ("Which minimum PostgreSQL version does Django support?", ["PostgreSQL 14"],
     "ref/databases.txt"),
    ("Which psycopg version is required for PostgreSQL?", ["3.1.8"], "ref/databases.txt"),
    ("Which minimum MariaDB version does Django support?", ["10.5"], "ref/databases.txt"),
    ("Which minimum MySQL version does Django support?", ["8.0.11"], "ref/databases.txt"),
    ("Which minimum SQLite version does Django support?", ["3.31.0"], "ref/databases.txt"),
    ("Which Python versions does Django 5.2 support?", ["3.10, 3.11, 3.12, 3.13"],
     "faq/install.txt"),
    ("Which Python versions can be used with Django 5.0?", ["3.10, 3.11, 3.12"],
     "faq/install.txt"),
    ("How many items does an admin change list page show by default?", ["100"],
     "ref/contrib/admin/index.txt"),
    ("How many items can the admin's Show all link display by default?", ["200"],
     "ref/contrib/admin/index.txt"),
    ("Which ModelAdmin attribute adds date-based drilldown navigation?", ["date_hierarchy"],
     "ref/contrib/admin/index.txt"),
    ("What does floatformat do without an argument?", ["one decimal"],
     "ref/templates/builtins.txt"),
    ("What does 34.26000 become with the floatformat filter?", ["34.3"],
     "ref/templates/builtins.txt"),
    ("What is the default max_length of an EmailField?", ["254"], "ref/models/fields.txt"),
    ("What max_length does a URLField get by default?", ["200"], "ref/models/fields.txt"),
    ("Which command displays the SQL statements for a migration?", ["sqlmigrate"],
     "topics/migrations.txt"),
    ("Which management command creates superusers?", ["createsuperuser"],
     "topics/auth/default.txt"),
    ("What is the default test runner class?", ["django.test.runner.DiscoverRunner"],
     "topics/testing/advanced.txt"),
    ("Which class is the default message storage?", ["FallbackStorage"],
     "ref/contrib/messages.txt"),
    ("Which upload handlers does Django use by default?",
     ["MemoryFileUploadHandler", "TemporaryFileUploadHandler"],
     "topics/http/file-uploads.txt"),
    ("Which status code does redirect() use when permanent is True?", ["301"],
     "topics/http/shortcuts.txt"),
    ("What directory does the tutorial create for the project?", ["djangotutorial"],
     "intro/tutorial01.txt"),
    ("How long may lines of code be under Django's coding style?", ["88 characters"],
     "internals/contributing/writing-code/coding-style.txt"),
    ("At what width should comments and docstrings be wrapped?", ["79 characters"],
     "internals/contributing/writing-code/coding-style.txt"),
    ("How do you declare a composite primary key on a model?", ["CompositePrimaryKey"],
     "topics/composite-primary-key.txt"),
    ("Which middleware provides clickjacking protection?", ["XFrameOptionsMiddleware"],
     "ref/clickjacking.txt"),
    ("What is the maximum length accepted by URLValidator?", ["2048 characters"],
     "ref/validators.txt"),
    ("What is the usual size limit of a cookie?", ["4096 bytes"], "topics/http/sessions.txt"),
    ("Which class helps write middleware compatible with old-style MIDDLEWARE?",
     ["MiddlewareMixin"], "topics/http/middleware.txt"),
    ("What is the default value of SECURE_REFERRER_POLICY?", ["same-origin"],
     "ref/settings.txt"),
]

# more text questions, checked against the page the same way (see _more_text below)
MORE_TEXT = [
    ("What is the default value of CONN_MAX_AGE?", ["0"], "ref/settings.txt"),
    ("Which settings file variable lists the installed applications?", ["INSTALLED_APPS"],
     "ref/settings.txt"),
    ("What is the default value of DEFAULT_CHARSET?", ["utf-8"], "ref/settings.txt"),
    ("What is the default session engine?", ["django.contrib.sessions.backends.db"],
     "ref/settings.txt"),
    ("What is the default value of APPEND_SLASH?", ["True"], "ref/settings.txt"),
    ("What does the default DEFAULT_AUTO_FIELD setting name?",
     ["django.db.models.AutoField"], "ref/settings.txt"),
    ("What is the default EMAIL_HOST?", ["localhost"], "ref/settings.txt"),
    ("Which exception does get() raise when more than one object matches?",
     ["MultipleObjectsReturned"], "topics/db/queries.txt"),
    ("Which shortcut returns an object or raises Http404?", ["get_object_or_404"],
     "topics/http/shortcuts.txt"),
    ("Which decorator restricts a view to logged-in users?", ["login_required"],
     "topics/auth/default.txt"),
    ("Which function sends an email to the people listed in ADMINS?", ["mail_admins"],
     "topics/email.txt"),
    ("Which template tag protects forms against cross-site request forgery?",
     ["csrf_token"], "ref/csrf.txt"),
    ("What is the CSRF token cookie called by default?", ["csrftoken"], "howto/csrf.txt"),
    ("Which setting makes every view run inside a database transaction?",
     ["ATOMIC_REQUESTS"], "topics/db/transactions.txt"),
    ("Which template filter truncates a string to a number of characters?",
     ["truncatechars"], "ref/templates/builtins.txt"),
    ("Which ModelAdmin attribute sets the text shown for empty values?",
     ["empty_value_display"], "ref/contrib/admin/index.txt"),
    ("What is the default value of SECURE_CROSS_ORIGIN_OPENER_POLICY?", ["same-origin"],
     "ref/settings.txt"),
    ("Which class-based view displays a list of objects?", ["ListView"],
     "topics/class-based-views/generic-display.txt"),
    ("What template name does ListView infer for a publisher list in the books app?",
     ["books/publisher_list.html"], "topics/class-based-views/generic-display.txt"),
    ("What is the context variable that holds the list in a ListView template?",
     ["object_list"], "topics/class-based-views/generic-display.txt"),
    ("Which command starts the development server?", ["runserver"],
     "intro/tutorial01.txt"),
    ("On which address does gunicorn listen when started with the default command?",
     ["127.0.0.1:8000"], "howto/deployment/wsgi/gunicorn.txt"),
    ("Which field stores universally unique identifiers?", ["UUIDField"],
     "ref/models/fields.txt"),
    ("Which on_delete option prevents deletion of the referenced object?", ["PROTECT"],
     "ref/models/fields.txt"),
    ("Which QuerySet method follows foreign keys in the same query with a join?",
     ["select_related"], "ref/models/querysets.txt"),
    ("Which signal is sent after a model's save() method is called?", ["post_save"],
     "ref/signals.txt"),
    ("Which password hasher uses the Argon2 algorithm?", ["Argon2PasswordHasher"],
     "topics/auth/passwords.txt"),
    ("Which setting enables redirecting all HTTP requests to HTTPS?",
     ["SECURE_SSL_REDIRECT"], "topics/security.txt"),
    ("What is the name of the first app built in the tutorial?", ["polls"],
     "intro/tutorial01.txt"),
    ("Which command applies migrations to the database?", ["migrate"],
     "topics/migrations.txt"),
    ("Which method of a Paginator returns a page object?", ["page"],
     "topics/pagination.txt"),
    ("Which function translates a string lazily?", ["gettext_lazy"],
     "topics/i18n/translation.txt"),
    ("Which cache backend stores data in Redis?",
     ["django.core.cache.backends.redis.RedisCache"], "topics/cache.txt"),
    ("What is the default PASSWORD_HASHERS' first entry?",
     ["django.contrib.auth.hashers.PBKDF2PasswordHasher"], "ref/settings.txt"),
    ("Which logger receives messages about request handling errors?", ["django.request"],
     "ref/logging.txt"),
    ("Which JSON response class serializes data to JSON?", ["JsonResponse"],
     "ref/request-response.txt"),
    ("What does the JsonResponse safe parameter default to?", ["True"],
     "ref/request-response.txt"),
    ("Which status code does HttpResponseRedirect return?", ["302"],
     "ref/request-response.txt"),
]

# the text in a screenshot as seen (typed in by hand; layout flattened to lines), for the
# questions below and for OCR error rates
SCREENS = {
    "howto/_images/postmortem.png": """Template-loader postmortem
Django tried loading these templates, in this order:
Using engine django:
django.template.loaders.filesystem.Loader: /path/to/templates/xnotexists.html (Source does not exist)
django.template.loaders.filesystem.Loader: /path/to/templates2/xnotexists.html (Source does not exist)
django.template.loaders.app_directories.Loader: /path/to/app1/templates/xnotexists.html (Source does not exist)
Using engine django2:
django.template.loaders.filesystem.Loader: /path/to/django2/xnotexists.html (Source does not exist)""",  # noqa: E501
    "howto/_images/template-lines.png": """Error during template rendering
In template /path/to/template.html, error at line 4
Invalid block tag: 'syntax'
1 some
2 lines
3 before
4 Hello {% syntax error %} {{ world }}
5 some
6 lines
7 after
8""",
    "ref/contrib/admin/_images/admin-actions.png": """Select user to change
Search
Action: --------- Go 1 of 3 selected
---------
Delete selected users
USERNAME EMAIL ADDRESS FIRST NAME LAST NAME STAFF STATUS
admin admin@example.com Admin User
poe poe@example.com Poe Dameron
rey rey@example.com Rey Skywalker
3 users""",
    "intro/_images/admin06t.png": """Change history: What's up?
DATE/TIME USER ACTION
Aug. 2, 2024, 7:49 a.m. admin Added.
Aug. 2, 2024, 7:56 a.m. admin Changed Date published.
2 entries""",
    "ref/contrib/admin/_images/fieldsets.png": """Add flat page
URL:
Example: "/about/contact/". Make sure to have leading and trailing slashes.
Title:
Content:
Sites: example.com
Hold down "Control", or "Command" on a Mac, to select more than one.
Advanced options
SAVE Save and add another Save and continue editing""",
    "ref/contrib/admin/_images/actions-as-modeladmin-methods.png": """Django administration
WELCOME, ADMIN. VIEW SITE / CHANGE PASSWORD / LOG OUT
Home > News > Articles
2 stories were successfully marked as published.
Select article to change ADD ARTICLE
Action: --------- Go 0 of 5 selected
TITLE STATUS
A New Human-like Species Discovered in Deep Burial Chamber Published
Django 1.9 Released Published
Mars Is a Real Fixer-Upper of a Planet, Says Elon Musk on Colbert's 'Late Show' Withdrawn
The Coming of the Glacier Man Published
The Last Audio Casette Factory Published
5 articles""",
    "intro/_images/admin13t.png": """Select question to change ADD QUESTION
FILTER
Action: --------- Go 0 of 1 selected
Show counts
QUESTION TEXT DATE PUBLISHED PUBLISHED RECENTLY?
By date published
What's up? Aug. 2, 2024, 10:07 a.m.
Any date
1 question
Today
Past 7 days
This month
This year""",
    "intro/_images/admin02.png": """Django administration
WELCOME, ADMIN. VIEW SITE / CHANGE PASSWORD / LOG OUT
Site administration
AUTHENTICATION AND AUTHORIZATION
Recent actions
Groups + Add Change
Users + Add Change
My actions
None available""",
    "ref/contrib/admin/_images/list_filter.png": """Select user to change ADD USER
Search
FILTER
Show counts
Action: --------- Go 0 of 3 selected
By staff status
USERNAME EMAIL ADDRESS FIRST NAME LAST NAME STAFF STATUS
All
Yes
admin admin@example.com Admin User
No
poe poe@example.com Poe Dameron
By superuser status
rey rey@example.com Rey Skywalker
All
3 users
Yes
No
By active
All
Yes
No""",
    "intro/_images/admin05t.png": """Change question
HISTORY
What's up?
Question text: What's up?
Date published: Date: 2024-08-02 Today
Time: 09:56:38 Now
SAVE Save and add another Save and continue editing Delete""",
    "intro/_images/admin12t.png": """Select question to change ADD QUESTION
Action: --------- Go 0 of 1 selected
QUESTION TEXT DATE PUBLISHED WAS PUBLISHED RECENTLY
What's up? Aug. 2, 2024, 10:07 a.m. True
1 question""",
    "intro/_images/admin07.png": """Change question
What's up?
Date published: Date: 2024-08-02 Today
Time: 10:07:18 Now
Question text: What's up?""",
    "ref/contrib/admin/_images/adding-actions-to-the-modeladmin.png":
    """Select article to change ADD ARTICLE
Action: --------- Go 2 of 5 selected
---------
Delete selected articles
Mark selected stories as published
TITLE STATUS
A New Human-like Species Discovered in Deep Burial Chamber Published
Django 1.9 Released Published
Mars Is a Real Fixer-Upper of a Planet, Says Elon Musk on Colbert's 'Late Show' Withdrawn
The Coming of the Glacier Man Published
The Last Audio Casette Factory Published
5 articles""",
}

# facts only screenshots show: (question, answers, the screenshot or the screenshots)
SCREENSHOT = [
    ("What is Rey's last name in the admin user list?", ["Skywalker"],
     "ref/contrib/admin/_images/admin-actions.png"),
    ("What email address does the user poe have in the admin?", ["poe@example.com"],
     "ref/contrib/admin/_images/admin-actions.png"),
    ("How many users are listed on the Select user to change page?", ["3 users"],
     "ref/contrib/admin/_images/list_filter.png"),
    ("Which filters does the admin user list offer in its sidebar?",
     ["By superuser status"], "ref/contrib/admin/_images/list_filter.png"),
    ("How many stories were successfully marked as published?", ["2 stories"],
     "ref/contrib/admin/_images/actions-as-modeladmin-methods.png"),
    ("Which article about Mars has the status Withdrawn?",
     ["Mars Is a Real Fixer-Upper of a Planet"],
     "ref/contrib/admin/_images/actions-as-modeladmin-methods.png"),
    ("How many articles are in the news article change list?", ["5 articles"],
     "ref/contrib/admin/_images/actions-as-modeladmin-methods.png"),
    ("Which article is about the Glacier Man?", ["The Coming of the Glacier Man"],
     "ref/contrib/admin/_images/adding-actions-to-the-modeladmin.png"),
    ("When was the question What's up? added according to its change history?",
     ["7:49 a.m."], "intro/_images/admin06t.png"),
    ("How many entries are in the change history of What's up??", ["2 entries"],
     "intro/_images/admin06t.png"),
    ("What example does the flat page URL field give?", ["/about/contact/"],
     "ref/contrib/admin/_images/fieldsets.png"),
    ("How do you select more than one site on a Mac in the flat page form?",
     ["Command"], "ref/contrib/admin/_images/fieldsets.png"),
    ("At what time was What's up? published in the question list?", ["10:07 a.m."],
     ["intro/_images/admin13t.png", "intro/_images/admin12t.png"]),
    ("In the template rendering error page, at which line is the error?", ["line 4"],
     "howto/_images/template-lines.png"),
    ("Which invalid block tag does the template rendering error report?", ["syntax"],
     "howto/_images/template-lines.png"),
    ("Which engines appear in the template-loader postmortem?", ["django2"],
     "howto/_images/postmortem.png"),
    ("Which loader looked for the template in /path/to/app1/templates?",
     ["app_directories.Loader"], "howto/_images/postmortem.png"),
    ("What does the Recent actions box show under My actions?", ["None available"],
     "intro/_images/admin02.png"),
    ("What time is entered for the date published when changing the question?",
     ["09:56:38", "10:07:18"], ["intro/_images/admin05t.png", "intro/_images/admin07.png"]),
]

# a document and a screenshot both hold it: (question, answers, [page, screenshot])
MIXED = [
    ("What is the question text of the poll in the admin tutorial?", ["What's up?"],
     ["intro/tutorial02.txt", "intro/_images/admin05t.png"]),
    ("What buttons does the admin change form have at the bottom?",
     ["Save and continue editing"], ["intro/tutorial02.txt", "intro/_images/admin05t.png"]),
    ("Which action does the admin provide to delete selected objects?",
     ["Delete selected"], ["ref/contrib/admin/actions.txt",
                           "ref/contrib/admin/_images/admin-actions.png"]),
    ("Which models can be managed under Authentication and Authorization in the admin?",
     ["Groups"], ["intro/tutorial02.txt", "intro/_images/admin02.png"]),
    ("Which date ranges can the question list be filtered by?", ["Past 7 days"],
     ["intro/tutorial07.txt", "intro/_images/admin13t.png"]),
    ("What does the admin action make_published do to the selected stories?",
     ["marked as published"], ["ref/contrib/admin/actions.txt",
                               "ref/contrib/admin/_images/actions-as-modeladmin-methods.png"]),
]

# on topic (Django), but the documentation does not say
UNANSWERABLE = [
    "How many GitHub stars does the Django repository have?",
    "What is the annual salary of a Django Fellow?",
    "What is the default value of the ADMIN_THEME_COLOR setting?",
    "How do I enable GraphQL subscriptions in the Django admin?",
    "What is the maximum number of models a single Django app may define?",
    "Which port does the Django admin use for its WebSocket connection?",
    "Which Kubernetes operator does Django recommend for deployments?",
    "How many queries per second can the Django ORM run on SQLite?",
    "When will Django 7.0 be released?",
    "Which React version does the Django admin bundle?",
    "What is the default value of the SESSION_MAX_DEVICES setting?",
    "Which built-in admin action exports the change list to Excel?",
    "What is the name of Django's built-in GraphQL schema class?",
    "How much RAM does runserver need at minimum?",
    "Which ORM method runs a vector similarity search over embeddings?",
    "What is the default value of the CELERY_BROKER_URL setting?",
    "How many people contributed to the Django 5.2 release?",
    "Which Django setting configures the Elasticsearch index prefix?",
    "Which cloud region hosts the djangoproject.com website?",
    "Which built-in template filter formats a price with its currency symbol?",
    "What is the default value of the ADMIN_DARK_MODE_DEFAULT setting?",
    "How do I deploy Django on AWS Lambda with the built-in serverless adapter?",
    "Which built-in field type stores a geographic H3 cell index?",
    "What is the default number of worker processes started by runserver?",
]


def _norm(s: str) -> str:
    return " ".join(s.replace("``", "").replace("\u2019", "'").lower().split())


def fetch(sdist: Path | None, dest: Path) -> None:
    """Unpack the docs of the Django source distribution into ``dest``."""
    with tempfile.TemporaryDirectory() as tmp:
        if sdist is None:
            subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps",
                            "--no-binary", ":all:", f"django=={VERSION}", "-d", tmp],
                           check=True)
            sdist = next(Path(tmp).glob("*.tar.gz"))
        with tarfile.open(sdist) as tar:
            tar.extractall(tmp, filter="data")
        docs = next(Path(tmp).glob("*/docs"))
        if dest.exists():
            shutil.rmtree(dest)
        for path in sorted(docs.rglob("*")):
            rel = path.relative_to(docs)
            if path.is_dir() or SKIP_DIRS & set(rel.parts):
                continue
            if path.suffix == ".txt" or (path.suffix == ".png" and "_images" in rel.parts):
                (dest / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, dest / rel)


def cases(corpus: Path) -> list[dict]:
    out: list[dict] = []
    problems = []

    def check(answers: list[str], text: str, where: str) -> None:
        body = _norm(text)
        if not any(_norm(a) in body for a in answers):
            problems.append(f"{where}: none of {answers} found")

    for i, (q, answers, page) in enumerate(TEXT + MORE_TEXT, 1):
        check(answers, (corpus / page).read_text(), page)
        out.append({"id": f"text-{i:03d}", "question": q, "answers": answers,
                    "relevant": [page], "modality": "text", "corpus": CORPUS})
    for i, (q, answers, shots) in enumerate(SCREENSHOT, 1):
        shots = [shots] if isinstance(shots, str) else shots  # where two screenshots show it
        for shot in shots:
            check(answers, SCREENS[shot], shot)
        out.append({"id": f"screenshot-{i:03d}", "question": q, "answers": answers,
                    "relevant": shots, "modality": "image", "corpus": CORPUS})
    for i, (q, answers, rel) in enumerate(MIXED, 1):
        for r in rel:
            check(answers, SCREENS[r] if r in SCREENS else (corpus / r).read_text(), r)
        out.append({"id": f"mixed-{i:03d}", "question": q, "answers": answers,
                    "relevant": rel, "modality": "mixed", "corpus": CORPUS})
    for i, q in enumerate(UNANSWERABLE, 1):
        out.append({"id": f"unanswerable-{i:03d}", "question": q, "unanswerable": True,
                    "modality": "text", "corpus": CORPUS})
    for i, (shot, truth) in enumerate(sorted(SCREENS.items()), 1):
        out.append({"id": f"ocr-{i:03d}", "question": "", "image": f"{CORPUS}/{shot}",
                    "relevant": [shot], "modality": "image", "ocr_text": truth,
                    "group": "ocr", "ask": False, "corpus": CORPUS})
    if problems:
        raise SystemExit("answers not in their pages:\n" + "\n".join(problems))
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sdist", type=Path, help="a downloaded django-5.2.8.tar.gz")
    p.add_argument("--questions-only", action="store_true",
                   help="rewrite the JSONL from an already fetched corpus")
    args = p.parse_args()
    corpus = HERE / CORPUS
    if not args.questions_only:
        fetch(args.sdist, corpus)
    rows = cases(corpus)
    with open(HERE / "django-docs.jsonl", "w") as f:
        for row in rows:
            f.write(json.dumps(row) + "\n")
    pages = sum(1 for _ in corpus.rglob("*.txt"))
    shots = sum(1 for _ in corpus.rglob("*.png"))
    print(f"{len(rows)} cases; corpus {corpus}: {pages} pages, {shots} screenshots")


if __name__ == "__main__":
    main()
