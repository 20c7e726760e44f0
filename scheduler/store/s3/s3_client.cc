#include "scheduler/store/s3/s3_client.h"

#include <curl/curl.h>
#include <openssl/evp.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <mutex>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/backoff.h"
#include "common/log.h"
#include "common/sha256.h"

namespace dxbackup::scheduler::s3 {

// What one call sends.
struct S3Client::Request {
  Request(const char* operation, const char* method, std::string_view key = {})
      : operation(operation), method(method), key(key) {}

  const char* operation;  // "UploadPart", for messages
  const char* method;     // "GET", "HEAD", "PUT", "POST", "DELETE"
  std::string key;        // "" for the bucket itself
  QueryParams query;
  std::string_view body;
  Headers headers;
  size_t max_response_bytes = 16u << 20;
  // For a write whose answer may be lost after the work was done (PutObject,
  // CompleteMultipartUpload): whether the object is already there, whole.
  // Asked before each retry and before giving up, so a write is never done
  // twice and never reported failed when it is in fact stored.
  std::function<bool()> stored;
};

struct S3Client::Response {
  long status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // names in lower case
};

namespace {

constexpr char kEmptySha256[] =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

void InitCurlOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

std::string Sha256Hex(std::string_view data) {
  if (data.empty()) return kEmptySha256;
  common::Sha256 digest;
  digest.Update(data);
  return digest.HexDigest();
}

std::string Md5Base64(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  EVP_Digest(data.data(), data.size(), md, &md_len, EVP_md5(), nullptr);
  unsigned char out[64];
  int n = EVP_EncodeBlock(out, md, static_cast<int>(md_len));
  return std::string(reinterpret_cast<char*>(out), n);
}

// The body of an answer. `limit` bounds a successful answer's body (a
// ranged GET's length); an error's XML body may always be read whole (it
// is small, and a short range must not turn a 503 into an overflow).
struct Receiver {
  CURL* curl;
  std::string* body;
  size_t limit;
  bool overflow = false;
};

constexpr size_t kMaxErrorBody = 64 << 10;

size_t OnBody(char* data, size_t size, size_t count, void* user) {
  auto* r = static_cast<Receiver*>(user);
  const size_t n = size * count;
  long status = 0;
  curl_easy_getinfo(r->curl, CURLINFO_RESPONSE_CODE, &status);
  const size_t limit = status >= 200 && status < 300
                           ? r->limit
                           : std::max(r->limit, kMaxErrorBody);
  if (r->body->size() + n > limit) {
    r->overflow = true;
    return 0;  // aborts the transfer
  }
  r->body->append(data, n);
  return n;
}

size_t OnHeader(char* data, size_t size, size_t count, void* user) {
  auto* headers = static_cast<std::map<std::string, std::string>*>(user);
  const size_t n = size * count;
  std::string_view line(data, n);
  const size_t colon = line.find(':');
  if (colon != std::string_view::npos) {
    std::string name =
        absl::AsciiStrToLower(std::string(line.substr(0, colon)));
    std::string value(line.substr(colon + 1));
    absl::StripAsciiWhitespace(&value);
    (*headers)[name] = std::move(value);
  }
  return n;
}

bool RetryableCurlError(CURLcode code) {
  switch (code) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_SSL_CONNECT_ERROR:
      return true;
    default:
      return false;
  }
}

bool RetryableAnswer(long status, const std::string& code) {
  return status >= 500 || status == 429 || code == "SlowDown" ||
         code == "RequestTimeout" || code == "InternalError" ||
         code == "ServiceUnavailable";
}

}  // namespace

S3Client::S3Client(S3Location location, RetryPolicy retry)
    : location_(std::move(location)), retry_(retry) {
  InitCurlOnce();
}

S3Client::~S3Client() {
  for (void* h : idle_) curl_easy_cleanup(static_cast<CURL*>(h));
}

