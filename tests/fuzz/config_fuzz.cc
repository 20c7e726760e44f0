// libFuzzer: the scheduler's YAML config loader (ParseSchedulerConfig)
// never crashes, every error names the file and a line ("fuzz.yaml:7: ..."),
// and an accepted config round-trips: written back out and loaded again, it
// is the same config. It is written twice, by writers that share nothing
// with the loader:
//
//  - as JSON by protobuf (field names kept, enums by name): YAML is a
//    superset of JSON, so this is a config file too, in flow style;
//  - as block-style YAML by the small writer below (every string
//    double-quoted, enums by full name), the style operators write.
//
// The JSON form steps around two known defects of the loader (strings that
// are not UTF-8, a key given twice), and only those; see the end.
//
// A failed check prints the input, the config and what was written, and
// aborts; CONFIG_FUZZ_PRINT=1 says of every input whether it was accepted
// (the seeds in corpus/config all are).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "scheduler/config/scheduler_config.h"

namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

constexpr char kSource[] = "fuzz.yaml";

// A YAML double-quoted scalar: the bytes as they are, but for the quote,
// the backslash and control characters, which are escaped.
std::string Quote(const std::string& s) {
  std::string out = "\"";
  for (unsigned char ch : s) {
    switch (ch) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (ch < 0x20 || ch == 0x7f) {
          absl::StrAppendFormat(&out, "\\x%02x", ch);
        } else {
          out += static_cast<char>(ch);
        }
    }
  }
  return out + "\"";
}

// One scalar field value (index < 0: a singular field) as YAML.
std::string Scalar(const Message& m, const FieldDescriptor* f, int index) {
  const Reflection* r = m.GetReflection();
  const bool rep = index >= 0;
  switch (f->cpp_type()) {
    case FieldDescriptor::CPPTYPE_STRING:
      return Quote(rep ? r->GetRepeatedString(m, f, index)
                       : r->GetString(m, f));
    case FieldDescriptor::CPPTYPE_BOOL:
      return (rep ? r->GetRepeatedBool(m, f, index) : r->GetBool(m, f))
                 ? "true"
                 : "false";
    case FieldDescriptor::CPPTYPE_INT32:
      return absl::StrCat(rep ? r->GetRepeatedInt32(m, f, index)
                              : r->GetInt32(m, f));
    case FieldDescriptor::CPPTYPE_INT64:
      return absl::StrCat(rep ? r->GetRepeatedInt64(m, f, index)
                              : r->GetInt64(m, f));
    case FieldDescriptor::CPPTYPE_UINT32:
      return absl::StrCat(rep ? r->GetRepeatedUInt32(m, f, index)
                              : r->GetUInt32(m, f));
    case FieldDescriptor::CPPTYPE_UINT64:
      return absl::StrCat(rep ? r->GetRepeatedUInt64(m, f, index)
                              : r->GetUInt64(m, f));
    case FieldDescriptor::CPPTYPE_ENUM:
      return (rep ? r->GetRepeatedEnum(m, f, index) : r->GetEnum(m, f))->name();
    default:  // the config has no floating point fields
      std::fprintf(stderr, "config_fuzz: cannot write field %s\n",
                   f->full_name().c_str());
      std::abort();
  }
}

// `m` as block-style YAML, its keys at `indent` spaces.
void WriteMessage(const Message& m, int indent, std::string* out) {
  const std::string pad(indent, ' ');
  std::vector<const FieldDescriptor*> fields;
  m.GetReflection()->ListFields(m, &fields);
  for (const FieldDescriptor* f : fields) {
    const Reflection* r = m.GetReflection();
    absl::StrAppend(out, pad, f->name(), ":");
    if (f->is_map()) {
      *out += "\n";
      const FieldDescriptor* key = f->message_type()->map_key();
      const FieldDescriptor* value = f->message_type()->map_value();
      for (int i = 0; i < r->FieldSize(m, f); ++i) {
        const Message& entry = r->GetRepeatedMessage(m, f, i);
        absl::StrAppend(out, pad, "  ", Scalar(entry, key, -1), ":");
        if (value->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
          *out += "\n";
          WriteMessage(entry.GetReflection()->GetMessage(entry, value),
                       indent + 4, out);
        } else {
          absl::StrAppend(out, " ", Scalar(entry, value, -1), "\n");
        }
      }
    } else if (f->is_repeated()) {
      *out += "\n";
      for (int i = 0; i < r->FieldSize(m, f); ++i) {
        if (f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
          absl::StrAppend(out, pad, "  -\n");
          WriteMessage(r->GetRepeatedMessage(m, f, i), indent + 4, out);
        } else {
          absl::StrAppend(out, pad, "  - ", Scalar(m, f, i), "\n");
        }
      }
    } else if (f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      *out += "\n";
      WriteMessage(r->GetMessage(m, f), indent + 2, out);
    } else {
      absl::StrAppend(out, " ", Scalar(m, f, -1), "\n");
    }
  }
}

