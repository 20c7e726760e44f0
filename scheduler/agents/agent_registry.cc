#include "scheduler/agents/agent_registry.h"

#include "absl/strings/str_cat.h"
#include "common/log.h"

namespace dxbackup::scheduler {

AgentRegistry::AgentRegistry(AgentCatalog* catalog, const common::Clock* clock)
    : catalog_(catalog), clock_(clock) {}

std::string AgentRegistry::AgentId(const v1::Hello& hello) {
  return absl::StrCat(hello.namespace_(), "/", hello.release(), "/",
                      hello.pod());
}

absl::StatusOr<Registration> AgentRegistry::Register(const v1::Hello& hello,
                                                     const std::string& binding,
                                                     AgentChannel* channel) {
  const std::string id = AgentId(hello);
  v1::AgentInfo info;
  info.set_id(id);
  info.set_namespace_(hello.namespace_());
  info.set_release(hello.release());
  info.set_pod(hello.pod());
  info.set_component(hello.component());
  *info.mutable_volumes() = hello.volumes();
  info.set_agent_version(hello.agent_version());
  info.set_fix_level(hello.fix_level());
  *info.mutable_labels() = hello.labels();
  info.set_connected_unix(clock_->NowUnix());
  info.set_last_seen_unix(clock_->NowUnix());
  info.set_connected(true);
  Registration registration{id, 0};
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = connected_.find(id);
    if (it != connected_.end() && it->second.channel != channel) {
      if (it->second.binding != binding) {
        DXLOG(WARNING) << "agent " << id << " refused: registered with a "
                       << "token for " << it->second.binding
                       << ", this one is for " << binding;
        return absl::PermissionDeniedError(absl::StrCat(
            "agent ", id, " is connected with a token for ", it->second.binding,
            "; a token for ", binding, " may not replace it"));
      }
      DXLOG(WARNING) << "agent " << id
                     << " connected again; closing its older stream";
      it->second.channel->Close(
          absl::StrCat("agent ", id, " reconnected while the job ran"));
    }
    registration.session = ++last_session_;
    connected_[id] = Entry{info, channel, binding, registration.session};
    deployments_[id] = {hello.namespace_(), hello.release()};
  }
  BeginRowWrite();
  absl::Status s = catalog_->UpsertAgent(info);
  EndRowWrite();
  if (!s.ok()) DXLOG(ERROR) << s.message();
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = connected_.find(id);
    if (it != connected_.end() && it->second.session == registration.session) {
      it->second.recorded = true;
    }
  }
  registered_.notify_all();
  DXLOG(INFO) << "agent " << id << " registered (" << hello.component()
              << ", release " << hello.release() << ", " << hello.volumes_size()
              << " volumes)";
  return registration;
}

bool AgentRegistry::AwaitConnected(const std::string& agent_id,
                                   std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  return registered_.wait_for(lock, timeout, [&] {
    auto it = connected_.find(agent_id);
    return it != connected_.end() && it->second.recorded;
  });
}

bool AgentRegistry::Unregister(const std::string& agent_id,
                               AgentChannel* channel) {
  v1::AgentInfo info;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = connected_.find(agent_id);
    if (it == connected_.end() || it->second.channel != channel) return false;
    info = it->second.info;
    connected_.erase(it);
  }
  info.set_last_seen_unix(clock_->NowUnix());
  BeginRowWrite();
  catalog_->UpsertAgent(info).IgnoreError();
  EndRowWrite();
  DXLOG(INFO) << "agent " << agent_id << " disconnected";
  return true;
}

void AgentRegistry::Touch(const std::string& agent_id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = connected_.find(agent_id);
  if (it != connected_.end()) {
    it->second.info.set_last_seen_unix(clock_->NowUnix());
  }
}

bool AgentRegistry::Send(const std::string& agent_id,
                         const v1::SchedulerMessage& message) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = connected_.find(agent_id);
  return it != connected_.end() && it->second.channel->Send(message);
}

uint64_t AgentRegistry::SessionOf(const std::string& agent_id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = connected_.find(agent_id);
  return it == connected_.end() ? 0 : it->second.session;
}

bool AgentRegistry::SendToSession(const std::string& agent_id, uint64_t session,
                                  const v1::SchedulerMessage& message) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = connected_.find(agent_id);
  return it != connected_.end() && it->second.session == session &&
         it->second.channel->Send(message);
}

std::vector<v1::AgentInfo> AgentRegistry::AgentsOf(
    const std::string& namespace_, const std::string& release) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<v1::AgentInfo> out;
  for (const auto& [id, entry] : connected_) {
    if (entry.info.namespace_() == namespace_ &&
        entry.info.release() == release) {
      out.push_back(entry.info);
    }
  }
  return out;
}

void AgentRegistry::BeginRowWrite() {
  std::lock_guard<std::mutex> lock(mu_);
  ++row_writes_;
}

std::vector<v1::AgentInfo> AgentRegistry::StoredAgents() {
  uint64_t read_at;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (kept_valid_ && kept_at_ == row_writes_) return kept_;
    read_at = row_writes_;
  }
  absl::StatusOr<std::vector<v1::AgentInfo>> stored = catalog_->ListAgents();
  if (!stored.ok()) return {};
  std::lock_guard<std::mutex> lock(mu_);
  if (row_writes_ == read_at) {  // no write began or ended meanwhile
    kept_ = *stored;
    kept_at_ = read_at;
    kept_valid_ = true;
  }
  return *std::move(stored);
}