std::string S3Client::Describe(std::string_view key) const {
  return absl::StrCat("s3://", location_.bucket, "/", std::string(key), " at ",
                      location_.endpoint);
}

std::string S3Client::Url(std::string_view key,
                          const QueryParams& query) const {
  std::string url;
  const std::string encoded_key = UriEncode(key, /*keep_slash=*/true);
  if (location_.path_style) {
    url = absl::StrCat(location_.endpoint, "/",
                       UriEncode(location_.bucket, false), "/", encoded_key);
  } else {
    const size_t scheme_end = location_.endpoint.find("://");
    const size_t host = scheme_end == std::string::npos ? 0 : scheme_end + 3;
    url = absl::StrCat(location_.endpoint.substr(0, host), location_.bucket,
                       ".", location_.endpoint.substr(host), "/", encoded_key);
  }
  if (!query.empty()) absl::StrAppend(&url, "?", CanonicalQuery(query));
  return url;
}

void* S3Client::AcquireHandle() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!idle_.empty()) {
      void* h = idle_.back();
      idle_.pop_back();
      curl_easy_reset(static_cast<CURL*>(h));  // keeps its connections
      return h;
    }
  }
  return curl_easy_init();
}

void S3Client::ReleaseHandle(void* handle) {
  std::lock_guard<std::mutex> lock(mu_);
  idle_.push_back(handle);
}

absl::StatusOr<S3Client::Response> S3Client::SendOnce(const Request& request,
                                                      bool* retryable) {
  bool ignored = false;
  if (retryable == nullptr) retryable = &ignored;
  *retryable = false;
  CURL* curl = static_cast<CURL*>(AcquireHandle());
  if (curl == nullptr) return absl::ResourceExhaustedError("curl_easy_init");
  Response response;
  Receiver receiver{curl, &response.body, request.max_response_bytes};
  const std::string url = Url(request.key, request.query);
  const std::string sigv4 = absl::StrCat("aws:amz:", location_.region, ":s3");
  curl_slist* headers = nullptr;
  // libcurl signs the payload hash we give; S3 checks it against the body.
  headers = curl_slist_append(
      headers,
      absl::StrCat("x-amz-content-sha256: ", Sha256Hex(request.body)).c_str());
  // (No header is removed with "Name:": libcurl would sign it, empty, and
  // not send it, and S3 would refuse the signature.)
  const std::string_view method = request.method;
  if (method == "PUT" || method == "POST") {
    // Said, so that libcurl does not add its form type unsigned.
    headers =
        curl_slist_append(headers, "Content-Type: application/octet-stream");
  }
  for (const std::string& h : request.headers) {
    headers = curl_slist_append(headers, h.c_str());
  }
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_AWS_SIGV4, sigv4.c_str());
  curl_easy_setopt(curl, CURLOPT_USERNAME, location_.access_key.c_str());
  curl_easy_setopt(curl, CURLOPT_PASSWORD, location_.secret_key.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 15L);
  // A transfer that moves nothing for a minute is broken (and retried).
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, 60L);
  if (!location_.ca_file.empty()) {
    curl_easy_setopt(curl, CURLOPT_CAINFO, location_.ca_file.c_str());
  }
  if (method == "HEAD") {
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  } else if (method != "GET") {
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method);
    if (method != "DELETE") {
      curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
                       static_cast<curl_off_t>(request.body.size()));
      curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.data());
    }
  }
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, OnBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &receiver);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &response.headers);
  char curl_error[CURL_ERROR_SIZE] = "";
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, curl_error);

  const CURLcode code = curl_easy_perform(curl);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
  curl_slist_free_all(headers);
  if (code != CURLE_OK) {
    curl_easy_cleanup(curl);  // its connection may be in any state
    if (receiver.overflow) {
      return absl::DataLossError(
          absl::StrCat("S3 ", request.operation, " of ", Describe(request.key),
                       ": the answer is larger than ",
                       request.max_response_bytes, " bytes"));
    }
    *retryable = RetryableCurlError(code);
    if (code == CURLE_PEER_FAILED_VERIFICATION ||
        code == CURLE_SSL_CACERT_BADFILE) {
      return absl::FailedPreconditionError(absl::StrCat(
          "S3 ", request.operation, " of ", Describe(request.key), ": ",
          curl_error[0] != '\0' ? curl_error : curl_easy_strerror(code),
          " (check the store's ca_file)"));
    }
    return absl::UnavailableError(absl::StrCat(
        "S3 ", request.operation, " of ", Describe(request.key), ": ",
        curl_error[0] != '\0' ? curl_error : curl_easy_strerror(code)));
  }
  ReleaseHandle(curl);
  if (response.status >= 200 && response.status < 300) return response;

  std::optional<ErrorBody> error = ParseError(response.body);
  const std::string s3_code = error ? error->code : "";
  *retryable = RetryableAnswer(response.status, s3_code);
  const std::string what = absl::StrCat(
      "S3 ", request.operation, " of ", Describe(request.key), ": HTTP ",
      response.status, s3_code.empty() ? "" : absl::StrCat(" ", s3_code),
      error && !error->message.empty() ? absl::StrCat(": ", error->message)
                                       : "");
  if (*retryable) return absl::UnavailableError(what);
  if (s3_code == "NoSuchBucket") {
    return absl::FailedPreconditionError(absl::StrCat(
        what, " (create the bucket, or fix the store's bucket setting)"));
  }
  if (response.status == 404) return absl::NotFoundError(what);
  if (response.status == 403) {
    return absl::PermissionDeniedError(absl::StrCat(
        what,
        s3_code == "InvalidAccessKeyId" || s3_code == "SignatureDoesNotMatch"
            ? " (check the store's access_key_file and secret_key_file)"
            : ""));
  }
  return absl::FailedPreconditionError(what);
}

