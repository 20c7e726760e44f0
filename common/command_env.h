// The environment of a configured command (a `command` database's, an
// `external` member's), wherever it runs — the scheduler or an agent's pod
// — and what its output may show of it.
//
// Thread-compatible: plain functions.
#ifndef DXBACKUP_COMMON_COMMAND_ENV_H_
#define DXBACKUP_COMMON_COMMAND_ENV_H_

#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "google/protobuf/map.h"

namespace dxbackup::common {

// The variables a configured command gets besides its runner's own:
// `env`, then each of `env_files` (variable -> file) read now.
// FailedPrecondition naming the variable, the file and `owner` (e.g.
// "command database jcr (db2)") when one cannot be read.
absl::StatusOr<std::map<std::string, std::string>> CommandEnvironment(
    const google::protobuf::Map<std::string, std::string>& env,
    const google::protobuf::Map<std::string, std::string>& env_files,
    const std::string& owner);

// What a command printed, with every value `env_files` put in `env` (a
// password the command echoed into its stderr) replaced by
// "[env_files VARIABLE]": the text goes into job logs, errors and the
// catalog. Values shorter than 4 bytes are left alone (they would blot out
// ordinary words).
std::string WithoutSecrets(
    std::string text, const std::map<std::string, std::string>& env,
    const google::protobuf::Map<std::string, std::string>& env_files);

}  // namespace dxbackup::common

#endif  // DXBACKUP_COMMON_COMMAND_ENV_H_
