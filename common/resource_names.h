// Checks for the names that arrive from agents and callers before they
// become part of a store path, a catalog key or a command's argument.
//
//   absl::Status s = CheckDnsLabel("namespace", hello.namespace_());
//
// Each check returns InvalidArgument naming the field, the (escaped) value
// and the rule it breaks. Pure functions; thread-safe.
#ifndef DXBACKUP_COMMON_RESOURCE_NAMES_H_
#define DXBACKUP_COMMON_RESOURCE_NAMES_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace dxbackup::common {

// Kubernetes' DNS label (RFC 1123): 1-63 characters of a-z, 0-9 and '-',
// starting and ending with a letter or digit. Namespaces, releases, pods.
absl::Status CheckDnsLabel(absl::string_view field, absl::string_view value);

// An agent's id, "namespace/release/pod": three DNS labels.
absl::Status CheckAgentId(absl::string_view field, absl::string_view value);

// Kubernetes' DNS subdomain (RFC 1123): 1-253 characters of a-z, 0-9, '-'
// and '.', starting and ending with a letter or digit. Claims, Secrets.
absl::Status CheckDnsSubdomain(absl::string_view field,
                               absl::string_view value);

// A volume's identity across pods (v1::Volume::shared_id): 1-300
// characters of A-Z, a-z, 0-9, '.', '_', ':', '/' and '-'. Only compared,
// never a path.
absl::Status CheckVolumeIdentity(absl::string_view field,
                                 absl::string_view value);

// A component or volume name: 1-63 characters of A-Z, a-z, 0-9, '_' and
// '-', starting with a letter or digit (so never "." or "..").
absl::Status CheckSimpleName(absl::string_view field, absl::string_view value);

// A PostgreSQL database name given as a bare name: 1-63 bytes, no NUL, and
// nothing libpq would read as a connection string or URI ('=' or a
// "postgres://"/"postgresql://" prefix).
absl::Status CheckDatabaseName(absl::string_view field,
                               absl::string_view value);

// A relative path in normal form: not empty, not absolute, no empty, "."
// or ".." component, no NUL.
absl::Status CheckNormalRelativePath(absl::string_view field,
                                     absl::string_view value);

// An absolute directory in normal form, not "/" itself: "/" followed by
// what CheckNormalRelativePath takes (so no trailing '/').
absl::Status CheckNormalAbsoluteDir(absl::string_view field,
                                    absl::string_view value);

}  // namespace dxbackup::common

#endif  // DXBACKUP_COMMON_RESOURCE_NAMES_H_