absl::StatusOr<S3Client::Response> S3Client::Send(const Request& request) {
  common::Backoff backoff(retry_.initial_backoff, retry_.max_backoff);
  absl::Status last;
  for (int attempt = 1; attempt <= retry_.attempts; ++attempt) {
    bool retryable = false;
    absl::StatusOr<Response> response = SendOnce(request, &retryable);
    if (response.ok()) return response;
    if (request.stored && request.stored()) {
      DXLOG(WARNING) << response.status().message()
                     << "; but the object is stored whole: done";
      Response done;
      done.status = 200;
      return done;
    }
    if (!retryable) return response;
    last = response.status();
    if (attempt < retry_.attempts) {
      auto delay = backoff.Next();
      DXLOG(WARNING) << last.message() << "; retrying in " << delay.count()
                     << " ms (attempt " << attempt + 1 << " of "
                     << retry_.attempts << ")";
      std::this_thread::sleep_for(delay);
    }
  }
  return absl::UnavailableError(absl::StrCat(last.message(), " (gave up after ",
                                             retry_.attempts, " attempts)"));
}

absl::Status S3Client::CheckBucket() {
  Request r("ListObjectsV2", "GET");
  r.query = {{"list-type", "2"}, {"max-keys", "1"}};
  return Send(r).status();
}

absl::StatusOr<bool> S3Client::ObjectLockEnabled() {
  Request r("GetObjectLockConfiguration", "GET");
  r.query = {{"object-lock", ""}};
  absl::StatusOr<Response> response = Send(r);
  if (absl::IsNotFound(response.status())) return false;
  if (!response.ok()) return response.status();
  return ParseObjectLockEnabled(response->body);
}

absl::Status S3Client::PutObject(std::string_view key, std::string_view data,
                                 const Headers& headers) {
  Request r("PutObject", "PUT", key);
  r.body = data;
  r.headers = headers;
  r.headers.push_back("Content-MD5: " + Md5Base64(data));
  r.stored = [this, key, size = data.size()] { return Holds(key, size); };
  return Send(r).status();
}

