// libFuzzer: restoring arbitrary bytes never crashes and never writes
// outside the restore root (a sibling directory must stay empty).
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>

#include "agent/archive_extractor.h"
#include "agent/restore_root.h"

namespace {

class BytesSource : public dxbackup::agent::ByteSource {
 public:
  BytesSource(const uint8_t* data, size_t size)
      : bytes_(reinterpret_cast<const char*>(data), size) {}
  absl::StatusOr<std::string_view> Next() override {
    if (done_) return std::string_view();
    done_ = true;
    return bytes_;
  }

 private:
  std::string_view bytes_;
  bool done_ = false;
};

const std::filesystem::path& Work() {
  static const std::filesystem::path dir =
      std::filesystem::temp_directory_path() /
      ("dxbackup-extract-fuzz-" + std::to_string(getpid()));
  return dir;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace fs = std::filesystem;
  fs::remove_all(Work());
  fs::create_directories(Work() / "root");
  fs::create_directories(Work() / "outside");
  BytesSource source(data, size);
  absl::StatusOr<dxbackup::agent::RestoreRoot> root =
      dxbackup::agent::RestoreRoot::Open((Work() / "root").string());
  if (!root.ok()) __builtin_trap();
  dxbackup::agent::ArchiveExtractor extractor(&source, &*root);
  extractor.Extract().IgnoreError();
  for (const auto& entry : fs::directory_iterator(Work())) {
    const auto name = entry.path().filename();
    if (name != "root" && name != "outside") __builtin_trap();
  }
  if (!fs::is_empty(Work() / "outside")) __builtin_trap();
  return 0;
}
