#!/usr/bin/env bash
# The e2e suite's "other system": a small OpenLDAP directory (Debian's slapd) where people
# link an account and receive their new Sésame password. Started fresh by Playwright:
#   bash ldap/start.sh DIR PORT
set -euo pipefail
dir=${1:?directory}
port=${2:?port}
here=$(cd "$(dirname "$0")" && pwd)
slapd=/usr/sbin/slapd
if [ ! -x "$slapd" ]; then
  echo "slapd is missing: run scripts/install-tools.sh" >&2
  exit 1
fi
rm -rf "$dir"
mkdir -p "$dir/db"
# The service account Sésame writes passwords with (see ../sesame.e2e.toml).
cat >"$dir/slapd.conf" <<CONF
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
modulepath /usr/lib/ldap
moduleload back_mdb
pidfile $dir/slapd.pid
database mdb
maxsize 10485760
suffix "dc=annuaire,dc=example"
rootdn "cn=sesame,dc=annuaire,dc=example"
rootpw Service-Annuaire-2026
directory $dir/db
access to attrs=userPassword by self write by anonymous auth by * none
access to * by users read by * none
CONF
"${slapd%/slapd}/slapadd" -q -f "$dir/slapd.conf" -l "$here/directory.ldif"
exec "$slapd" -d 0 -h "ldap://127.0.0.1:$port/" -f "$dir/slapd.conf"