absl::StatusOr<std::string> S3Client::CreateMultipartUpload(
    std::string_view key, const Headers& headers) {
  Request r("CreateMultipartUpload", "POST", key);
  r.query = {{"uploads", ""}};
  r.headers = headers;
  absl::StatusOr<Response> response = Send(r);
  if (!response.ok()) return response.status();
  return ParseUploadId(response->body);
}

absl::StatusOr<std::string> S3Client::UploadPart(std::string_view key,
                                                 std::string_view upload_id,
                                                 int part_number,
                                                 std::string_view data) {
  Request r("UploadPart", "PUT", key);
  r.query = {{"partNumber", std::to_string(part_number)},
             {"uploadId", std::string(upload_id)}};
  r.body = data;
  r.headers.push_back("Content-MD5: " + Md5Base64(data));
  absl::StatusOr<Response> response = Send(r);
  if (!response.ok()) return response.status();
  auto etag = response->headers.find("etag");
  if (etag == response->headers.end() || etag->second.empty()) {
    return absl::DataLossError(absl::StrCat("S3 UploadPart of ", Describe(key),
                                            ": the answer has no ETag"));
  }
  return etag->second;
}

bool S3Client::Holds(std::string_view key, uint64_t size) {
  Request r("HeadObject", "HEAD", key);
  absl::StatusOr<Response> response = SendOnce(r, /*retryable=*/nullptr);
  if (!response.ok()) return false;
  auto length = response->headers.find("content-length");
  uint64_t stored = 0;
  return length != response->headers.end() &&
         absl::SimpleAtoi(length->second, &stored) && stored == size;
}

absl::Status S3Client::CompleteMultipartUpload(
    std::string_view key, std::string_view upload_id,
    const std::vector<std::string>& etags, uint64_t size) {
  const std::string body = CompleteMultipartUploadBody(etags);
  Request r("CompleteMultipartUpload", "POST", key);
  r.query = {{"uploadId", std::string(upload_id)}};
  r.body = body;
  r.stored = [this, key, size] { return Holds(key, size); };
  // S3 may answer 200 and report an error in the body (it sends the status
  // before the work ends); such an InternalError is retried like a 500.
  common::Backoff backoff(retry_.initial_backoff, retry_.max_backoff);
  for (int attempt = 1;; ++attempt) {
    absl::StatusOr<Response> response = Send(r);
    if (!response.ok()) return response.status();
    std::optional<ErrorBody> error = ParseError(response->body);
    if (!error) return absl::OkStatus();
    const std::string what =
        absl::StrCat("S3 CompleteMultipartUpload of ", Describe(key), ": ",
                     error->code, ": ", error->message);
    if (!RetryableAnswer(200, error->code) || attempt >= retry_.attempts) {
      return absl::UnavailableError(what);
    }
    std::this_thread::sleep_for(backoff.Next());
  }
}

absl::Status S3Client::AbortMultipartUpload(std::string_view key,
                                            std::string_view upload_id) {
  Request r("AbortMultipartUpload", "DELETE", key);
  r.query = {{"uploadId", std::string(upload_id)}};
  absl::Status st = Send(r).status();
  return absl::IsNotFound(st) ? absl::OkStatus() : st;  // already gone
}

absl::StatusOr<std::vector<ListedUpload>> S3Client::ListMultipartUploads(
    std::string_view prefix) {
  std::vector<ListedUpload> uploads;
  std::string key_marker, upload_id_marker;
  for (;;) {
    Request r("ListMultipartUploads", "GET");
    r.query = {{"uploads", ""},
               {"max-uploads", std::to_string(list_page_size_)},
               {"prefix", std::string(prefix)}};
    if (!key_marker.empty()) {
      r.query.push_back({"key-marker", key_marker});
      r.query.push_back({"upload-id-marker", upload_id_marker});
    }
    absl::StatusOr<Response> response = Send(r);
    if (!response.ok()) return response.status();
    absl::StatusOr<UploadPage> page = ParseListMultipartUploads(response->body);
    if (!page.ok()) return page.status();
    for (ListedUpload& u : page->uploads) uploads.push_back(std::move(u));
    if (!page->truncated) return uploads;
    key_marker = page->next_key_marker;
    upload_id_marker = page->next_upload_id_marker;
  }
}

