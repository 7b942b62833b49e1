"""The lexical channel on both databases: SQLite FTS5 (BM25) and PostgreSQL full-text
search, the same behaviour asked of each: the LexicalIndex contract, and more."""

import pytest
import sqlalchemy as sa

from rag.store.db import Database
from rag.store.lexical import SqlLexical
from rag.testing.contracts.lexical import TEXTS, LexicalContract


@pytest.fixture(params=["sqlite", "postgresql"])
def empty(request, tmp_path):
    if request.param == "sqlite":
        db = Database(f"sqlite:///{tmp_path / 'm.sqlite3'}")
    else:
        db = Database(request.getfixturevalue("postgres").database())
    index = SqlLexical(db)
    yield index
    index.drop("kb")
    index.drop("other")


class TestSqlLexical(LexicalContract):
    @pytest.fixture
    def lexical(self, empty):
        return empty


@pytest.fixture
def lexical(empty):
    empty.upsert("kb", list(TEXTS), list(TEXTS.values()))
    empty.upsert("other", ["z"], ["SESSION_COOKIE_AGE appears in another collection too"])
    return empty


def test_counts_are_remembered_and_forgotten_on_write(lexical, monkeypatch):
    assert lexical.frequencies("kb", ["cookies"]) == {"cookies": 3}
    asked = []
    real = lexical.db.begin
    monkeypatch.setattr(lexical.db, "begin", lambda: asked.append(1) or real())
    assert lexical.frequencies("kb", ["cookies"]) == {"cookies": 3} and lexical.count("kb") == 4
    assert len(asked) == 1  # the count was asked once; the frequency not again
    lexical.upsert("kb", ["e"], ["more cookies"])  # this process's write: forgotten at once
    assert lexical.frequencies("kb", ["cookies"]) == {"cookies": 4} and lexical.count("kb") == 5


def test_the_most_common_words_are_not_searched_for(lexical, monkeypatch):
    import rag.store.lexical as mod

    monkeypatch.setattr(mod, "COMMON_MIN", 1)
    monkeypatch.setattr(mod, "COMMON", 0.5)  # "seconds" is in 2 of 4 items: kept
    assert lexical.search("kb", "seconds", 5)
    monkeypatch.setattr(mod, "COMMON", 0.3)  # now too common to rank by
    assert lexical.search("kb", "seconds", 5) == []
    assert lexical.search("kb", "seconds E408", 5)[0][0] == "d"


ZH = {
    "z1": "在默认的 Debian 系统中有 6 个可切换的字符控制台。",
    "z2": "使用 dpkg --listfiles 列出软件包安装的文件。",
    "z3": "系统登录后显示的欢迎信息保存在 /etc/motd 文件里。",
}


def test_chinese_is_searched_by_its_words_and_identifiers_stay_whole(lexical):
    lexical.upsert("zh", list(ZH), list(ZH.values()))
    try:
        assert lexical.search("zh", "有几个字符控制台？", 5)[0][0] == "z1"
        assert lexical.search("zh", "怎么列出软件包的文件", 5)[0][0] == "z2"
        assert lexical.search("zh", "dpkg 的 listfiles 选项", 5)[0][0] == "z2"
        assert lexical.search("zh", "欢迎信息在哪里", 5)[0][0] == "z3"
        # a word inside a run of Chinese is found: the run is not one token
        assert lexical.frequencies("zh", ["控制台", "文件"]) == {"控制台": 1, "文件": 2}
    finally:
        lexical.drop("zh")


def test_migration_0004_rewrites_chinese_written_as_one_token(lexical):
    """Rows written before Chinese was cut into words are rewritten by the migration; English
    rows are left as they were."""
    from alembic import command
    from alembic.config import Config

    lexical.upsert("zh", list(ZH), list(ZH.values()))
    lexical.db.migrate()
    cfg = Config()
    cfg.set_main_option("script_location", "rag/store/migrations")

    def to(step, revision):
        with lexical.db.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            step(cfg, revision)

    try:
        to(command.downgrade, "0003")
        lexical.delete("zh", list(ZH))  # written again as the old code wrote it: unsegmented
        with lexical.db.begin() as conn:
            if lexical.db.dialect == "postgresql":
                conn.execute(sa.text("INSERT INTO lexical (collection, item_id, body) VALUES "
                                     "('zh', :i, :b)"), [{"i": i, "b": b} for i, b in ZH.items()])
            else:
                table = lexical._table(conn, "zh", create=True)
                conn.execute(sa.text(f"INSERT INTO {table} (item_id, body) VALUES (:i, :b)"),
                             [{"i": i, "b": b} for i, b in ZH.items()])
        lexical._forget("zh")
        assert lexical.search("zh", "字符控制台", 5) == []  # the old index cannot find it
        to(command.upgrade, "head")
        lexical._forget("zh")
        assert lexical.search("zh", "字符控制台", 5)[0][0] == "z1"
        assert lexical.search("kb", "What is the default of SESSION_COOKIE_AGE?", 5)[0][0] == "a"
    finally:
        lexical.drop("zh")
