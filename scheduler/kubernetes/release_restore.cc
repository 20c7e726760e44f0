#include "scheduler/kubernetes/release_restore.h"

#include <yaml-cpp/yaml.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/resource_names.h"
#include "scheduler/kubernetes/kube_client.h"

namespace dxbackup::scheduler {
namespace {

// `node` into the emitter as it was written: a quoted scalar stays a
// quoted string ("true", "1"), a plain one (a bool, a number) plain.
void EmitNode(const YAML::Node& node, YAML::Emitter& out) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      out << YAML::BeginMap;
      for (const auto& field : node) {
        out << YAML::Key << YAML::DoubleQuoted << field.first.Scalar()
            << YAML::Value;
        EmitNode(field.second, out);
      }
      out << YAML::EndMap;
      break;
    case YAML::NodeType::Sequence:
      out << YAML::BeginSeq;
      for (const auto& item : node) EmitNode(item, out);
      out << YAML::EndSeq;
      break;
    case YAML::NodeType::Scalar:
      if (node.Tag() == "!") {
        out << YAML::DoubleQuoted << node.Scalar();
      } else {
        out << node.Scalar();
      }
      break;
    default:
      out << YAML::Null;
  }
}

}  // namespace

absl::StatusOr<std::vector<ObjectToCreate>> ObjectsToCreate(
    const std::string& yaml, const std::string& to_namespace,
    bool with_helm_release) {
  std::vector<YAML::Node> documents;
  try {
    documents = YAML::LoadAll(yaml);
  } catch (const YAML::Exception& e) {
    return absl::DataLossError(
        absl::StrCat("the stored Kubernetes objects are not YAML: ", e.what()));
  }
  std::vector<ObjectToCreate> out;
  for (YAML::Node& doc : documents) {
    if (!doc.IsMap()) continue;
    const std::string kind = doc["kind"] ? doc["kind"].Scalar() : "";
    const std::string name = doc["metadata"] && doc["metadata"]["name"]
                                 ? doc["metadata"]["name"].Scalar()
                                 : "";
    if ((kind != "Secret" && kind != "ConfigMap") ||
        !common::CheckDnsSubdomain("name", name).ok()) {
      return absl::DataLossError(absl::StrCat(
          "the stored Kubernetes objects hold a document that is no Secret or "
          "ConfigMap with a name (kind \"",
          kind, "\")"));
    }
    if (!with_helm_release && doc["type"] &&
        doc["type"].Scalar() == "helm.sh/release.v1") {
      continue;
    }
    doc["metadata"]["namespace"] = to_namespace;
    YAML::Emitter emitter;
    EmitNode(doc, emitter);
    out.push_back(
        {kind == "Secret" ? "secrets" : "configmaps", name, emitter.c_str()});
  }
  return out;
}

absl::Status RestoreReleaseObjects(const v1::KubernetesApi& api,
                                   const std::string& yaml,
                                   const std::string& to_namespace,
                                   bool with_helm_release, std::string* log) {
  if (absl::Status s = common::CheckDnsLabel("namespace", to_namespace);
      !s.ok()) {
    return s;
  }
  absl::StatusOr<std::vector<ObjectToCreate>> objects =
      ObjectsToCreate(yaml, to_namespace, with_helm_release);
  if (!objects.ok()) return objects.status();
  absl::StatusOr<KubeClient> client = KubeClient::For(api);
  if (!client.ok()) return client.status();
  std::vector<std::string> created, existing;
  for (const ObjectToCreate& object : *objects) {
    absl::StatusOr<bool> made = client->Create(
        absl::StrCat("/api/v1/namespaces/", to_namespace, "/", object.resource),
        object.yaml);
    if (!made.ok()) return made.status();
    (*made ? created : existing)
        .push_back(absl::StrCat(object.resource, "/", object.name));
  }
  *log =
      absl::StrCat("created ", created.size(), " objects in ", to_namespace,
                   existing.empty() ? "" : "; left as they are (they exist): ",
                   absl::StrJoin(existing, ", "));
  return absl::OkStatus();
}

}  // namespace dxbackup::scheduler
