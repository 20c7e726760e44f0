// The text forms S3 requests are made of, as Signature Version 4 defines
// them: libcurl (CURLOPT_AWS_SIGV4) signs a request from its URL as given,
// so the URL must already be in canonical form — every path segment and
// query value percent-encoded per RFC 3986 (unreserved characters kept,
// upper-case hex), query parameters sorted by name, and a parameter
// without a value written "name=". S3 canonicalises what it receives the
// same way; a URL in any other form fails with SignatureDoesNotMatch.
#ifndef DXBACKUP_SCHEDULER_STORE_S3_S3_ENCODING_H_
#define DXBACKUP_SCHEDULER_STORE_S3_S3_ENCODING_H_

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dxbackup::scheduler::s3 {

// Percent-encodes everything but A-Z a-z 0-9 - _ . ~ (and '/' when
// `keep_slash`, for an object key in a path).
std::string UriEncode(std::string_view text, bool keep_slash);

using QueryParams = std::vector<std::pair<std::string, std::string>>;

// "a=1&b=&c=x%2Fy": encoded, sorted by encoded name then value; "" if none.
std::string CanonicalQuery(QueryParams params);

}  // namespace dxbackup::scheduler::s3

#endif  // DXBACKUP_SCHEDULER_STORE_S3_S3_ENCODING_H_
