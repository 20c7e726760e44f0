#include "scheduler/store/direct_file_writer.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <random>
#include <string>

#include "tests/support/temp_dir.h"

namespace dxbackup::scheduler {
namespace {

// Writes `content` in pieces of odd sizes and reads the file back.
std::string RoundTrip(const std::string& path, const std::string& content,
                      bool* direct) {
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0640);
  EXPECT_GE(fd, 0) << path;
  {
    DirectFileWriter out(fd);
    *direct = out.direct();
    for (size_t at = 0; at < content.size();) {
      const size_t n = std::min<size_t>(content.size() - at, 300001);
      EXPECT_EQ(out.Append(content.data() + at, n), 0);
      at += n;
    }
    EXPECT_EQ(out.Finish(), 0);
  }
  EXPECT_EQ(fsync(fd), 0);
  close(fd);
  return testing::ReadFile(path);
}

// Whether the file system under `dir` accepts O_DIRECT, asked directly.
bool TakesODirect(const std::string& dir) {
  const std::string probe = dir + "/o_direct_probe";
  const int fd = open(probe.c_str(), O_WRONLY | O_CREAT | O_DIRECT, 0600);
  if (fd >= 0) close(fd);
  unlink(probe.c_str());
  return fd >= 0;
}

TEST(DirectFileWriterTest, WritesEveryByteWhateverTheSizes) {
  std::mt19937 rng(3);
  for (size_t size : {size_t{0}, size_t{100}, size_t{4096}, size_t{1} << 20,
                      (size_t{3} << 20) + 4096 + 123}) {
    std::string content(size, '\0');
    for (char& c : content) c = static_cast<char>(rng());
    testing::TempDir dir;
    bool direct = false;
    EXPECT_EQ(RoundTrip(dir / "f", content, &direct), content) << size;
    // The store's file systems (ext4, xfs) take O_DIRECT; where the test's
    // temp dir is one that refuses it, the plain path is what ran.
    EXPECT_EQ(direct, TakesODirect(dir.path())) << size;
  }
  // Where O_DIRECT is refused (tmpfs on older kernels), it writes plainly.
  if (std::filesystem::is_directory("/dev/shm")) {
    const std::string path =
        "/dev/shm/dxbackup-direct-test-" + std::to_string(getpid());
    bool direct = true;
    const std::string content(5000, 'x');
    EXPECT_EQ(RoundTrip(path, content, &direct), content);
    // tmpfs refused O_DIRECT before Linux 6.6; whichever this kernel does,
    // the writer took the path the file system allows.
    EXPECT_EQ(direct, TakesODirect("/dev/shm"));
    unlink(path.c_str());
  }
}

}  // namespace
}  // namespace dxbackup::scheduler
