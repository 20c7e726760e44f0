// VerifyTask starts the policies' scheduled verification at its slots
// (PolicyVerifier::StartDue, which verifies on threads of its own, so a
// long verification holds up no other task). Runs on the ticker's thread;
// `verifier` outlives it.
#ifndef DXBACKUP_SCHEDULER_PERIODIC_VERIFY_TASK_H_
#define DXBACKUP_SCHEDULER_PERIODIC_VERIFY_TASK_H_

#include "scheduler/periodic/periodic_task.h"
#include "scheduler/periodic/policy_verifier.h"

namespace dxbackup::scheduler {

class VerifyTask : public PeriodicTask {
 public:
  explicit VerifyTask(PolicyVerifier* verifier) : verifier_(verifier) {}

  const char* name() const override { return "verification"; }
  void Run(absl::Time now) override { verifier_->StartDue(now); }
  absl::Time NextDue(absl::Time now) const override {
    return verifier_->NextDue(now);
  }

 private:
  PolicyVerifier* verifier_;
};

}  // namespace dxbackup::scheduler

#endif  // DXBACKUP_SCHEDULER_PERIODIC_VERIFY_TASK_H_
