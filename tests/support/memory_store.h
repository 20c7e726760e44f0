// MemoryStore is an ArtifactStore that keeps its objects in memory, for unit
// tests of the store's consumers and for the store contract test. It keeps
// every rule of ArtifactStore (they live in the base class); objects become
// visible only on Commit, as in any store. Corrupt() changes a committed
// object's bytes behind the store's back, as bit rot would.
//
// Thread-safe. Readers hold their object's bytes: removing an object that is
// being read does not disturb the reader.
#ifndef DXBACKUP_TESTS_SUPPORT_MEMORY_STORE_H_
#define DXBACKUP_TESTS_SUPPORT_MEMORY_STORE_H_

#include <algorithm>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "scheduler/store/artifact_store.h"

namespace dxbackup::testing {

class MemoryStore : public scheduler::ArtifactStore {
 public:
  void Corrupt(const std::string& key, std::string bytes) {
    std::lock_guard<std::mutex> lock(mu_);
    objects_[key] = std::make_shared<const std::string>(std::move(bytes));
  }

  absl::StatusOr<std::vector<std::string>> RemoveUnfinished(
      const std::string& /*prefix*/) override {
    return std::vector<std::string>{};  // unfinished writes live in writers
  }

 protected:
  absl::StatusOr<std::unique_ptr<scheduler::ObjectSink>> StartObject(
      const std::string& key, int64_t /*locked_until_unix*/) override {
    return std::make_unique<Sink>(this, key);
  }

  absl::StatusOr<std::unique_ptr<scheduler::ArtifactReader>> OpenObject(
      const std::string& key) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = objects_.find(key);
    if (it == objects_.end()) return NotStored(key);
    return std::make_unique<Reader>(it->second);
  }

  absl::StatusOr<uint64_t> StatObject(const std::string& key) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = objects_.find(key);
    if (it == objects_.end()) return NotStored(key);
    return it->second->size();
  }

  absl::Status RemoveObject(const std::string& key) override {
    std::lock_guard<std::mutex> lock(mu_);
    objects_.erase(key);
    return absl::OkStatus();
  }

  absl::StatusOr<std::vector<scheduler::StoredObject>> ListObjects(
      const std::string& prefix) override {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<scheduler::StoredObject> listed;
    for (auto it = objects_.lower_bound(prefix);
         it != objects_.end() && absl::StartsWith(it->first, prefix); ++it) {
      listed.push_back({it->first, it->second->size()});
    }
    return listed;
  }

 private:
  using Bytes = std::shared_ptr<const std::string>;

  static absl::Status NotStored(const std::string& key) {
    return absl::NotFoundError(absl::StrCat("artifact ", key, " not stored"));
  }

  class Sink : public scheduler::ObjectSink {
   public:
    Sink(MemoryStore* store, std::string key)
        : store_(store), key_(std::move(key)) {}
    absl::Status Write(const void* data, size_t size) override {
      bytes_.append(static_cast<const char*>(data), size);
      return absl::OkStatus();
    }
    absl::Status Publish() override {
      store_->Corrupt(key_, std::move(bytes_));
      return absl::OkStatus();
    }
    void Discard() override { bytes_.clear(); }

   private:
    MemoryStore* store_;
    std::string key_;
    std::string bytes_;
  };

  class Reader : public scheduler::ArtifactReader {
   public:
    explicit Reader(Bytes bytes) : bytes_(std::move(bytes)) {}
    absl::StatusOr<size_t> Read(void* buffer, size_t size) override {
      const size_t n = std::min(size, bytes_->size() - offset_);
      std::memcpy(buffer, bytes_->data() + offset_, n);
      offset_ += n;
      return n;
    }

   private:
    Bytes bytes_;
    size_t offset_ = 0;
  };

  std::mutex mu_;
  std::map<std::string, Bytes> objects_;
};

}  // namespace dxbackup::testing

#endif  // DXBACKUP_TESTS_SUPPORT_MEMORY_STORE_H_
