#include "scheduler/agent_registry.h"

#include "absl/strings/str_cat.h"
#include "common/log.h"

namespace dxbackup::scheduler {

AgentRegistry::AgentRegistry(Catalog* catalog, const common::Clock* clock)
    : catalog_(catalog), clock_(clock) {}

std::string AgentRegistry::AgentId(const v1::Hello& hello) {
  return absl::StrCat(hello.namespace_(), "/", hello.pod());
}

std::string AgentRegistry::Register(const v1::Hello& hello,
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
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = connected_.find(id);
    if (it != connected_.end() && it->second.channel != channel) {
      DXLOG(WARNING) << "agent " << id
                     << " connected again; closing its older stream";
      it->second.channel->Close(
          absl::StrCat("agent ", id, " reconnected while the job ran"));
    }
    connected_[id] = Entry{info, channel};
  }
  absl::Status s = catalog_->UpsertAgent(info);
  if (!s.ok()) DXLOG(ERROR) << s.message();
  DXLOG(INFO) << "agent " << id << " registered (" << hello.component()
              << ", release " << hello.release() << ", " << hello.volumes_size()
              << " volumes)";
  return id;
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
  catalog_->UpsertAgent(info).IgnoreError();
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

std::vector<v1::AgentInfo> AgentRegistry::AllAgents() {
  std::vector<v1::AgentInfo> known;
  absl::StatusOr<std::vector<v1::AgentInfo>> stored = catalog_->ListAgents();
  if (stored.ok()) known = *stored;
  std::lock_guard<std::mutex> lock(mu_);
  for (v1::AgentInfo& agent : known) {
    auto it = connected_.find(agent.id());
    if (it != connected_.end()) {
      agent = it->second.info;
      agent.set_connected(true);
    } else {
      agent.set_connected(false);
    }
  }
  return known;
}

std::vector<v1::AgentInfo> AgentRegistry::KnownAgentsOf(
    const std::string& namespace_, const std::string& release,
    int64_t max_age_seconds) {
  std::vector<v1::AgentInfo> out;
  const int64_t now = clock_->NowUnix();
  for (v1::AgentInfo& agent : AllAgents()) {
    if (agent.namespace_() != namespace_ || agent.release() != release)
      continue;
    if (agent.connected() || now - agent.last_seen_unix() <= max_age_seconds) {
      out.push_back(std::move(agent));
    }
  }
  return out;
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
