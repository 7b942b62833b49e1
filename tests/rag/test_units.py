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


def test_lines_read_from_pictures_keep_cells_and_sentences_whole():
    # a row of two fields is two units; a "Std Dev" label is not cut at its space
    got = [u.text for u in units("Mean: 186.8 Pixels: 1483200\nStd Dev: 44.3 Count: 1483200\n"
                                 "Red: 91 Red: n/a\nDate published: Date: 2024-08-02 Today",
                                 lines=True)]
    assert got == ["Mean: 186.8", "Pixels: 1483200", "Std Dev: 44.3", "Count: 1483200",
                   "Red: 91", "Red: n/a", "Date published: Date: 2024-08-02 Today"]
    # a wrapped paragraph is joined and cut into its sentences; a list is left alone
    tip = ("GIMP Tip of the Day\nYou can drag a layer from the Layers dialog and drop it onto\n"
           "the toolbox. This will create a new image containing only that\nlayer.\n"
           "Learn more\nfilter\nenter tags")
    assert [u.text for u in units(tip, lines=True)] == [
        "GIMP Tip of the Day",
        "You can drag a layer from the Layers dialog and drop it onto the toolbox.",
        "This will create a new image containing only that layer.", "Learn more", "filter",
        "enter tags"]
    # a path broken over two lines is one path, and the line announcing the error carries it
    err = ("Could not open '/usr/share/gimp/2.0/\nhelp/en/gimp-help.xml' for reading:\n"
           "No such file or directory\nPlease check your installation.")
    assert units(err, lines=True)[0].text == (
        "Could not open '/usr/share/gimp/2.0/help/en/gimp-help.xml' for reading: No such "
        "file or directory")


def test_a_unit_that_announces_what_follows_carries_it():
    rst = ("Secret key\n==========\n\nTo make a secret key use the command::\n\n"
           "    python -c 'import secrets; print(secrets.token_hex())'\n\n"
           "The backends are:\n\n- postgresql\n- mysql\n- sqlite\n- oracle\n- other\n\n"
           "Note:\n\nshort labels carry nothing.\n\nAnother heading\n===============\n\n"
           "It ends here:\n\nNew heading\n===========\n\nUnder another label.")
    got = {u.text: u for u in units(rst)}
    assert ("To make a secret key use the command: python -c 'import secrets; "
            "print(secrets.token_hex())'") in got
    # up to three of the same kind, joined as a list; the items stay units of their own
    assert "The backends are: postgresql; mysql; sqlite" in got and "oracle" in got
    # nothing is carried across a heading
    assert "It ends here:" in got


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
