// IndexWriter: an upload's index batches go into the catalog beside the
// upload (the call that hands a batch over returns while it is written),
// in order, each once; a failed batch fails what follows; after Stop
// nothing more is written.
#include "scheduler/agents/index_writer.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tests/support/memory_catalog.h"

namespace dxbackup::scheduler {
namespace {

// The in-memory catalog, recording on which thread each batch went in; a
// batch can be held until released, and one can fail.
class RecordingCatalog : public testing::MemoryCatalog {
 public:
  RecordingCatalog() {
    v1::BackupSet set;
    set.set_id("set-1");
    EXPECT_TRUE(CreateSet(set).ok());
  }

  absl::Status AddFiles(const std::string& set_id, const std::string& target,
                        const google::protobuf::RepeatedPtrField<v1::FileEntry>&
                            entries) override {
    std::unique_lock<std::mutex> lock(mu_);
    threads_.push_back(std::this_thread::get_id());
    cv_.notify_all();
    cv_.wait(lock, [this] { return !hold_; });
    if (static_cast<int>(threads_.size()) == fail_call_) {
      return absl::UnavailableError("the catalog went away");
    }
    lock.unlock();
    return MemoryCatalog::AddFiles(set_id, target, entries);
  }

  void Hold() {
    std::lock_guard<std::mutex> lock(mu_);
    hold_ = true;
  }
  void Release() {
    std::lock_guard<std::mutex> lock(mu_);
    hold_ = false;
    cv_.notify_all();
  }
  void FailCall(int n) { fail_call_ = n; }
  void AwaitCalls(size_t n) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return threads_.size() >= n; });
  }
  std::vector<std::thread::id> threads() {
    std::lock_guard<std::mutex> lock(mu_);
    return threads_;
  }

  int Rows() {
    int rows = 0;
    v1::ListFilesRequest request;
    request.set_set_id("set-1");
    EXPECT_TRUE(ForEachFile(request, [&](const v1::IndexedFile&) {
                  ++rows;
                  return true;
                }).ok());
    return rows;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::thread::id> threads_;
  bool hold_ = false;
  int fail_call_ = 0;
};

IndexWriter::Batch Entries(int from, int count) {
  IndexWriter::Batch batch;
  for (int i = from; i < from + count; ++i) {
    v1::FileEntry* e = batch.Add();
    e->set_path(absl::StrCat("dir/file-", i));
    e->set_type("file");
  }
  return batch;
}

TEST(IndexWriterTest, ABatchGoesInWhileTheUploadGoesOn) {
  RecordingCatalog catalog;
  IndexWriter writer(&catalog, "set-1", "core/profile");
  catalog.Hold();  // a synchronous write would never return from Add
  IndexWriter::Batch batch = Entries(0, 100);
  ASSERT_TRUE(writer.Add(&batch).ok());
  EXPECT_TRUE(batch.empty());
  catalog.AwaitCalls(1);
  catalog.Release();
  batch = Entries(100, 100);
  ASSERT_TRUE(writer.Add(&batch).ok());
  IndexWriter::Batch last = Entries(200, 50);
  ASSERT_TRUE(writer.Finish(&last).ok());
  EXPECT_EQ(catalog.Rows(), 250);
  const std::vector<std::thread::id> threads = catalog.threads();
  ASSERT_EQ(threads.size(), 3u);
  EXPECT_NE(threads[0], std::this_thread::get_id());
  EXPECT_NE(threads[1], std::this_thread::get_id());
  EXPECT_EQ(threads[2], std::this_thread::get_id());  // Finish's own
}

TEST(IndexWriterTest, AFailedBatchFailsWhatFollowsAndNothingMoreGoesIn) {
  RecordingCatalog catalog;
  catalog.FailCall(2);
  IndexWriter writer(&catalog, "set-1", "core/profile");
  IndexWriter::Batch batch = Entries(0, 100);
  ASSERT_TRUE(writer.Add(&batch).ok());
  batch = Entries(100, 100);
  ASSERT_TRUE(writer.Add(&batch).ok());  // the first went in
  batch = Entries(200, 100);
  absl::Status s = writer.Add(&batch);  // reports the second's failure
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
  IndexWriter::Batch last = Entries(300, 10);
  EXPECT_EQ(writer.Finish(&last).code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(catalog.Rows(), 100);
  EXPECT_EQ(catalog.threads().size(), 2u);
}

TEST(IndexWriterTest, AfterStopNothingMoreGoesIn) {
  RecordingCatalog catalog;
  IndexWriter writer(&catalog, "set-1", "core/profile");
  IndexWriter::Batch batch = Entries(0, 100);
  ASSERT_TRUE(writer.Add(&batch).ok());
  writer.Stop();  // the batch being written goes in
  EXPECT_EQ(catalog.Rows(), 100);
  batch = Entries(100, 100);
  writer.Add(&batch).IgnoreError();
  IndexWriter::Batch last = Entries(200, 10);
  writer.Finish(&last).IgnoreError();
  EXPECT_EQ(catalog.Rows(), 100);
  EXPECT_EQ(catalog.threads().size(), 1u);
}

TEST(IndexWriterTest, AFewEntriesGoInOnFinishWithoutAThread) {
  RecordingCatalog catalog;
  IndexWriter writer(&catalog, "set-1", "core/profile");
  IndexWriter::Batch last = Entries(0, 10);
  ASSERT_TRUE(writer.Finish(&last).ok());
  EXPECT_EQ(catalog.Rows(), 10);
  ASSERT_EQ(catalog.threads().size(), 1u);
  EXPECT_EQ(catalog.threads()[0], std::this_thread::get_id());
}

}  // namespace
}  // namespace dxbackup::scheduler
