"""The text of 13 django-docs screenshots, typed in by hand from looking at them: the truth
for OCR error rates, and what the screenshot questions' answers are checked against."""

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
