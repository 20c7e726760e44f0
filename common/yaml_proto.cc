#include "common/yaml_proto.h"

#include <yaml-cpp/yaml.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/utf8_escape.h"

namespace dxbackup::common {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::EnumDescriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

class YamlToProto {
 public:
  YamlToProto(std::string source, YamlLines* lines)
      : source_(std::move(source)), lines_(lines) {}

  absl::Status FillMessage(const YAML::Node& node, const std::string& path,
                           Message* msg) {
    if (node.IsNull()) return absl::OkStatus();
    if (!node.IsMap()) {
      return Error(node, path,
                   absl::StrCat("expected a mapping of ",
                                msg->GetDescriptor()->name(), " keys"));
    }
    const Descriptor* desc = msg->GetDescriptor();
    std::set<std::string> seen;
    for (const auto& kv : node) {
      std::string key = kv.first.as<std::string>();
      std::string key_path = path.empty() ? key : absl::StrCat(path, ".", key);
      Remember(kv.first, key_path);
      if (!seen.insert(key).second) {
        return Error(
            kv.first, key_path,
            absl::StrCat("key \"", key, "\" is given twice; keep one of them"));
      }
      const FieldDescriptor* field = desc->FindFieldByName(key);
      if (field == nullptr) {
        std::vector<std::string> known;
        for (int i = 0; i < desc->field_count(); ++i) {
          known.push_back(desc->field(i)->name());
        }
        return Error(
            kv.first, key_path,
            absl::StrCat("unknown key \"", key, "\" in ", desc->name(),
                         "; known keys: ", absl::StrJoin(known, ", ")));
      }
      absl::Status s = FillField(kv.second, key_path, msg, field);
      if (!s.ok()) return s;
    }
    return absl::OkStatus();
  }

 private:
  absl::Status FillField(const YAML::Node& node, const std::string& path,
                         Message* msg, const FieldDescriptor* field) {
    if (field->is_map()) {
      if (node.IsNull()) return absl::OkStatus();
      if (!node.IsMap()) return Error(node, path, "expected a mapping");
      const Descriptor* entry = field->message_type();
      std::set<std::string> seen;
      for (const auto& kv : node) {
        std::string key = kv.first.as<std::string>();
        std::string item_path = absl::StrCat(path, ".", key);
        if (!seen.insert(key).second) {
          return Error(kv.first, item_path,
                       absl::StrCat("key \"", key,
                                    "\" is given twice; keep one of them"));
        }
        Message* item = msg->GetReflection()->AddMessage(msg, field);
        absl::Status s =
            SetScalar(kv.first, item_path, item, entry->FindFieldByName("key"));
        if (!s.ok()) return s;
        const FieldDescriptor* value = entry->FindFieldByName("value");
        s = value->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE
                ? FillMessage(
                      kv.second, item_path,
                      item->GetReflection()->MutableMessage(item, value))
                : SetScalar(kv.second, item_path, item, value);
        if (!s.ok()) return s;
      }
      return absl::OkStatus();
    }
    if (field->is_repeated()) {
      if (node.IsNull()) return absl::OkStatus();
      if (!node.IsSequence()) return Error(node, path, "expected a list");
      for (size_t i = 0; i < node.size(); ++i) {
        std::string item_path = absl::StrCat(path, "[", i, "]");
        Remember(node[i], item_path);
        absl::Status s = AddRepeated(node[i], item_path, msg, field);
        if (!s.ok()) return s;
      }
      return absl::OkStatus();
    }
    if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      return FillMessage(node, path,
                         msg->GetReflection()->MutableMessage(msg, field));
    }
    return SetScalar(node, path, msg, field);
  }

