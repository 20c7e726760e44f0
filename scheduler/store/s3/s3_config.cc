#include "scheduler/store/s3/s3_config.h"

#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "scheduler/policy/calendar_duration.h"

namespace dxbackup::scheduler::s3 {
namespace {

absl::StatusOr<std::string> ReadKeyFile(const std::string& what,
                                        const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return absl::FailedPreconditionError(absl::StrCat(
        "cannot read the S3 ", what, " from ", path,
        ": the file is missing or unreadable (is the Secret mounted?)"));
  }
  std::stringstream text;
  text << in.rdbuf();
  std::string key = text.str();
  absl::StripAsciiWhitespace(&key);
  if (key.empty() || key.find_first_of(" \t\r\n") != std::string::npos) {
    return absl::FailedPreconditionError(
        absl::StrCat("the S3 ", what, " file ", path,
                     " must hold the key alone, on one line"));
  }
  return key;
}

}  // namespace

absl::StatusOr<S3StoreOptions> S3StoreOptionsFrom(const v1::S3Bucket& bucket) {
  S3StoreOptions options;
  options.location.endpoint = bucket.endpoint();
  options.location.bucket = bucket.bucket();
  if (!bucket.region().empty()) options.location.region = bucket.region();
  options.location.path_style = bucket.path_style();
  options.location.ca_file = bucket.ca_file();
  absl::StatusOr<std::string> access =
      ReadKeyFile("access key", bucket.access_key_file());
  if (!access.ok()) return access.status();
  absl::StatusOr<std::string> secret =
      ReadKeyFile("secret key", bucket.secret_key_file());
  if (!secret.ok()) return secret.status();
  options.location.access_key = std::move(*access);
  options.location.secret_key = std::move(*secret);
  options.prefix = bucket.prefix();
  if (bucket.has_object_lock()) {
    options.lock_mode = bucket.object_lock().mode();
    absl::StatusOr<CalendarDuration> margin =
        CalendarDuration::Parse(bucket.object_lock().margin());
    if (!margin.ok()) return margin.status();
    options.lock_margin_seconds =
        margin->zero() ? 24 * 3600 : margin->MinimumSeconds();
  }
  if (bucket.part_size_mib() > 0) {
    options.part_size = static_cast<size_t>(bucket.part_size_mib()) << 20;
  }
  return options;
}

}  // namespace dxbackup::scheduler::s3
