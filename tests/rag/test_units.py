"""Answer units: whole sentences, list items, table rows and code lines with their labels."""

from rag.text.units import plain, units

RST = """\
.. setting:: SESSION_COOKIE_AGE

``SESSION_COOKIE_AGE``
----------------------

Default: ``1209600`` (2 weeks, in seconds)

The age of session cookies, in seconds. Use it with :setting:`SESSION_COOKIE_NAME`.

Valid arguments are as follows:

* ``MAX_ENTRIES``: The maximum number of entries allowed in
  the cache before old values are deleted. This argument
  defaults to ``300``.
* ``CULL_FREQUENCY``: defaults to ``3``.

============  ========
``value``     Output
============  ========
``34.26000``  ``34.3``
============  ========

Example::

    MIDDLEWARE = ["django.middleware.clickjacking.XFrameOptionsMiddleware"]
"""


def test_rst_units_keep_their_label_and_kind():
    got = units(RST)
    default = next(u for u in got if u.text.startswith("Default:"))
    assert default.text == "Default: `1209600` (2 weeks, in seconds)"
    assert default.label == "SESSION_COOKIE_AGE" and default.kind == "sentence"
    items = [u for u in got if u.kind == "item"]
    assert items[0].text.endswith("defaults to `300`.") and "maximum number" in items[0].text
    assert any(u.kind == "row" and "34.3" in u.text for u in got)
    code = [u for u in got if u.kind == "code"]
    assert code and "XFrameOptionsMiddleware" in code[0].text
    assert not any(set(u.text) <= set("-=") for u in got)  # underlines are not units


def test_sentences_are_never_cut_inside_brackets():
    text = ("Wrap the app (for example a Flask) app with the middleware. It runs first. "
            "Set it (see the docs. Section 2) before use.")
    assert [u.text for u in units(text)] == [
        "Wrap the app (for example a Flask) app with the middleware.", "It runs first.",
        "Set it (see the docs. Section 2) before use."]


def test_markdown_tables_and_lines_read_from_pictures():
    md = "| setting | default |\n|---|---|\n| max_age | 600 |"
    rows = [u.text for u in units(md) if u.kind == "row"]
    assert rows == ["setting | default", "max_age | 600"]
    assert [u.text for u in units("Wi-Fi: Guest\nPassword: 1234", lines=True)] == [
        "Wi-Fi: Guest", "Password: 1234"]


def test_plain_reads_rst_markup_as_a_reader_would():
    assert plain(":setting:`~django.conf.SESSION_ENGINE` and ``x=1``") == (
        "`django.conf.SESSION_ENGINE` and `x=1`")
    assert plain("see `the docs <https://example.com>`_") == "see the docs"


def test_chinese_sentences_and_clauses_are_units_without_stray_spaces():
    text = ("Debian 是一个自由的操作系统。它由志愿者维护！你想试试吗？"
            "他说：“好的。”然后走了；第二天\n又来了。 English follows. Then more")
    assert [u.text for u in units(text)] == [
        "Debian 是一个自由的操作系统。", "它由志愿者维护！", "你想试试吗？", "他说：“好的。”",
        "然后走了；", "第二天又来了。", "English follows.", "Then more"]
