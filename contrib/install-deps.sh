#!/bin/sh
# install-deps.sh - Debian 12 packages to build, test and demo mailwarden.
# Run as root.  Safe to run again.
# Sendmail itself is not installed (it conflicts with postfix): the
# Sendmail tests fetch its packages with apt-get download and unpack
# them in their own directory; libwrap0 is what its binary needs beside
# what is here, sasl2-bin makes the tests' SMTP AUTH users and
# libsasl2-modules holds the PLAIN/LOGIN mechanisms Sendmail offers them
# (only a Recommends of libsasl2-2, so not there on a minimal system).
set -eu
export DEBIAN_FRONTEND=noninteractive
PKGS="build-essential autoconf automake pkg-config autoconf-archive
  libmilter-dev libssl-dev libldns-dev libpcre2-dev libjson-c-dev check
  liblmdb-dev libhiredis-dev libyaml-dev zlib1g-dev libidn2-dev
  postfix nsd ldnsutils redis-server publicsuffix libxml2-utils
  python3 clang libclang-rt-14-dev chromium logrotate man-db
  python3-dkim python3-authres libmail-dkim-perl opendkim opendkim-tools sendmail-cf m4
  debhelper dh-autoreconf lintian dpkg-dev fakeroot adduser
  prometheus libwrap0 sasl2-bin libsasl2-modules"
# Hyperscan (optional rules prefilter) is packaged for amd64 only
if [ "$(dpkg --print-architecture)" = amd64 ]; then
	PKGS="$PKGS libhyperscan-dev"
fi
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
	    missing="$missing $p"
done
if [ -n "$missing" ]; then
	# postfix asks questions on install; answer them up front
	echo "postfix postfix/main_mailer_type select No configuration" |
	    debconf-set-selections
	apt-get update -qq
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing
fi