  absl::Status AddRepeated(const YAML::Node& node, const std::string& path,
                           Message* msg, const FieldDescriptor* field) {
    const Reflection* r = msg->GetReflection();
    if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      return FillMessage(node, path, r->AddMessage(msg, field));
    }
    return SetScalar(node, path, msg, field);
  }

  // Sets (or, for a repeated field, adds) one scalar value.
  absl::Status SetScalar(const YAML::Node& node, const std::string& path,
                         Message* msg, const FieldDescriptor* field) {
    if (!node.IsScalar()) return Error(node, path, "expected a single value");
    const std::string text = node.Scalar();
    const Reflection* r = msg->GetReflection();
    const bool rep = field->is_repeated();
    switch (field->cpp_type()) {
      case FieldDescriptor::CPPTYPE_STRING:
        // Protobuf strings must be UTF-8; a message holding anything else
        // cannot be sent (to an agent, to the CLI).
        if (field->type() == FieldDescriptor::TYPE_STRING &&
            !IsValidUtf8(text)) {
          return Error(node, path,
                       absl::StrCat("\"", EscapeToUtf8(text),
                                    "\" is not UTF-8; save the file as UTF-8"));
        }
        rep ? r->AddString(msg, field, text) : r->SetString(msg, field, text);
        return absl::OkStatus();
      case FieldDescriptor::CPPTYPE_BOOL: {
        std::string v = absl::AsciiStrToLower(text);
        bool b;
        if (v == "true" || v == "yes" || v == "on") {
          b = true;
        } else if (v == "false" || v == "no" || v == "off") {
          b = false;
        } else {
          return Error(
              node, path,
              absl::StrCat("expected true or false, got \"", text, "\""));
        }
        rep ? r->AddBool(msg, field, b) : r->SetBool(msg, field, b);
        return absl::OkStatus();
      }
      case FieldDescriptor::CPPTYPE_INT32:
      case FieldDescriptor::CPPTYPE_INT64:
      case FieldDescriptor::CPPTYPE_UINT32:
      case FieldDescriptor::CPPTYPE_UINT64:
        return SetInteger(node, path, msg, field);
      case FieldDescriptor::CPPTYPE_DOUBLE:
      case FieldDescriptor::CPPTYPE_FLOAT: {
        char* end = nullptr;
        errno = 0;
        double d = std::strtod(text.c_str(), &end);
        if (text.empty() || *end != '\0' || errno != 0) {
          return Error(node, path,
                       absl::StrCat("expected a number, got \"", text, "\""));
        }
        if (field->cpp_type() == FieldDescriptor::CPPTYPE_DOUBLE) {
          rep ? r->AddDouble(msg, field, d) : r->SetDouble(msg, field, d);
        } else {
          rep ? r->AddFloat(msg, field, static_cast<float>(d))
              : r->SetFloat(msg, field, static_cast<float>(d));
        }
        return absl::OkStatus();
      }
      case FieldDescriptor::CPPTYPE_ENUM: {
        int value;
        absl::Status s = LookupEnum(node, path, field->enum_type(), &value);
        if (!s.ok()) return s;
        rep ? r->AddEnumValue(msg, field, value)
            : r->SetEnumValue(msg, field, value);
        return absl::OkStatus();
      }
      case FieldDescriptor::CPPTYPE_MESSAGE:
        break;
    }
    return Error(node, path, "unsupported field type");
  }

  absl::Status SetInteger(const YAML::Node& node, const std::string& path,
                          Message* msg, const FieldDescriptor* field) {
    const std::string& text = node.Scalar();
    const bool is_unsigned =
        field->cpp_type() == FieldDescriptor::CPPTYPE_UINT32 ||
        field->cpp_type() == FieldDescriptor::CPPTYPE_UINT64;
    char* end = nullptr;
    errno = 0;
    long long v = 0;
    unsigned long long u = 0;
    if (is_unsigned) {
      if (!text.empty() && text[0] == '-')
        end = const_cast<char*>("-");
      else
        u = std::strtoull(text.c_str(), &end, 10);
    } else {
      v = std::strtoll(text.c_str(), &end, 10);
    }
    if (text.empty() || end == nullptr || *end != '\0' || errno != 0) {
      return Error(
          node, path,
          absl::StrCat("expected ", is_unsigned ? "a non-negative " : "an ",
                       "integer, got \"", text, "\""));
    }
    const Reflection* r = msg->GetReflection();
    const bool rep = field->is_repeated();
    switch (field->cpp_type()) {
      case FieldDescriptor::CPPTYPE_INT32:
        if (v < std::numeric_limits<int32_t>::min() ||
            v > std::numeric_limits<int32_t>::max()) {
          return Error(node, path, absl::StrCat(text, " is out of range"));
        }
        rep ? r->AddInt32(msg, field, static_cast<int32_t>(v))
            : r->SetInt32(msg, field, static_cast<int32_t>(v));
        break;
      case FieldDescriptor::CPPTYPE_INT64:
        rep ? r->AddInt64(msg, field, v) : r->SetInt64(msg, field, v);
        break;
      case FieldDescriptor::CPPTYPE_UINT32:
        if (u > std::numeric_limits<uint32_t>::max()) {
          return Error(node, path, absl::StrCat(text, " is out of range"));
        }
        rep ? r->AddUInt32(msg, field, static_cast<uint32_t>(u))
            : r->SetUInt32(msg, field, static_cast<uint32_t>(u));
        break;
      default:
        rep ? r->AddUInt64(msg, field, u) : r->SetUInt64(msg, field, u);
        break;
    }
    return absl::OkStatus();
  }

  absl::Status LookupEnum(const YAML::Node& node, const std::string& path,
                          const EnumDescriptor* type, int* value) {
    const std::string want = absl::AsciiStrToUpper(node.Scalar());
    std::vector<std::string> names;
    for (int i = 0; i < type->value_count(); ++i) {
      const std::string& full = type->value(i)->name();
      if (absl::EndsWith(full, "_UNSPECIFIED")) continue;
      names.push_back(full);
      if (full == want || absl::EndsWith(full, "_" + want)) {
        *value = type->value(i)->number();
        return absl::OkStatus();
      }
    }
    return Error(node, path,
                 absl::StrCat("unknown value \"", node.Scalar(),
                              "\"; one of: ", absl::StrJoin(names, ", ")));
  }

  absl::Status Error(const YAML::Node& node, const std::string& path,
                     const std::string& what) {
    return absl::InvalidArgumentError(absl::StrCat(
        source_, ":", node.Mark().line + 1, ": ", path, ": ", what));
  }

  void Remember(const YAML::Node& node, const std::string& path) {
    if (lines_ != nullptr) (*lines_)[path] = node.Mark().line + 1;
  }

  std::string source_;
  YamlLines* lines_;
};

}  // namespace

absl::Status ParseYamlIntoProto(std::string_view text,
                                const std::string& source_name,
                                google::protobuf::Message* message,
                                YamlLines* lines) {
  message->Clear();
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(
        source_name, ":", e.mark.line + 1, ": not valid YAML: ", e.msg));
  }
  YamlToProto loader(source_name, lines);
  try {
    return loader.FillMessage(root, "", message);
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat(source_name, ":", e.mark.line + 1, ": ", e.msg));
  }
}

absl::Status LoadYamlFileIntoProto(const std::string& path,
                                   google::protobuf::Message* message,
                                   YamlLines* lines) {
  std::ifstream in(path);
  if (!in) {
    return absl::NotFoundError(
        absl::StrCat("cannot read config ", path, ": ", std::strerror(errno)));
  }
  std::stringstream text;
  text << in.rdbuf();
  return ParseYamlIntoProto(text.str(), path, message, lines);
}

}  // namespace dxbackup::common