void AgentRegistry::AsConnectedNow(v1::AgentInfo* agent) const {
  auto it = connected_.find(agent->id());
  if (it != connected_.end()) {
    *agent = it->second.info;
    agent->set_connected(true);
  } else {
    agent->set_connected(false);
  }
}

std::vector<v1::AgentInfo> AgentRegistry::AllAgents() {
  std::vector<v1::AgentInfo> known = StoredAgents();
  std::lock_guard<std::mutex> lock(mu_);
  for (v1::AgentInfo& agent : known) AsConnectedNow(&agent);
  return known;
}

std::set<std::string> AgentRegistry::DeploymentsAwaitingAgents(
    int64_t seen_within_seconds) {
  std::set<std::string> awaiting;
  const std::vector<v1::AgentInfo> stored = StoredAgents();
  const int64_t now = clock_->NowUnix();
  std::lock_guard<std::mutex> lock(mu_);
  for (const v1::AgentInfo& agent : stored) {
    if (connected_.count(agent.id()) != 0) continue;
    // Registration writes both times; a disconnection seen moves
    // last_seen on. Equal: nobody saw it go.
    const bool never_seen_to_go =
        agent.last_seen_unix() == agent.connected_unix();
    if (never_seen_to_go ||
        now - agent.last_seen_unix() <= seen_within_seconds) {
      awaiting.insert(agent.namespace_() + "/" + agent.release());
    }
  }
  return awaiting;
}

absl::StatusOr<std::pair<std::string, std::string>> AgentRegistry::DeploymentOf(
    const std::string& agent_id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = deployments_.find(agent_id);
  if (it == deployments_.end()) {
    return absl::NotFoundError(absl::StrCat("no agent ", agent_id));
  }
  return it->second;
}

std::vector<v1::AgentInfo> AgentRegistry::KnownAgentsOf(
    const std::string& namespace_, const std::string& release,
    int64_t max_age_seconds) {
  std::vector<v1::AgentInfo> out;
  absl::StatusOr<std::vector<v1::AgentInfo>> stored =
      catalog_->ListAgentsOf(namespace_, release);
  if (!stored.ok()) return out;
  const int64_t now = clock_->NowUnix();
  std::lock_guard<std::mutex> lock(mu_);
  for (v1::AgentInfo& agent : *stored) {
    AsConnectedNow(&agent);
    if (agent.connected() || now - agent.last_seen_unix() <= max_age_seconds) {
      out.push_back(std::move(agent));
    }
  }
  return out;
}

absl::StatusOr<v1::AgentInfo> AgentRegistry::Forget(
    const std::string& agent_id) {
  absl::StatusOr<std::vector<v1::AgentInfo>> stored = catalog_->ListAgents();
  if (!stored.ok()) return stored.status();
  for (const v1::AgentInfo& agent : *stored) {
    if (agent.id() != agent_id) continue;
    // Checked and removed under the lock: a registration racing with this
    // writes its row after it is in connected_, so it is either refused
    // here or written after the removal.
    std::lock_guard<std::mutex> lock(mu_);
    if (connected_.count(agent_id) != 0) {
      return absl::FailedPreconditionError(absl::StrCat(
          "agent ", agent_id,
          " is connected: it would register again at once; remove its pod "
          "(or its agent container) first"));
    }
    ++row_writes_;  // under mu_: no read of the rows is kept across it
    absl::Status s = catalog_->DeleteAgent(agent_id);
    if (!s.ok()) return s;
    deployments_.erase(agent_id);
    DXLOG(INFO) << "agent " << agent_id << " forgotten";
    return agent;
  }
  return absl::NotFoundError(
      absl::StrCat("no agent ", agent_id, " (see `dxbackup agents`)"));
}

std::vector<std::string> AgentRegistry::ForgetGone(
    int64_t max_age_seconds, const DeploymentScope& scope) {
  std::vector<std::string> forgotten;
  const std::vector<v1::AgentInfo> stored = StoredAgents();
  const int64_t now = clock_->NowUnix();
  std::lock_guard<std::mutex> lock(mu_);
  for (const v1::AgentInfo& agent : stored) {
    const int64_t gone_for = now - agent.last_seen_unix();
    if (connected_.count(agent.id()) != 0 || gone_for <= max_age_seconds ||
        !InScope(scope, agent.namespace_(), agent.release())) {
      continue;
    }
    ++row_writes_;  // under mu_: no read of the rows is kept across it
    if (catalog_->DeleteAgent(agent.id()).ok()) {
      deployments_.erase(agent.id());
      DXLOG(INFO) << "agent " << agent.id() << " forgotten: not seen for "
                  << gone_for << " s";
      forgotten.push_back(agent.id());
    }
  }
  return forgotten;
}

std::vector<std::string> AgentRegistry::CloseSilent(
    int64_t max_silence_seconds) {
  std::vector<std::string> closed;
  const int64_t now = clock_->NowUnix();
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [id, entry] : connected_) {
    const int64_t silent = now - entry.info.last_seen_unix();
    if (silent > max_silence_seconds) {
      DXLOG(WARNING) << "agent " << id << " sent no heartbeat for " << silent
                     << " s: offline";
      entry.channel->Close(absl::StrCat("agent ", id, " went offline: no ",
                                        "heartbeat for ", silent, " s"));
      closed.push_back(id);
    }
  }
  return closed;
}

}  // namespace dxbackup::scheduler
