#include "common/command_env.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "common/secret_file.h"

namespace dxbackup::common {

absl::StatusOr<std::map<std::string, std::string>> CommandEnvironment(
    const google::protobuf::Map<std::string, std::string>& env,
    const google::protobuf::Map<std::string, std::string>& env_files,
    const std::string& owner) {
  std::map<std::string, std::string> out(env.begin(), env.end());
  for (const auto& [variable, file] : env_files) {
    absl::StatusOr<std::string> value = ReadSecretFile(file);
    if (!value.ok()) {
      return absl::FailedPreconditionError(
          absl::StrCat("cannot read ", file, " (env_files ", variable, " of ",
                       owner, "): ", value.status().message()));
    }
    out[variable] = *std::move(value);
  }
  return out;
}

std::string WithoutSecrets(
    std::string text, const std::map<std::string, std::string>& env,
    const google::protobuf::Map<std::string, std::string>& env_files) {
  for (const auto& [variable, file] : env_files) {
    auto it = env.find(variable);
    if (it == env.end() || it->second.size() < 4) continue;
    text = absl::StrReplaceAll(
        text, {{it->second, absl::StrCat("[env_files ", variable, "]")}});
  }
  return text;
}

}  // namespace dxbackup::common
