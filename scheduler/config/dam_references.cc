#include "scheduler/config/dam_references.h"

namespace dxbackup::scheduler {
namespace {

// Runs in the agent's container; the `sh -c` after kubectl's "--" runs in
// the core container, with xmlaccess as $0, the URL as $1 and, for the
// export, its input as $2. Both stop at the first failure (set -e there
// too: xmlaccess's exit status decides, never what it left in its output
// file), and at a response whose status says result="failed" even when
// xmlaccess exited 0 (not seen against a real DX: a second guard).
// xmlaccess's own report goes to stderr (the job's log); only the
// exported XML reaches stdout.
constexpr char kExport[] = R"(set -eu
printf '%s\n%s\n' "$DX_ADMIN_USER" "$DX_ADMIN_PASSWORD" |
  kubectl exec -i -c core "$DXBACKUP_POD" -- sh -c '
    set -eu
    IFS= read -r user; IFS= read -r password
    out=$(mktemp); trap "rm -f \"$out\"" EXIT
    "$0" -user "$user" -password "$password" -url "$1" -in "$2" -out "$out" >&2
    if grep -q "<status[^>]*result=\"failed\"" "$out"; then
      echo "xmlaccess answered that the export failed:" >&2; cat "$out" >&2
      exit 3
    fi
    cat "$out"' "$DX_XMLACCESS" "$DX_CONFIG_URL" "$DX_DAM_EXPORT_INPUT")";

// The stored export arrives on stdin, after the administrator's two lines.
// It goes only into the portal it came from: a restore elsewhere
// (--database-to) is refused.
constexpr char kImport[] = R"(set -eu
if [ -n "${DXBACKUP_DATABASE_TO:-}" ]; then
  echo "DAM's references go back only into the portal itself, not into" \
    "$DXBACKUP_DATABASE_TO; restore without --database-to" >&2
  exit 2
fi
{ printf '%s\n%s\n' "$DX_ADMIN_USER" "$DX_ADMIN_PASSWORD"; cat; } |
  kubectl exec -i -c core "$DXBACKUP_POD" -- sh -c '
    set -eu
    IFS= read -r user; IFS= read -r password
    in=$(mktemp); out=$(mktemp); trap "rm -f \"$in\" \"$out\"" EXIT
    cat > "$in"
    "$0" -user "$user" -password "$password" -url "$1" -in "$in" -out "$out" >&2
    cat "$out" >&2
    if grep -q "<status[^>]*result=\"failed\"" "$out"; then
      echo "xmlaccess answered that the import failed" >&2; exit 3
    fi
  ' "$DX_XMLACCESS" "$DX_CONFIG_URL")";

}  // namespace

v1::Database DamReferencesDatabase() {
  v1::Database db;
  db.set_name(kDamReferences);
  v1::DumpCommand* c = db.mutable_command();
  c->add_dump("sh");
  c->add_dump("-c");
  c->add_dump(kExport);
  c->add_restore("sh");
  c->add_restore("-c");
  c->add_restore(kImport);
  auto& env = *c->mutable_env();
  env["DX_XMLACCESS"] = "/opt/HCL/wp_profile/PortalServer/bin/xmlaccess.sh";
  env["DX_CONFIG_URL"] = "http://localhost:10039/wps/config";
  env["DX_DAM_EXPORT_INPUT"] =
      "/opt/HCL/PortalServer/doc/xml-samples/ExportAllDAMCollections.xml";
  (*c->mutable_env_files())["DX_ADMIN_USER"] = kDxAdminUserFile;
  (*c->mutable_env_files())["DX_ADMIN_PASSWORD"] = kDxAdminPasswordFile;
  c->set_component("core");
  c->set_while_running(true);
  // xmlaccess exports and imports references in seconds to minutes.
  c->set_timeout_seconds(600);
  return db;
}

}  // namespace dxbackup::scheduler
