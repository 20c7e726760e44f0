#include "scheduler/kubernetes/release_objects.h"

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"

namespace dxbackup::scheduler {
namespace {

using google::protobuf::Struct;
using google::protobuf::Value;

// `value` into the emitter: strings always quoted, so that "true" or "1"
// stay strings when read back.
void Emit(const Value& value, YAML::Emitter& out) {
  switch (value.kind_case()) {
    case Value::kStructValue: {
      // In key order: the same objects always make the same bytes.
      const auto& fields = value.struct_value().fields();
      std::vector<std::string> keys;
      for (const auto& field : fields) keys.push_back(field.first);
      std::sort(keys.begin(), keys.end());
      out << YAML::BeginMap;
      for (const std::string& key : keys) {
        out << YAML::Key << YAML::DoubleQuoted << key << YAML::Value;
        Emit(fields.at(key), out);
      }
      out << YAML::EndMap;
      break;
    }
    case Value::kListValue:
      out << YAML::BeginSeq;
      for (const Value& item : value.list_value().values()) Emit(item, out);
      out << YAML::EndSeq;
      break;
    case Value::kStringValue:
      out << YAML::DoubleQuoted << value.string_value();
      break;
    case Value::kBoolValue:
      out << value.bool_value();
      break;
    case Value::kNumberValue: {
      const double n = value.number_value();
      if (std::floor(n) == n && std::fabs(n) < 9e15) {
        out << static_cast<int64_t>(n);
      } else {
        out << n;
      }
      break;
    }
    default:
      out << YAML::Null;
  }
}

// The fields of `item` a re-creation needs, in a fixed order.
Struct Kept(const Struct& item, const std::string& kind) {
  Struct out;
  (*out.mutable_fields())["apiVersion"].set_string_value("v1");
  (*out.mutable_fields())["kind"].set_string_value(kind);
  Struct& meta = *(*out.mutable_fields())["metadata"].mutable_struct_value();
  auto from = item.fields().find("metadata");
  if (from != item.fields().end()) {
    for (const char* key : {"name", "namespace", "labels", "annotations"}) {
      auto f = from->second.struct_value().fields().find(key);
      if (f != from->second.struct_value().fields().end()) {
        (*meta.mutable_fields())[key] = f->second;
      }
    }
  }
  for (const char* key :
       {"type", "immutable", "data", "stringData", "binaryData"}) {
    auto f = item.fields().find(key);
    if (f != item.fields().end()) (*out.mutable_fields())[key] = f->second;
  }
  return out;
}

std::string StringField(const Struct& s, const std::string& key) {
  auto f = s.fields().find(key);
  return f == s.fields().end() ? "" : f->second.string_value();
}

}  // namespace

absl::StatusOr<ObjectsYaml> ReleaseObjectsYaml(
    const std::vector<ObjectList>& lists) {
  ObjectsYaml result;
  YAML::Emitter out;
  for (const ObjectList& list : lists) {
    Struct parsed;
    google::protobuf::util::JsonParseOptions options;
    options.ignore_unknown_fields = true;
    const std::string want = list.kind + "List";
    if (!google::protobuf::util::JsonStringToMessage(list.json, &parsed,
                                                     options)
             .ok() ||
        StringField(parsed, "kind") != want) {
      return absl::DataLossError(
          absl::StrCat("the Kubernetes API's answer is not a ", want,
                       ": is kubernetes_api.server a Kubernetes API server?"));
    }
    result.per_list.push_back(0);
    auto items = parsed.fields().find("items");
    if (items == parsed.fields().end()) continue;
    for (const Value& item : items->second.list_value().values()) {
      if (!item.has_struct_value()) continue;
      if (StringField(item.struct_value(), "type") ==
          "kubernetes.io/service-account-token") {
        continue;
      }
      Value kept;
      *kept.mutable_struct_value() = Kept(item.struct_value(), list.kind);
      out << YAML::BeginDoc;
      Emit(kept, out);
      ++result.count;
      ++result.per_list.back();
    }
  }
  if (!out.good()) {
    return absl::InternalError(
        absl::StrCat("writing the objects' YAML: ", out.GetLastError()));
  }
  // yaml-cpp writes DEL as it is inside a quoted string, which kubectl's
  // reader (and PyYAML) refuse; every string here is double-quoted, so an
  // escape is what it means.
  result.yaml = absl::StrReplaceAll(out.c_str(), {{"\x7f", "\\x7F"}});
  if (!result.yaml.empty()) result.yaml += "\n";
  return result;
}

}  // namespace dxbackup::scheduler
