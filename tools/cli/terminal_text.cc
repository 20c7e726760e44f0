#include "tools/cli/terminal_text.h"

#include "absl/strings/str_format.h"
#include "common/utf8_escape.h"

namespace dxbackup::cli {

std::string Printable(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      if (c < 0x20 || c == 0x7f) {
        out += absl::StrFormat("\\x%02x", c);
      } else {
        out.push_back(static_cast<char>(c));
      }
      ++i;
      continue;
    }
    const size_t n = common::Utf8SequenceLength(text, i);
    if (n == 0) {
      out += absl::StrFormat("\\x%02x", c);  // not UTF-8
      ++i;
    } else if (n == 2 && c == 0xc2 &&
               static_cast<unsigned char>(text[i + 1]) <= 0x9f) {
      // U+0080..U+009F: a C1 control (0x9b starts a sequence on many
      // terminals).
      out +=
          absl::StrFormat("\\u%04x", static_cast<unsigned char>(text[i + 1]));
      i += n;
    } else {
      out.append(text.data() + i, n);
      i += n;
    }
  }
  return out;
}

std::string PrintableLines(std::string_view text) {
  std::string out;
  while (!text.empty()) {
    const size_t end = text.find('\n');
    out += Printable(text.substr(0, end));
    out += '\n';
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
  }
  return out;
}

}  // namespace dxbackup::cli
