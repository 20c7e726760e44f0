// EscapeToUtf8 makes any byte string valid UTF-8, losslessly: a backslash
// becomes "\\" and each byte that is not part of a valid UTF-8 sequence
// becomes "\xHH". Valid UTF-8 without backslashes comes back unchanged, so
// ordinary file names read as they are. Protobuf strings must be UTF-8;
// file names on Linux need not be.
#ifndef DXBACKUP_COMMON_UTF8_ESCAPE_H_
#define DXBACKUP_COMMON_UTF8_ESCAPE_H_

#include <string>
#include <string_view>

namespace dxbackup::common {

std::string EscapeToUtf8(std::string_view bytes);

}  // namespace dxbackup::common

#endif  // DXBACKUP_COMMON_UTF8_ESCAPE_H_
