"""A machine without the relying-party software fails the platform tests with the line that
installs it; it never skips them (CI installs the packages in .ci/run)."""

from __future__ import annotations

import pytest

from tests.support.platforms import require_file, require_program


def test_a_missing_program_fails_with_its_apt_get_line() -> None:
    with pytest.raises(pytest.fail.Exception, match="apt-get install -y apache2 x"):
        require_program("/usr/sbin/no-such-apache2", "apache2 x")


def test_a_missing_module_fails_with_its_apt_get_line() -> None:
    with pytest.raises(pytest.fail.Exception, match="apt-get install -y libapache2-x"):
        require_file("/usr/lib/apache2/modules/mod_no_such.so", "libapache2-x")


def test_an_installed_program_is_found() -> None:
    assert require_program("sh", "dash").endswith("sh")