absl::StatusOr<uint64_t> S3Client::HeadObject(std::string_view key) {
  Request r("HeadObject", "HEAD", key);
  absl::StatusOr<Response> response = Send(r);
  if (!response.ok()) return response.status();
  uint64_t size = 0;
  auto length = response->headers.find("content-length");
  if (length == response->headers.end() ||
      !absl::SimpleAtoi(length->second, &size)) {
    return absl::DataLossError(
        absl::StrCat("S3 HeadObject of ", Describe(key),
                     ": no Content-Length in the answer"));
  }
  return size;
}

absl::StatusOr<std::string> S3Client::GetRange(std::string_view key,
                                               uint64_t offset,
                                               uint64_t length) {
  Request r("GetObject", "GET", key);
  r.headers.push_back(
      absl::StrCat("Range: bytes=", offset, "-", offset + length - 1));
  r.max_response_bytes = length;
  absl::StatusOr<Response> response = Send(r);
  if (!response.ok()) return response.status();
  if (response->status != 206 && offset != 0) {
    return absl::DataLossError(absl::StrCat(
        "S3 GetObject of ", Describe(key),
        ": the server ignored the byte range (HTTP ", response->status, ")"));
  }
  return std::move(response->body);
}

absl::StatusOr<std::vector<ListedObject>> S3Client::ListObjects(
    std::string_view prefix) {
  std::vector<ListedObject> objects;
  std::string token;
  for (;;) {
    Request r("ListObjectsV2", "GET");
    r.query = {{"list-type", "2"},
               {"max-keys", std::to_string(list_page_size_)},
               {"prefix", std::string(prefix)}};
    if (!token.empty()) r.query.push_back({"continuation-token", token});
    absl::StatusOr<Response> response = Send(r);
    if (!response.ok()) return response.status();
    absl::StatusOr<ObjectPage> page = ParseListObjectsV2(response->body);
    if (!page.ok()) return page.status();
    for (ListedObject& o : page->objects) objects.push_back(std::move(o));
    if (page->next_continuation_token.empty()) return objects;
    token = std::move(page->next_continuation_token);
  }
}

absl::Status S3Client::DeleteObject(std::string_view key) {
  Request r("DeleteObject", "DELETE", key);
  absl::Status st = Send(r).status();
  return absl::IsNotFound(st) ? absl::OkStatus() : st;
}

absl::Status S3Client::DeleteObjects(const std::vector<std::string>& keys) {
  for (size_t start = 0; start < keys.size(); start += 1000) {
    std::vector<std::string> batch(
        keys.begin() + start,
        keys.begin() + std::min(keys.size(), start + 1000));
    const std::string body = DeleteObjectsBody(batch);
    Request r("DeleteObjects", "POST");
    r.query = {{"delete", ""}};
    r.body = body;
    r.headers.push_back("Content-MD5: " + Md5Base64(body));
    absl::StatusOr<Response> response = Send(r);
    if (!response.ok()) return response.status();
    absl::StatusOr<std::vector<DeleteFailure>> failures =
        ParseDeleteResult(response->body);
    if (!failures.ok()) return failures.status();
    if (!failures->empty()) {
      const DeleteFailure& f = failures->front();
      return absl::FailedPreconditionError(absl::StrCat(
          "S3 DeleteObjects: ", failures->size(), " key(s) not deleted; ",
          Describe(f.key), ": ", f.code, ": ", f.message));
    }
  }
  return absl::OkStatus();
}

}  // namespace dxbackup::scheduler::s3
