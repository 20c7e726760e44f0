#include "scheduler/crypto/age_header.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "scheduler/crypto/primitives.h"

namespace dxbackup::scheduler::crypto {
namespace {

constexpr size_t kColumnsPerLine = 64;
constexpr size_t kBytesPerLine = kColumnsPerLine / 4 * 3;

absl::Status Malformed(const char* what) {
  return absl::DataLossError(absl::StrCat("malformed age header: ", what));
}

// An argument is one or more printable ASCII characters (VCHAR).
bool ValidArg(std::string_view arg) {
  if (arg.empty()) return false;
  for (char c : arg) {
    if (c < 33 || c > 126) return false;
  }
  return true;
}

// Splits at every space (empty pieces kept, so double spaces are caught).
std::vector<std::string_view> SplitOnSpaces(std::string_view line) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    const size_t space = line.find(' ', start);
    parts.push_back(line.substr(start, space - start));
    if (space == std::string_view::npos) return parts;
    start = space + 1;
  }
}

// Takes the next line (without its '\n') off the front of `*rest`.
bool NextLine(std::string_view* rest, std::string_view* line) {
  const size_t newline = rest->find('\n');
  if (newline == std::string_view::npos) return false;
  *line = rest->substr(0, newline);
  rest->remove_prefix(newline + 1);
  return true;
}

}  // namespace

std::string EncodeHeaderForMac(const std::vector<Stanza>& stanzas) {
  std::string out(kAgeVersionLine);
  for (const Stanza& stanza : stanzas) {
    absl::StrAppend(&out, "-> ", stanza.type);
    for (const std::string& arg : stanza.args) absl::StrAppend(&out, " ", arg);
    out += '\n';
    const std::string body =
        EncodeBase64(reinterpret_cast<const uint8_t*>(stanza.body.data()),
                     stanza.body.size());
    // Full lines, then a short (possibly empty) last line.
    for (size_t i = 0; i + kColumnsPerLine <= body.size();
         i += kColumnsPerLine) {
      out.append(body, i, kColumnsPerLine).append("\n");
    }
    out.append(body, body.size() / kColumnsPerLine * kColumnsPerLine)
        .append("\n");
  }
  out += "---";
  return out;
}

std::string EncodeMacLine(std::string_view mac) {
  return absl::StrCat(
      " ",
      EncodeBase64(reinterpret_cast<const uint8_t*>(mac.data()), mac.size()),
      "\n");
}

size_t FindHeaderEnd(std::string_view data, size_t* scanned) {
  // Stanza lines start with "->" and body lines with base64, so the first
  // line that starts with "---" is the closing one.
  while (true) {
    const size_t newline = data.find('\n', *scanned);
    if (newline == std::string_view::npos) return 0;
    if (data.substr(*scanned, 3) == "---") return newline + 1;
    *scanned = newline + 1;
  }
}

absl::StatusOr<ParsedHeader> ParseHeader(std::string_view text) {
  if (text.substr(0, kAgeVersionLine.size()) != kAgeVersionLine) {
    return absl::DataLossError(
        "not an age v1 file (no \"age-encryption.org/v1\" line)");
  }
  ParsedHeader header;
  std::string_view rest = text.substr(kAgeVersionLine.size());
  std::string_view line;
  while (true) {
    if (!NextLine(&rest, &line)) return Malformed("no closing \"---\" line");
    if (line.substr(0, 3) == "---") {
      const std::vector<std::string_view> parts = SplitOnSpaces(line);
      std::optional<std::string> mac;
      if (parts.size() != 2 || parts[0] != "---" ||
          !(mac = DecodeBase64(parts[1])) || mac->size() != 32) {
        return Malformed("bad closing line");
      }
      header.mac = *std::move(mac);
      const size_t mac_input_size =
          static_cast<size_t>(line.data() - text.data()) + 3;
      header.mac_input = std::string(text.substr(0, mac_input_size));
      break;
    }
    const std::vector<std::string_view> parts = SplitOnSpaces(line);
    if (parts.size() < 2 || parts[0] != "->") {
      return Malformed("a line is neither a stanza nor the closing line");
    }
    Stanza stanza;
    for (size_t i = 1; i < parts.size(); ++i) {
      if (!ValidArg(parts[i])) return Malformed("bad stanza argument");
    }
    stanza.type = std::string(parts[1]);
    for (size_t i = 2; i < parts.size(); ++i) {
      stanza.args.emplace_back(parts[i]);
    }
    while (true) {
      if (!NextLine(&rest, &line)) return Malformed("stanza body cut short");
      std::optional<std::string> bytes = DecodeBase64(line);
      if (!bytes || bytes->size() > kBytesPerLine) {
        return Malformed("bad stanza body line");
      }
      stanza.body += *bytes;
      if (bytes->size() < kBytesPerLine) break;
    }
    header.stanzas.push_back(std::move(stanza));
  }
  if (!rest.empty()) return Malformed("bytes after the closing line");
  if (header.stanzas.empty()) return Malformed("no recipient stanza");
  return header;
}

}  // namespace dxbackup::scheduler::crypto