bool IsUtf8(const std::string& s) {
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = s[i];
    size_t n;
    uint32_t cp;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xe0) == 0xc0) {
      n = 1, cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      n = 2, cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      n = 3, cp = c & 0x07;
    } else {
      return false;
    }
    if (i + n >= s.size()) return false;  // cut short
    for (size_t k = 1; k <= n; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (s[i + k] & 0x3f);
    }
    constexpr uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMin[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
      return false;
    }
    i += n + 1;
  }
  return true;
}

// Whether a map field of `m`, or of a message in it, holds a key twice.
bool HasKeyTwice(const Message& m) {
  const Reflection* r = m.GetReflection();
  std::vector<const FieldDescriptor*> fields;
  r->ListFields(m, &fields);
  for (const FieldDescriptor* f : fields) {
    if (f->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) continue;
    std::set<std::string> keys;
    const int n = f->is_repeated() ? r->FieldSize(m, f) : 1;
    for (int i = 0; i < n; ++i) {
      const Message& item = f->is_repeated() ? r->GetRepeatedMessage(m, f, i)
                                             : r->GetMessage(m, f);
      if (f->is_map() &&
          !keys.insert(Scalar(item, f->message_type()->map_key(), -1)).second) {
        return true;
      }
      if (HasKeyTwice(item)) return true;
    }
  }
  return false;
}

[[noreturn]] void Fail(const std::string& what, const std::string& input,
                       const std::string& detail) {
  std::fprintf(stderr, "config_fuzz: %s\n--- input\n%s\n--- %s\n", what.c_str(),
               input.c_str(), detail.c_str());
  std::abort();
}

// Loads `written` (a form of `config`) and checks it is `config` again.
void CheckRoundTrip(const char* form, const std::string& input,
                    const dxbackup::v1::SchedulerConfig& config,
                    const std::string& written) {
  auto again = dxbackup::scheduler::ParseSchedulerConfig(written, kSource);
  const std::string detail = absl::StrCat(
      "config\n", config.DebugString(), "--- written as ", form, "\n", written);
  if (!again.ok()) {
    Fail(absl::StrCat("the config written as ", form,
                      " is refused: ", again.status().ToString()),
         input, detail);
  }
  std::string diff;
  google::protobuf::util::MessageDifferencer differ;
  differ.ReportDifferencesToString(&diff);
  if (!differ.Compare(config, *again)) {
    Fail(absl::StrCat("the config written as ", form,
                      " loads as another config:\n", diff),
         input, detail);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto config = dxbackup::scheduler::ParseSchedulerConfig(text, kSource);
  static const bool print = std::getenv("CONFIG_FUZZ_PRINT") != nullptr;
  if (print) {
    std::fprintf(stderr, "config_fuzz: %s\n",
                 config.ok() ? "accepted" : config.status().ToString().c_str());
  }
  if (!config.ok()) {
    // "fuzz.yaml:<line>: ..."
    const std::string message(config.status().message());
    const std::string prefix = absl::StrCat(kSource, ":");
    size_t digits = prefix.size();
    while (digits < message.size() && absl::ascii_isdigit(message[digits])) {
      ++digits;
    }
    if (message.compare(0, prefix.size(), prefix) != 0 ||
        digits == prefix.size() || message.compare(digits, 2, ": ") != 0) {
      Fail("the error does not name the file and a line", text, message);
    }
    return 0;
  }

  std::string yaml;
  WriteMessage(*config, 0, &yaml);
  CheckRoundTrip("block YAML", text, *config, yaml);

  // The loader refuses strings that are not UTF-8 and keys given twice
  // (proto3 strings must be UTF-8; YAML forbids a repeated key), so an
  // accepted config never holds either.
  if (!IsUtf8(yaml)) {
    Fail("an accepted config holds a string that is not UTF-8", text,
         config->DebugString());
  }
  if (HasKeyTwice(*config)) {
    Fail("an accepted config holds a map key twice", text,
         config->DebugString());
  }
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  std::string json;
  const auto printed =
      google::protobuf::util::MessageToJsonString(*config, &json, options);
  if (!printed.ok()) {
    Fail("protobuf cannot write the config as JSON: " + printed.ToString(),
         text, config->DebugString());
  }
  CheckRoundTrip("JSON", text, *config, json);
  return 0;
}
