#include "common/pg_version.h"

#include "absl/strings/str_cat.h"

namespace dxbackup::common {

std::string PgVersionString(int v) {
  if (v >= 100000) return absl::StrCat(v / 10000, ".", v % 10000);
  return absl::StrCat(v / 10000, ".", (v / 100) % 100, ".", v % 100);
}

}  // namespace dxbackup::common
