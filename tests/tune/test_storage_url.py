"""Database URLs: the password hidden wherever a URL is shown, redacted from drivers' messages, and
``postgresql://`` given the psycopg 3 driver that the test extra installs."""

from __future__ import annotations

import importlib.util

import pytest

from deepzen.tune.storage import hide_password, redact, with_driver


@pytest.mark.parametrize("url, shown", [
    ("postgresql://me:pa:ss@db.example/x", "postgresql://me:***@db.example/x"),
    ("postgresql+psycopg://me:s3cr%40t@db:5432/x", "postgresql+psycopg://me:***@db:5432/x"),
    ("postgresql://me:p@ss@db/x", "postgresql://me:***@db/x"),  # an unescaped @: up to the last one
    ("postgresql://me:p/ss@db/x", "postgresql://me:***@db/x"),
    ("mysql://me:@db/x", "mysql://me:***@db/x"),
    ("postgresql://me@db/x", "postgresql://me@db/x"),  # no password
    ("postgresql://db/x?user=me&password=zz&sslmode=require", "postgresql://db/x?user=me&password=***&sslmode=require"),
    ("sqlite:///runs/study.db", "sqlite:///runs/study.db"),
])
def test_hide_password(url: str, shown: str) -> None:
    assert hide_password(url) == shown


def test_redact_removes_the_password_as_written_and_decoded() -> None:
    url = "postgresql://me:s3cr%40t@db/x"
    message = 'could not translate host name "s3cr@t" (s3cr%40t)'
    assert redact(message, url) == 'could not translate host name "***" (***)'
    assert redact("password=zz is wrong", "postgresql://db/x?password=zz") == "password=*** is wrong"


@pytest.mark.skipif(importlib.util.find_spec("psycopg2") is not None, reason="psycopg2 installed: SQLAlchemy's default")
def test_plain_postgresql_scheme_gets_the_installed_driver() -> None:
    assert with_driver("postgresql://me:pw@db/x") == "postgresql+psycopg://me:pw@db/x"
    assert with_driver("postgresql+psycopg2://db/x") == "postgresql+psycopg2://db/x"
    assert with_driver("mysql://db/x") == "mysql://db/x"
