#include "scheduler/store/s3/s3_xml.h"

#include <libxml/parser.h>
#include <libxml/tree.h>

#include <memory>
#include <mutex>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace dxbackup::scheduler::s3 {
namespace {

struct DocFree {
  void operator()(xmlDoc* doc) const { xmlFreeDoc(doc); }
};
using Doc = std::unique_ptr<xmlDoc, DocFree>;

Doc Parse(std::string_view body) {
  static std::once_flag init;
  std::call_once(init, [] { xmlInitParser(); });
  if (body.size() > (64u << 20)) return nullptr;
  return Doc(xmlReadMemory(
      body.data(), static_cast<int>(body.size()), "s3-response.xml", nullptr,
      XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING));
}

bool Named(const xmlNode* node, const char* name) {
  return node->type == XML_ELEMENT_NODE &&
         xmlStrcmp(node->name, reinterpret_cast<const xmlChar*>(name)) == 0;
}

// The root element if it is `name`.
const xmlNode* Root(const Doc& doc, const char* name) {
  if (!doc) return nullptr;
  const xmlNode* root = xmlDocGetRootElement(doc.get());
  return root != nullptr && Named(root, name) ? root : nullptr;
}

const xmlNode* Child(const xmlNode* parent, const char* name) {
  for (const xmlNode* n = parent->children; n != nullptr; n = n->next) {
    if (Named(n, name)) return n;
  }
  return nullptr;
}

std::string Text(const xmlNode* node) {
  if (node == nullptr) return "";
  xmlChar* text = xmlNodeGetContent(node);
  std::string out = text ? reinterpret_cast<const char*>(text) : "";
  xmlFree(text);
  return out;
}

std::string ChildText(const xmlNode* parent, const char* name) {
  return Text(Child(parent, name));
}

absl::Status NotA(const char* what) {
  return absl::InvalidArgumentError(
      absl::StrCat("the S3 server's answer is not a ", what, " document"));
}

struct TextWriter {
  Doc doc{xmlNewDoc(reinterpret_cast<const xmlChar*>("1.0"))};
  xmlNode* root = nullptr;

  explicit TextWriter(const char* root_name) {
    root = xmlNewNode(nullptr, reinterpret_cast<const xmlChar*>(root_name));
    xmlDocSetRootElement(doc.get(), root);
    xmlNewNs(root,
             reinterpret_cast<const xmlChar*>(
                 "http://s3.amazonaws.com/doc/2006-03-01/"),
             nullptr);
  }
  // A child of `parent` holding `text` (escaped by libxml2).
  xmlNode* Add(xmlNode* parent, const char* name, const std::string& text) {
    return xmlNewTextChild(
        parent, nullptr, reinterpret_cast<const xmlChar*>(name),
        text.empty() ? nullptr
                     : reinterpret_cast<const xmlChar*>(text.c_str()));
  }
  std::string Dump() {
    xmlChar* out = nullptr;
    int size = 0;
    xmlDocDumpMemoryEnc(doc.get(), &out, &size, "UTF-8");
    std::string text(reinterpret_cast<const char*>(out), size);
    xmlFree(out);
    return text;
  }
};

}  // namespace

std::optional<ErrorBody> ParseError(std::string_view body) {
  Doc doc = Parse(body);
  const xmlNode* root = Root(doc, "Error");
  if (root == nullptr) return std::nullopt;
  return ErrorBody{ChildText(root, "Code"), ChildText(root, "Message")};
}

absl::StatusOr<std::string> ParseUploadId(std::string_view body) {
  Doc doc = Parse(body);
  const xmlNode* root = Root(doc, "InitiateMultipartUploadResult");
  std::string id = root ? ChildText(root, "UploadId") : "";
  if (id.empty()) return NotA("InitiateMultipartUploadResult");
  return id;
}

absl::StatusOr<ObjectPage> ParseListObjectsV2(std::string_view body) {
  Doc doc = Parse(body);
  const xmlNode* root = Root(doc, "ListBucketResult");
  if (root == nullptr) return NotA("ListBucketResult");
  ObjectPage page;
  for (const xmlNode* n = root->children; n != nullptr; n = n->next) {
    if (!Named(n, "Contents")) continue;
    ListedObject object;
    object.key = ChildText(n, "Key");
    if (object.key.empty() ||
        !absl::SimpleAtoi(ChildText(n, "Size"), &object.size)) {
      return NotA("ListBucketResult (an entry without key or size)");
    }
    page.objects.push_back(std::move(object));
  }
  if (ChildText(root, "IsTruncated") == "true") {
    page.next_continuation_token = ChildText(root, "NextContinuationToken");
    if (page.next_continuation_token.empty()) {
      return NotA("ListBucketResult (truncated without a continuation token)");
    }
  }
  return page;
}

absl::StatusOr<UploadPage> ParseListMultipartUploads(std::string_view body) {
  Doc doc = Parse(body);
  const xmlNode* root = Root(doc, "ListMultipartUploadsResult");
  if (root == nullptr) return NotA("ListMultipartUploadsResult");
  UploadPage page;
  for (const xmlNode* n = root->children; n != nullptr; n = n->next) {
    if (!Named(n, "Upload")) continue;
    ListedUpload upload{ChildText(n, "Key"), ChildText(n, "UploadId")};
    if (upload.key.empty() || upload.upload_id.empty()) {
      return NotA("ListMultipartUploadsResult (an upload without key or id)");
    }
    page.uploads.push_back(std::move(upload));
  }
  page.truncated = ChildText(root, "IsTruncated") == "true";
  page.next_key_marker = ChildText(root, "NextKeyMarker");
  page.next_upload_id_marker = ChildText(root, "NextUploadIdMarker");
  if (page.truncated && page.next_key_marker.empty()) {
    return NotA("ListMultipartUploadsResult (truncated without a marker)");
  }
  return page;
}

absl::StatusOr<std::vector<DeleteFailure>> ParseDeleteResult(
    std::string_view body) {
  Doc doc = Parse(body);
  const xmlNode* root = Root(doc, "DeleteResult");
  if (root == nullptr) return NotA("DeleteResult");
  std::vector<DeleteFailure> failures;
  for (const xmlNode* n = root->children; n != nullptr; n = n->next) {
    if (!Named(n, "Error")) continue;
    failures.push_back(DeleteFailure{ChildText(n, "Key"), ChildText(n, "Code"),
                                     ChildText(n, "Message")});
  }
  return failures;
}

absl::StatusOr<bool> ParseObjectLockEnabled(std::string_view body) {
  Doc doc = Parse(body);
  const xmlNode* root = Root(doc, "ObjectLockConfiguration");
  if (root == nullptr) return NotA("ObjectLockConfiguration");
  return ChildText(root, "ObjectLockEnabled") == "Enabled";
}

std::string CompleteMultipartUploadBody(const std::vector<std::string>& etags) {
  TextWriter w("CompleteMultipartUpload");
  for (size_t i = 0; i < etags.size(); ++i) {
    xmlNode* part = w.Add(w.root, "Part", "");
    w.Add(part, "PartNumber", std::to_string(i + 1));
    w.Add(part, "ETag", etags[i]);
  }
  return w.Dump();
}

std::string DeleteObjectsBody(const std::vector<std::string>& keys) {
  TextWriter w("Delete");
  w.Add(w.root, "Quiet", "true");
  for (const std::string& key : keys) {
    xmlNode* object = w.Add(w.root, "Object", "");
    w.Add(object, "Key", key);
  }
  return w.Dump();
}

}  // namespace dxbackup::scheduler::s3
