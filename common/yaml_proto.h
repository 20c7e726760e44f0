// Loads YAML into a protobuf message, so that a configuration file's schema
// is its .proto and nothing else. Keys are field names; unknown keys,
// wrong types, and values out of range are errors naming the file, the line
// and the key path:
//
//   scheduler.yaml:7: deployments[0].databases[0].port: expected an integer,
//   got "fivefourthreetwo"
//
// Enum values are accepted by full name (COMPRESSION_ZSTD) or by the part
// after the enum's common prefix, in any case (zstd).
#ifndef DXBACKUP_COMMON_YAML_PROTO_H_
#define DXBACKUP_COMMON_YAML_PROTO_H_

#include <map>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "google/protobuf/message.h"

namespace dxbackup::common {

// Line (1-based) of every key path loaded: "deployments[0].release" -> 7.
// Lets checks made after loading name the line too.
using YamlLines = std::map<std::string, int>;

// Parses `text`; `source_name` names it in errors. `*message` is cleared
// first; on error it is left partially filled.
absl::Status ParseYamlIntoProto(std::string_view text,
                                const std::string& source_name,
                                google::protobuf::Message* message,
                                YamlLines* lines = nullptr);

// Reads and parses the file at `path`.
absl::Status LoadYamlFileIntoProto(const std::string& path,
                                   google::protobuf::Message* message,
                                   YamlLines* lines = nullptr);

}  // namespace dxbackup::common

#endif  // DXBACKUP_COMMON_YAML_PROTO_H_
