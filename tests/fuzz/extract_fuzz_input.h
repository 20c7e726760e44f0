// The input of the extraction fuzz target (extract_fuzz.cc): the restore
// of one volume. kMagic, a byte of ExtractFuzzFlags, then the archives of
// the chain's parts (oldest first) separated by kPartSeparator; any other
// input is a single archive restored in overlay mode.
//
// The target restores into kRoot below its work directory, next to two
// canary trees (kCanaries), and checks that nothing outside the root
// changed. When it can isolate itself (see extract_fuzz.cc) the work
// directory is kSandboxDir, so archives can name absolute paths in it.
#ifndef DXBACKUP_TESTS_FUZZ_EXTRACT_FUZZ_INPUT_H_
#define DXBACKUP_TESTS_FUZZ_EXTRACT_FUZZ_INPUT_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace dxbackup::fuzz {

inline constexpr std::string_view kMagic = "DXFZ";
inline constexpr std::string_view kPartSeparator = "\n--DXFZ-NEXT-PART--\n";
inline constexpr size_t kMaxParts = 4;

enum ExtractFuzzFlags : uint8_t {
  kReplace = 1,    // replace mode: remove what the restored moment lacks
  kKeepSetid = 2,  // keep setid bits and file capabilities
  kOnlyPathA = 4,  // restore only the volume-relative path "a"
};

inline constexpr char kSandboxDir[] = "/tmp/dxbackup-extract-fuzz";
inline constexpr char kRoot[] = "world/root";
inline constexpr const char* kCanaries[] = {"world/canary", "canary"};

struct ExtractFuzzInput {
  uint8_t flags = 0;
  std::vector<std::string_view> parts;  // views into the input
};

inline ExtractFuzzInput ParseExtractFuzzInput(std::string_view data) {
  ExtractFuzzInput input;
  if (data.substr(0, kMagic.size()) != kMagic || data.size() <= kMagic.size()) {
    input.parts.push_back(data);
    return input;
  }
  input.flags = static_cast<uint8_t>(data[kMagic.size()]);
  data.remove_prefix(kMagic.size() + 1);
  for (;;) {
    const size_t end = data.find(kPartSeparator);
    if (end == std::string_view::npos || input.parts.size() + 1 == kMaxParts) {
      input.parts.push_back(data);
      return input;
    }
    input.parts.push_back(data.substr(0, end));
    data.remove_prefix(end + kPartSeparator.size());
  }
}

inline std::string EncodeExtractFuzzInput(
    uint8_t flags, const std::vector<std::string>& parts) {
  std::string out(kMagic);
  out.push_back(static_cast<char>(flags));
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out.append(kPartSeparator);
    out.append(parts[i]);
  }
  return out;
}

}  // namespace dxbackup::fuzz

#endif  // DXBACKUP_TESTS_FUZZ_EXTRACT_FUZZ_INPUT_H_
