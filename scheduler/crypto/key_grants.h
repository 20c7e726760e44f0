// KeyGrants: the secret keys a caller gave with a restore (`--key-file`),
// held for that restore's jobs while it runs, so that the agent's download
// of an encrypted artifact is decrypted with them — and dropped with the
// run. Nothing here is written anywhere.
//
// Thread-safe. A Grant (move-only) revokes what it gave when destroyed; it
// must not outlive its KeyGrants.
#ifndef DXBACKUP_SCHEDULER_CRYPTO_KEY_GRANTS_H_
#define DXBACKUP_SCHEDULER_CRYPTO_KEY_GRANTS_H_

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "scheduler/crypto/age_keys.h"

namespace dxbackup::scheduler::crypto {

using Identities = std::shared_ptr<const std::vector<Identity>>;

class KeyGrants {
 public:
  class Grant {
   public:
    Grant() = default;
    Grant(Grant&& other) noexcept { *this = std::move(other); }
    Grant& operator=(Grant&& other) noexcept;
    ~Grant();

   private:
    friend class KeyGrants;
    KeyGrants* grants_ = nullptr;
    std::vector<std::string> job_ids_;
  };

  // Gives `identities` to the jobs `job_ids` until the Grant ends.
  Grant Give(std::vector<std::string> job_ids, Identities identities);
  // What `job_id` was given; an empty list when nothing.
  std::vector<Identity> For(const std::string& job_id) const;

 private:
  void Revoke(const std::vector<std::string>& job_ids);

  mutable std::mutex mu_;
  std::map<std::string, Identities> by_job_;
};

}  // namespace dxbackup::scheduler::crypto

#endif  // DXBACKUP_SCHEDULER_CRYPTO_KEY_GRANTS_H_
