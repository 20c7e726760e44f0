// dxbackup-restore-bench: restores a volume of many files through the
// agent's restore path (VolumeRestore: extraction and the removal step) and
// reports the peak RSS against the agent container's memory limit.
//
//   dxbackup-restore-bench [--files 1000000] [--mode replace|chain]
//                          [--dir D] [--limit-mib 256]
//
// replace: one full archive in replace mode. chain: a full archive, then an
// incremental that changes 1% of the files and lists all of them, in
// overlay mode (a chain's removal step runs either way). The archives are
// generated as they are read (no disk, no memory for them); names are about
// 80 bytes, like a DX profile's. Exits 1 if the peak RSS (VmHWM) exceeds
// the limit.
#include <sys/resource.h>
#include <sys/stat.h>

#include <boost/program_options.hpp>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "agent/path_list.h"
#include "agent/restore/restore_root.h"
#include "agent/restore/volume_restore.h"

namespace po = boost::program_options;
using namespace dxbackup::agent;

namespace {

constexpr int kFilesPerDirectory = 1000;
constexpr size_t kPathListBytes = 1 << 20;

std::string DirectoryName(int d) {
  return absl::StrFormat("PortalServer/config/cells/dx-cell/nodes/d%05d", d);
}

std::string FileName(int i) {
  return absl::StrFormat("%s/resource-%07d.xml",
                         DirectoryName(i / kFilesPerDirectory), i);
}

// One ustar header block (names under 100 bytes, or split with a prefix).
std::string Header(const std::string& name, char type, size_t size) {
  std::string block(512, '\0');
  std::string prefix, base = name;
  if (name.size() > 99) {
    const size_t slash = name.rfind('/', 154);
    prefix = name.substr(0, slash);
    base = name.substr(slash + 1);
  }
  std::memcpy(&block[0], base.data(), base.size());
  std::snprintf(&block[100], 8, "%07o", type == '5' ? 0755 : 0644);
  std::snprintf(&block[108], 8, "%07o", 0);
  std::snprintf(&block[116], 8, "%07o", 0);
  std::snprintf(&block[124], 12, "%011zo", size);
  std::snprintf(&block[136], 12, "%011o", 1700000000);
  block[156] = type;
  std::memcpy(&block[257],
              "ustar\0"
              "00",
              8);
  std::memcpy(&block[345], prefix.data(), prefix.size());
  std::memset(&block[148], ' ', 8);
  unsigned sum = 0;
  for (unsigned char c : block) sum += c;
  std::snprintf(&block[148], 8, "%06o", sum);
  return block;
}

void AppendEntry(std::string* out, const std::string& name, char type,
                 const std::string& data = "") {
  out->append(Header(name, type, data.size()));
  out->append(data);
  out->append((512 - data.size() % 512) % 512, '\0');
}

// A tar archive made as it is read: the directories and files of a volume
// of `files` files; an incremental stores every directory and each 100th
// file, then the path list of all of them.
class GeneratedArchive : public ByteSource {
 public:
  GeneratedArchive(int files, bool incremental)
      : files_(files), incremental_(incremental) {}

  absl::StatusOr<std::string_view> Next() override {
    buffer_.clear();
    while (buffer_.size() < (1 << 20) && !done_) Produce();
    return std::string_view(buffer_);
  }

 private:
  void Produce() {
    if (next_ == 0 && !started_) {  // the root and the directories above
      started_ = true;
      for (const char* dir :
           {".", "PortalServer", "PortalServer/config",
            "PortalServer/config/cells", "PortalServer/config/cells/dx-cell",
            "PortalServer/config/cells/dx-cell/nodes"}) {
        AppendEntry(&buffer_, dir, '5');
        List(dir);
      }
      return;
    }
    if (next_ < files_) {
      const int i = next_++;
      if (i % kFilesPerDirectory == 0) {
        const std::string dir = DirectoryName(i / kFilesPerDirectory);
        AppendEntry(&buffer_, dir, '5');  // directories are always stored
        List(dir);
      }
      if (!incremental_ || i % 100 == 0) {
        AppendEntry(&buffer_, FileName(i), '0', incremental_ ? "v2" : "v1");
      }
      List(FileName(i));
      return;
    }
    if (incremental_) Flush(/*last=*/true);
    buffer_.append(1024, '\0');
    done_ = true;
  }
  void List(const std::string& path) {
    if (!incremental_) return;
    list_.append(path);
    list_.push_back('\0');
    if (list_.size() >= kPathListBytes) Flush(/*last=*/false);
  }
  void Flush(bool last) {
    if (list_.empty() && !last) return;
    AppendEntry(&buffer_, absl::StrFormat("%s%06d", kPathListPrefix, lists_++),
                '0', list_);
    list_.clear();
  }

  const int files_;
  const bool incremental_;
  int next_ = 0;
  int lists_ = 0;
  bool started_ = false;
  bool done_ = false;
  std::string buffer_;
  std::string list_;
};

uint64_t PeakRssKib() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stoull(line.substr(6));
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  int files = 1000000;
  int limit_mib = 256;
  std::string mode = "replace", dir;
  po::options_description desc("dxbackup-restore-bench");
  desc.add_options()("files", po::value(&files)->default_value(files),
                     "files in the volume")(
      "mode", po::value(&mode)->default_value(mode), "replace or chain")(
      "dir", po::value(&dir), "where to restore (default: a new temp dir)")(
      "limit-mib", po::value(&limit_mib)->default_value(limit_mib),
      "peak RSS allowed");
  po::variables_map vm;
  po::store(po::parse_command_line(argc, argv, desc), vm);
  po::notify(vm);
  if (mode != "replace" && mode != "chain") {
    std::cerr << desc;
    return 2;
  }
  if (dir.empty()) {
    dir = (std::filesystem::temp_directory_path() /
           absl::StrCat("dxbackup-restore-bench-", getpid()))
              .string();
  }
  std::filesystem::create_directories(dir);
  absl::StatusOr<RestoreRoot> root = RestoreRoot::Open(dir);
  if (!root.ok()) {
    std::cerr << root.status().message() << "\n";
    return 2;
  }
  const bool chain = mode == "chain";
  VolumeRestoreOptions options;
  options.replace = !chain;
  VolumeRestore restore(&*root, options, chain ? 2 : 1);
  const auto start = std::chrono::steady_clock::now();
  for (bool incremental :
       chain ? std::vector<bool>{false, true} : std::vector<bool>{false}) {
    GeneratedArchive archive(files, incremental);
    absl::Status s = restore.ExtractPart(&archive);
    if (!s.ok()) {
      std::cerr << s.message() << "\n";
      return 2;
    }
  }
  absl::StatusOr<uint64_t> restored = restore.Finish();
  if (!restored.ok()) {
    std::cerr << restored.status().message() << "\n";
    return 2;
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  const double peak_mib = PeakRssKib() / 1024.0;
  // A restore that lost files measured the wrong thing.
  int64_t left = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    left += e.is_regular_file();
  }
  if (left != files) {
    std::cerr << "restore left " << left << " files of " << files << "\n";
    return 2;
  }
  std::printf(
      "%s restore of %d files: %llu entries in %.1f s, peak RSS %.1f "
      "MiB (limit %d MiB)\n",
      mode.c_str(), files, static_cast<unsigned long long>(*restored), seconds,
      peak_mib, limit_mib);
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  return peak_mib <= limit_mib ? 0 : 1;
}
